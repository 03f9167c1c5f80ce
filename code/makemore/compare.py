"""One rule for every comparison the book makes between two trained configurations.

The rule, in plain words (the glossary and the results page quote it):

    Two configurations are trained on the same seeds, seed i giving both runs the same
    minibatch order and as much of the same initialisation as their shapes share (common
    random numbers): the luck of a seed moves both losses together, and cancels in their
    difference. For each seed we take the difference of the two losses, a - b (lower is
    better), and give its mean with a 95% confidence interval from Student's t distribution
    with n - 1 degrees of freedom: with a handful of seeds the spread is itself a guess, and
    the t interval is wider for it (3.18 standard errors for 4 seeds, not the normal's 1.96).
    If the whole interval is below zero, a is *ahead*; if it is above zero, a is *behind*;
    if it contains zero, the two are *a tie*: the difference is inside the seed-to-seed
    noise. A tie does not say the two are equal; it says these seeds cannot tell which is
    better. The rule cannot see a true difference smaller than the interval's half-width
    (more seeds narrow it), it speaks only of the recipe as run (its steps, its split), and
    two equal configurations are still called ahead or behind about once in twenty
    comparisons. Configurations that cannot share seeds are compared unpaired, with Welch's
    interval, which is wider. One run is not a comparison: each side needs two seeds or more.

A *claim* (`claim`) is a sentence of the book that rests on a verdict: it names the verdict
word the prose needs, fails the build (ClaimError) when the evidence stops backing it, glues
the verdict for the prose to quote, and is kept in a list (`claims_table`) from which a page of
every claim the book makes can be drawn.

References: Student (1908), "The probable error of a mean", Biometrika 6; Welch (1947), "The
generalization of 'Student's' problem when several different population variances are
involved", Biometrika 34; common random numbers: Law & Kelton, "Simulation Modeling and
Analysis", the variance-reduction chapter. scipy.stats.t, scipy.stats.ttest_ind.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from myst_nb import glue
from scipy import stats as scipy_stats

from makemore.publish import table
from makemore.stats import mean_std

CLAIM = "claim."  # a claim is glued whole, as JSON, under this prefix + its key
LEVEL = 0.95  # the confidence of every interval the book draws
WORDS = ("ahead", "behind", "tie")  # a against b: lower loss, higher loss, inside the noise
MINUS = "\u2212"  # the typographic minus, in every text a verdict renders


class ClaimError(AssertionError):
    """A sentence of the book that its evidence no longer backs."""


# -----------------------------------------------------------------------------
# the verdict


@dataclass(frozen=True)
class Verdict:
    """a against b, lower is better: the mean difference and its 95% interval, in words."""

    a_name: str
    b_name: str
    n: int  # seeds (paired: pairs; unpaired: a's runs)
    mean_a: float
    mean_b: float
    diff: float  # mean of a - b: negative when a's loss is lower
    low: float  # the 95% interval of the true mean difference a - b
    high: float
    word: str  # "ahead", "behind" or "tie"
    paired: bool = True
    n_b: int | None = None  # unpaired: b's runs
    fixed: bool = False  # b is one loss with no seed (compare_fixed)

    def seeds(self) -> str:
        if self.fixed:
            return f"{self.n} seeds against one fixed loss"
        if self.paired:
            return f"{self.n} paired seeds"
        return f"{self.n} seeds against {self.n_b}, unpaired"

    def text(self, decimals: int = 4) -> str:
        """A sentence fragment for "a is ...": the lead (ahead, behind) or the gap (tie), with
        the interval of that quantity: b - a when ahead, a - b otherwise."""
        def f(x: float) -> str:
            return _number(x, decimals)

        level = f"{LEVEL:.0%}"
        if self.word == "ahead":
            return (f"ahead by {f(-self.diff)} ({level} interval {f(-self.high)} to "
                    f"{f(-self.low)}, {self.seeds()})")
        if self.word == "behind":
            return (f"behind by {f(self.diff)} ({level} interval {f(self.low)} to "
                    f"{f(self.high)}, {self.seeds()})")
        return (f"a tie: {f(abs(self.diff))} apart, inside the noise ({level} interval "
                f"{f(self.low)} to {f(self.high)}, {self.seeds()})")


def _number(x: float, decimals: int) -> str:
    """x with fixed decimals and a typographic minus; never a minus zero."""
    s = f"{x:.{decimals}f}"
    if s.startswith("-"):
        s = s[1:] if float(s) == 0 else MINUS + s[1:]
    return s


def _word(low: float, high: float) -> str:
    return "ahead" if high < 0 else "behind" if low > 0 else "tie"


def _losses(values: Iterable[float], name: str) -> list[float]:
    xs = [float(v) for v in values]
    if len(xs) < 2:
        raise ValueError(f"{name}: a comparison needs at least two seeds, got {len(xs)}")
    if not all(math.isfinite(x) for x in xs):
        raise ValueError(f"{name}: a loss is not finite: {xs}")
    return xs


def compare_paired(
    a: Sequence[float] | Mapping[int, float],
    b: Sequence[float] | Mapping[int, float],
    a_name: str = "a",
    b_name: str = "b",
) -> Verdict:
    """The verdict on a against b run on the same seeds: a[i] and b[i] share seed i.

    Given two mappings seed -> loss, their seeds must be the same (the pairs are matched by
    seed). The interval is mean(d) +- t_{n-1}(0.975) * sd(d) / sqrt(n) for d = a - b, sd the
    sample standard deviation (makemore.stats), t from scipy.stats.t.
    """
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)) or set(a) != set(b):
            raise ValueError(f"paired seeds differ: {a_name} has {sorted(a)}, "
                             f"{b_name} has {sorted(b)}")
        seeds = sorted(a)
        a, b = [a[s] for s in seeds], [b[s] for s in seeds]
    xa, xb = _losses(a, a_name), _losses(b, b_name)
    if len(xa) != len(xb):
        raise ValueError(f"paired runs need the same seeds: {len(xa)} for {a_name}, "
                         f"{len(xb)} for {b_name}")
    n = len(xa)
    diff, sd = mean_std(x - y for x, y in zip(xa, xb, strict=True))
    half = scipy_stats.t.ppf(0.5 + LEVEL / 2, n - 1) * sd / math.sqrt(n)
    low, high = diff - half, diff + half
    return Verdict(a_name, b_name, n, mean_std(xa)[0], mean_std(xb)[0], diff, float(low),
                   float(high), _word(low, high))


def compare_fixed(
    a: Sequence[float], b: float, a_name: str = "a", b_name: str = "b"
) -> Verdict:
    """The verdict on a, run on several seeds, against one loss b that has no seed (a table of
    counts: the same number whatever the seed). This is compare_paired with b's loss on every
    seed: the differences a[i] - b move only with a's seeds, so the interval is the one-sample
    t interval of a's mean around b, and the verdict says it was drawn against a fixed loss."""
    xa = _losses(a, a_name)
    verdict = compare_paired(xa, [float(b)] * len(xa), a_name, b_name)
    return replace(verdict, fixed=True)


