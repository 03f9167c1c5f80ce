"""Summaries of repeated runs: the one place the package computes a spread.

A recipe trained with several seeds ends at several losses. The book reports them as a mean and
a *sample* standard deviation (divided by n - 1: the seeds are a sample of the seeds one could
have drawn, and the mean they give is itself estimated from them). Every page, figure and record
that shows a spread takes it from here, so the book uses one definition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) of at least two numbers."""
    xs = [float(v) for v in values]
    if len(xs) < 2:
        raise ValueError(f"a spread needs at least two values, got {len(xs)}")
    mean = sum(xs) / len(xs)
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
