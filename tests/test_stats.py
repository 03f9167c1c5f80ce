"""The one spread of the book: a sample standard deviation, against statistics.stdev."""

import statistics

import pytest

from makemore.stats import mean_std


def test_mean_std_is_the_sample_standard_deviation():
    values = [2.1662, 2.1655, 2.1671, 2.1649]
    mean, std = mean_std(values)
    assert mean == pytest.approx(statistics.fmean(values), abs=1e-15)
    assert std == pytest.approx(statistics.stdev(values), rel=1e-12)


def test_one_value_has_no_spread():
    with pytest.raises(ValueError, match="at least two"):
        mean_std([1.0])