def compare_unpaired(
    a: Sequence[float], b: Sequence[float], a_name: str = "a", b_name: str = "b"
) -> Verdict:
    """The verdict on a against b run on different seeds: Welch's interval for the difference
    of the means (scipy.stats.ttest_ind with equal_var=False), wider than a paired one."""
    xa, xb = _losses(a, a_name), _losses(b, b_name)
    mean_a, sd_a = mean_std(xa)
    mean_b, sd_b = mean_std(xb)
    diff = mean_a - mean_b
    if sd_a == 0 and sd_b == 0:  # no spread on either side: scipy's interval is undefined
        low = high = diff
    else:
        ci = scipy_stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(LEVEL)
        low, high = float(ci.low), float(ci.high)
    return Verdict(a_name, b_name, len(xa), mean_a, mean_b, diff, low, high, _word(low, high),
                   paired=False, n_b=len(xb))


# -----------------------------------------------------------------------------
# claims: sentences that rest on a verdict


@dataclass(frozen=True)
class Claim:
    """One sentence's comparison, as the claims page lists it."""

    key: str  # the glue key the prose quotes
    a_name: str
    b_name: str
    word: str  # what the evidence says
    expect: tuple[str, ...]  # what the sentence needs
    diff: float
    low: float
    high: float
    n: int
    paired: bool
    text: str
    page: str | None  # the page the sentence is on, when known
    steps: int | None = None  # the training steps of every run compared (None: no training)


