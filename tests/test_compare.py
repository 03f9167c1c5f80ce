"""makemore.compare: the book's one comparison rule, against independent computations of the
same intervals (statistics + scipy.stats.t, Welch-Satterthwaite by hand), and its claims."""

from __future__ import annotations

import json
import math
import statistics

import pytest
from scipy import stats as scipy_stats

from makemore import compare
from makemore.compare import ClaimError, claim, compare_paired, compare_unpaired

A = [2.1412, 2.1530, 2.1377, 2.1468, 2.1501]
B = [2.1560, 2.1611, 2.1549, 2.1572, 2.1663]


def _t_interval(d: list[float]) -> tuple[float, float]:
    """mean(d) +- t_{n-1}(0.975) s / sqrt(n), from the standard library's mean and stdev."""
    half = scipy_stats.t.ppf(0.975, len(d) - 1) * statistics.stdev(d) / math.sqrt(len(d))
    return statistics.fmean(d) - half, statistics.fmean(d) + half


# -----------------------------------------------------------------------------
# intervals


def test_paired_interval_is_the_t_interval_of_the_differences():
    v = compare_paired(A, B, "MLP", "bigram")
    d = [x - y for x, y in zip(A, B, strict=True)]
    low, high = _t_interval(d)
    assert (v.low, v.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    ci = scipy_stats.ttest_rel(A, B).confidence_interval(0.95)
    assert (v.low, v.high) == (pytest.approx(ci.low, abs=1e-12),
                               pytest.approx(ci.high, abs=1e-12))
    assert v.diff == pytest.approx(statistics.fmean(d), abs=1e-15)
    assert (v.mean_a, v.mean_b) == (pytest.approx(statistics.fmean(A)),
                                    pytest.approx(statistics.fmean(B)))
    assert v.n == 5 and v.paired and (v.a_name, v.b_name) == ("MLP", "bigram")


def test_a_fixed_loss_gets_the_one_sample_t_interval_and_says_so():
    v = compare.compare_fixed(A, 2.16, "MLP", "Kneser-Ney")
    ci = scipy_stats.ttest_1samp(A, 2.16).confidence_interval(0.95)
    assert (v.low, v.high) == (pytest.approx(ci.low - 2.16, abs=1e-12),
                               pytest.approx(ci.high - 2.16, abs=1e-12))
    assert v.word == "ahead" and v.fixed and v.mean_b == pytest.approx(2.16)
    assert v.text().endswith("5 seeds against one fixed loss)")
    with pytest.raises(ValueError):
        compare.compare_fixed([2.1], 2.16)


def test_unpaired_interval_is_welchs():
    a, b = A[:4], B
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch-Satterthwaite
    diff = statistics.fmean(a) - statistics.fmean(b)
    half = scipy_stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    v = compare_unpaired(a, b)
    assert v.low == pytest.approx(diff - half, abs=1e-12)
    assert v.high == pytest.approx(diff + half, abs=1e-12)
    assert (v.n, v.n_b, v.paired) == (4, 5, False)


# -----------------------------------------------------------------------------
# verdicts


def test_verdict_words_on_a_clear_lead_a_clear_loss_and_a_tie():
    base = [2.40, 2.43, 2.38, 2.42]
    lead = [x - 0.02 + e for x, e in zip(base, [0.001, -0.002, 0.0, 0.001], strict=True)]
    assert compare_paired(lead, base).word == "ahead"
    assert compare_paired(base, lead).word == "behind"
    noise = [x + e for x, e in zip(base, [0.003, -0.004, 0.002, -0.001], strict=True)]
    v = compare_paired(noise, base)
    assert v.word == "tie" and v.low < 0 < v.high


def test_paired_seeds_see_a_small_steady_difference_that_unpaired_runs_call_a_tie():
    """Common random numbers: the seed moves both losses together, so it cancels in a - b."""
    seed_luck = [0.000, 0.030, -0.020, 0.050, -0.040, 0.010]
    b = [2.10 + s for s in seed_luck]
    a = [x - 0.005 + e for x, e in zip(b, [0.0004, -0.0003, 0.0002, -0.0004, 0.0001, 0.0],
                                      strict=True)]
    assert compare_paired(a, b).word == "ahead"
    assert compare_unpaired(a, b).word == "tie"


def test_seeds_given_by_name_are_matched_by_name():
    a = dict(zip([3, 1, 2], [2.41, 2.43, 2.42], strict=True))
    b = {1: 2.46, 2: 2.44, 3: 2.45}
    v = compare_paired(a, b)
    assert v == compare_paired([2.43, 2.42, 2.41], [2.46, 2.44, 2.45])
    with pytest.raises(ValueError, match="seeds differ"):
        compare_paired(a, {1: 2.46, 2: 2.44, 4: 2.45})


def test_one_run_is_not_a_comparison():
    with pytest.raises(ValueError, match="at least two seeds"):
        compare_paired([2.1], [2.2], "MLP", "bigram")
    with pytest.raises(ValueError, match="at least two seeds"):
        compare_unpaired([2.1, 2.2], [2.2])
    with pytest.raises(ValueError, match="same seeds"):
        compare_paired([2.1, 2.2, 2.3], [2.2, 2.1])
    with pytest.raises(ValueError, match="not finite"):
        compare_paired([2.1, float("nan")], [2.2, 2.1])


def test_text_says_the_lead_or_the_gap_with_a_typographic_minus():
    v = compare.Verdict("a", "b", 4, 2.0, 2.0123, -0.0123, -0.0166, -0.0080, "ahead")
    assert v.text() == "ahead by 0.0123 (95% interval 0.0080 to 0.0166, 4 paired seeds)"
    v = compare.Verdict("a", "b", 4, 2.0123, 2.0, 0.0123, 0.0080, 0.0166, "behind")
    assert v.text() == "behind by 0.0123 (95% interval 0.0080 to 0.0166, 4 paired seeds)"
    v = compare.Verdict("a", "b", 4, 2.0012, 2.0, 0.0012, -0.0030, 0.0054, "tie")
    assert v.text() == ("a tie: 0.0012 apart, inside the noise "
                        "(95% interval \u22120.0030 to 0.0054, 4 paired seeds)")
    v = compare.Verdict("a", "b", 3, 2.0, 2.0, -0.00001, -0.00004, 0.00002, "tie", False, 5)
    assert v.text() == ("a tie: 0.0000 apart, inside the noise "  # never a minus zero
                        "(95% interval 0.0000 to 0.0000, 3 seeds against 5, unpaired)")


# -----------------------------------------------------------------------------
# claims


@pytest.fixture
def glued(monkeypatch):
    """Record what compare glues (instead of myst-nb), with a fresh list of claims."""
    calls = {}
    monkeypatch.setattr(compare, "glue", lambda key, value, display=True: calls.update(
        {key: (value, display)}))
    monkeypatch.setattr(compare, "CLAIMS", {})
    return calls


def test_a_claim_glues_its_verdict_and_is_kept(glued):
    v = compare_paired(A, B, "MLP", "bigram")
    assert claim("mlp_vs_bigram", v, "ahead", page="02_mlp") is v
    whole = glued.pop("claim.mlp_vs_bigram")  # the claim once more, for the claims page
    assert glued == {
        "mlp_vs_bigram": (v.text(), False),
        "mlp_vs_bigram.diff": (v.diff, False),
        "mlp_vs_bigram.low": (v.low, False),
        "mlp_vs_bigram.high": (v.high, False),
        "mlp_vs_bigram.n": (5, False),
    }
    assert [type(glued[k][0]) for k in sorted(glued)] == [str, float, float, float, int]
    (row,) = compare.claims_table()
    assert json.loads(whole[0]) == row
    assert row["key"] == "mlp_vs_bigram" and row["page"] == "02_mlp"
    assert (row["a_name"], row["b_name"], row["word"], row["expect"]) == (
        "MLP", "bigram", "ahead", ["ahead"])
    assert (row["low"], row["high"], row["n"]) == (v.low, v.high, 5)
    assert row["steps"] is None  # no budget given: nothing trained


def test_a_claim_the_evidence_does_not_back_fails_and_names_its_numbers(glued):
    v = compare_paired(A, B, "MLP", "bigram")
    with pytest.raises(ClaimError) as err:
        claim("mlp_ties_bigram", v, {"tie", "behind"})
    message = str(err.value)
    assert "'mlp_ties_bigram'" in message and "MLP" in message and "bigram" in message
    assert "ahead" in message and f"{-v.diff:.4f}" in message
    assert glued == {} and compare.claims_table() == []  # nothing glued, nothing kept
    with pytest.raises(ValueError, match="expect one of"):
        claim("x", v, "better")


def test_the_claims_table_is_glued_as_one_table(glued, monkeypatch):
    tables = {}
    monkeypatch.setattr(compare, "table", lambda key, header, rows: tables.update(
        {key: (header, list(rows))}))
    claim("one", compare_paired(A, B, "MLP", "bigram"), "ahead", page="02_mlp",
          steps=15_000)
    claim("two", compare_unpaired(A, B[:3], "MLP", "bigram"), {"ahead", "tie"})
    compare.glue_claims("claims_02")
    header, rows = tables["claims_02"]
    assert len(header) == len(rows[0]) and [r[0] for r in rows] == ["`one`", "`two`"]
    assert rows[1][4] == "5 (unpaired)" and rows[1][6] == "–"
    assert (rows[0][5], rows[1][5]) == ("15,000", "–")  # the budget; none when not given