CLAIMS: dict[str, Claim] = {}  # this kernel's claims, by key (a cell run again replaces its own)


def claim(key: str, verdict: Verdict, expect: str | Iterable[str], page: str | None = None,
          steps: int | None = None) -> Verdict:
    """Back a sentence with a verdict: check it, glue it, keep it.

    Raises ClaimError, naming the key and the numbers, when the verdict word is not one the
    sentence can say (`expect`: "ahead", "behind", "tie", or a set of them). Otherwise glues
    `key` (the verdict's text, for {glue:text}), `key.diff`, `key.low`, `key.high` (floats)
    and `key.n` (an int), and records the claim for `claims_table`. `steps` is the budget
    every compared run got, in training steps (equal by construction: the protocol trains both
    sides for the same steps); None when nothing was trained (a table of counts, a sampler).
    """
    expected = (expect,) if isinstance(expect, str) else tuple(sorted(set(expect)))
    unknown = set(expected) - set(WORDS)
    if not expected or unknown:
        raise ValueError(f"claim {key!r}: expect one of {WORDS}, got {expect!r}")
    if verdict.word not in expected:
        raise ClaimError(
            f"claim {key!r}: the sentence needs {verdict.a_name} {' or '.join(expected)} "
            f"against {verdict.b_name}, but the evidence says {verdict.word}: "
            f"{verdict.text()}; means {verdict.mean_a:.4f} and {verdict.mean_b:.4f}")
    glue(key, verdict.text(), display=False)
    glue(f"{key}.diff", float(verdict.diff), display=False)
    glue(f"{key}.low", float(verdict.low), display=False)
    glue(f"{key}.high", float(verdict.high), display=False)
    glue(f"{key}.n", int(verdict.n), display=False)
    CLAIMS[key] = Claim(key, verdict.a_name, verdict.b_name, verdict.word, expected,
                        float(verdict.diff), float(verdict.low), float(verdict.high),
                        int(verdict.n), verdict.paired, verdict.text(), page, steps)
    # the whole claim once more, for the book's page of every claim (read back from this
    # page's executed notebook, as the results page reads the records)
    glue(f"{CLAIM}{key}", json.dumps(claims_table([CLAIMS[key]])[0]), display=False)
    return verdict


def claims_table(claims: Iterable[Claim] | None = None) -> list[dict]:
    """One row (a plain dict, JSON-ready) per claim: this kernel's, or the ones given."""
    return [asdict(c) | {"expect": list(c.expect)}
            for c in (CLAIMS.values() if claims is None else claims)]


CLAIMS_HEADER = ("claim", "compared", "verdict", f"{LEVEL:.0%} interval (a − b)", "seeds",
                 "steps", "page")


def steps_text(steps: int | None) -> str:
    """A claim's budget as the claims tables print it."""
    return "–" if steps is None else f"{steps:,}"


def glue_claims(key: str, claims: Iterable[Claim] | None = None) -> None:
    """Glue the claims (this kernel's by default) as one Markdown table under `key`."""
    rows = [(f"`{r['key']}`", f"{r['a_name']} vs {r['b_name']}", r["word"],
             f"{_number(r['low'], 4)} to {_number(r['high'], 4)}",
             f"{r['n']}{'' if r['paired'] else ' (unpaired)'}", steps_text(r["steps"]),
             r["page"] or "–")
            for r in claims_table(claims)]
    table(key, CLAIMS_HEADER, rows)
