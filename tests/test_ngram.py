"""makemore.ngram: add-k and Kneser-Ney against plain-dict implementations of the textbook
formulas (Chen & Goodman 1999, section 3), and what they are worth on names.txt."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

import pytest
import torch

from makemore.data import Vocab, context_windows, split_words
from makemore.ngram import (
    K_GRID,
    counting_loss,
    kneser_ney,
    table_coverage,
    tune_add_k,
    tune_discounts,
)

WIDTH = 6  # the widest context the toy tests use


@pytest.fixture(scope="module")
def toy(toy_words):
    """Windows of the first seven toy words (training) and of the last three (dev)."""
    vocab = Vocab.from_words(toy_words)
    Xtr, Ytr = context_windows(toy_words[:7], vocab, WIDTH)
    Xdev, Ydev = context_windows(toy_words[7:], vocab, WIDTH)
    return len(vocab), Xtr, Ytr, Xdev, Ydev


def _rows(X: torch.Tensor, Y: torch.Tensor, n: int) -> list[tuple[tuple[int, ...], int]]:
    """The examples as (context of the last n characters, next) tuples."""
    return [(tuple(x[X.shape[1] - n:]), y) for x, y in zip(X.tolist(), Y.tolist(), strict=True)]


def _contexts(V: int, Xtr: torch.Tensor, Xdev: torch.Tensor) -> torch.Tensor:
    """Training contexts (seen), dev contexts (some unseen) and random ones (mostly unseen)."""
    g = torch.Generator().manual_seed(0)
    return torch.cat([Xtr[::3], Xdev, torch.randint(0, V, (40, Xtr.shape[1]), generator=g)])


# -----------------------------------------------------------------------------
# add-k


def _add_k_reference(train, test, V: int, k: float) -> float:
    """Mean NLL of (count(c, y) + k) / (count(c) + k V), counted with dicts."""
    pair = Counter(train)
    ctx = Counter(c for c, _ in train)
    return -sum(math.log((pair[(c, y)] + k) / (ctx[c] + k * V)) for c, y in test) / len(test)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_add_k_is_the_brute_force_dict_model(toy, n):
    V, Xtr, Ytr, Xdev, Ydev = toy
    train, dev = _rows(Xtr, Ytr, n), _rows(Xdev, Ydev, n)
    for k in (1e-3, 0.1, 1.0, 3.7):
        got = counting_loss(Xtr[:, -n:], Ytr, Xdev[:, -n:], Ydev, V, smoothing=k)
        assert got == pytest.approx(_add_k_reference(train, dev, V, k), rel=1e-12)


def test_tuned_k_is_the_argmin_of_the_grid(toy):
    V, Xtr, Ytr, Xdev, Ydev = toy
    n = 2
    train, dev = _rows(Xtr, Ytr, n), _rows(Xdev, Ydev, n)
    brute = {k: _add_k_reference(train, dev, V, k) for k in K_GRID}
    best = min(brute, key=brute.get)
    k, loss = tune_add_k(Xtr[:, -n:], Ytr, Xdev[:, -n:], Ydev, V, refine=0)
    assert k == best and loss == pytest.approx(brute[best], rel=1e-12)
    # refined between the best grid point's neighbours: never worse, and honestly scored
    k, loss = tune_add_k(Xtr[:, -n:], Ytr, Xdev[:, -n:], Ydev, V)
    assert loss <= brute[best] + 1e-15
    assert loss == pytest.approx(_add_k_reference(train, dev, V, k), rel=1e-12)
    i = K_GRID.index(best)
    assert K_GRID[max(i - 1, 0)] <= k <= K_GRID[min(i + 1, len(K_GRID) - 1)]


# -----------------------------------------------------------------------------
# Kneser-Ney


def _kn_reference(train, n: int, V: int, discounts):
    """Interpolated (modified) Kneser-Ney as written in Chen & Goodman, with dicts.

    Order n counts (context, next) pairs; order j < n counts, for each (c, y) with c of length
    j, the distinct characters x for which (x c, y) occurs in training. Returns p(context, y).
    """
    counts = {n: Counter(train)}
    for j in range(n - 1, -1, -1):
        before = defaultdict(set)
        for c, y in train:
            before[(c[n - j:], y)].add(c[n - j - 1])
        counts[j] = {key: len(xs) for key, xs in before.items()}

    def p(j: int, c: tuple[int, ...], y: int) -> float:
        if j < 0:
            return 1 / V
        h = c[len(c) - j:]
        row = [counts[j].get((h, w), 0) for w in range(V)]
        lower = p(j - 1, c, y)
        if sum(row) == 0:
            return lower

        def D(r: int) -> float:
            return discounts[j][min(r, 3) - 1]

        gamma = sum(D(r) for r in row if r > 0) / sum(row)
        return (max(row[y] - D(row[y]), 0) if row[y] else 0) / sum(row) + gamma * lower

    return lambda c, y: p(n, c, y)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("modified", [False, True])
def test_kneser_ney_is_the_textbook_formula(toy, n, modified):
    V, Xtr, Ytr, Xdev, Ydev = toy
    rng = random.Random(n)
    if modified:
        discounts = [tuple(rng.uniform(0.05, r) for r in (1, 2, 3)) for _ in range(n + 1)]
    else:
        discounts = [rng.uniform(0.05, 1.0) for _ in range(n + 1)]
    model = kneser_ney(Xtr[:, WIDTH - n:], Ytr, V, discounts, modified=modified)
    ref = _kn_reference(_rows(Xtr, Ytr, n), n, V,
                        discounts if modified else [(D, D, D) for D in discounts])
    X = _contexts(V, Xtr, Xdev)
    P = model.probs(X)  # (M, V)
    expected = torch.tensor([[ref(c, y) for y in range(V)] for c, _ in _rows(X, X[:, 0], n)],
                            dtype=torch.float64)
    assert torch.allclose(P, expected, rtol=1e-12, atol=0)


def test_closed_form_discount_counts_singletons_and_doubletons(toy):
    V, Xtr, Ytr, *_ = toy
    n_r = Counter(Counter(_rows(Xtr, Ytr, 3)).values())  # how many cells have each count
    model = kneser_ney(Xtr[:, -3:], Ytr, V)
    assert model.discounts[3][0] == pytest.approx(n_r[1] / (n_r[1] + 2 * n_r[2]), rel=1e-15)


@pytest.mark.parametrize("modified", [False, True])
def test_every_distribution_sums_to_one(toy, modified):
    V, Xtr, Ytr, Xdev, _ = toy
    X = _contexts(V, Xtr, Xdev)  # seen and unseen contexts
    for n in range(WIDTH + 1):
        for extreme in (False, True):  # closed-form discounts, then the largest allowed
            D = [(1.0, 2.0, 3.0) if modified else 1.0] * (n + 1) if extreme else None
            model = kneser_ney(Xtr[:, WIDTH - n:], Ytr, V, D, modified=modified)
            P = model.probs(X)
            assert (P > 0).all()
            assert torch.allclose(P.sum(1), torch.ones(len(X), dtype=torch.float64),
                                  rtol=0, atol=1e-9), (n, extreme)


@pytest.mark.parametrize("modified", [False, True])
def test_tuned_discounts_are_a_minimum_of_the_dev_loss(toy, modified):
    V, Xtr, Ytr, Xdev, Ydev = toy
    n = 2
    start = kneser_ney(Xtr[:, -n:], Ytr, V, modified=modified)
    tuned, dev = tune_discounts(start, Xdev[:, -n:], Ydev)
    assert dev == pytest.approx(tuned.loss(Xdev[:, -n:], Ydev), rel=1e-15)
    assert dev <= start.loss(Xdev[:, -n:], Ydev) + 1e-12
    for j in range(n + 1):  # no small step of one discount, within its bounds, does better
        for r in range(3 if modified else 1):
            for step in (-0.01, 0.01):
                Ds = [list(row) for row in tuned.discounts]
                for rr in range(r, r + 1) if modified else range(3):
                    Ds[j][rr] = min(max(Ds[j][rr] + step, 1e-4), rr + 1 if modified else 1.0)
                moved = kneser_ney(Xtr[:, -n:], Ytr, V, Ds if modified else [d[0] for d in Ds],
                                   modified=modified)
                assert moved.loss(Xdev[:, -n:], Ydev) >= dev - 1e-7


def test_bad_discounts_and_short_contexts_are_refused(toy):
    V, Xtr, Ytr, *_ = toy
    with pytest.raises(ValueError, match="discounts"):
        kneser_ney(Xtr[:, -2:], Ytr, V, [0.5, 1.5, 0.5])  # plain KN: D <= 1
    with pytest.raises(ValueError, match="discounts"):
        kneser_ney(Xtr[:, -2:], Ytr, V, [0.5, 0.5])  # one per order, three orders
    with pytest.raises(ValueError, match="contexts of 1"):
        kneser_ney(Xtr[:, -2:], Ytr, V).prob(Xtr[:, -1:], Ytr)


# -----------------------------------------------------------------------------
# coverage of the table


def test_table_coverage_is_a_brute_force_count(toy):
    V, Xtr, Ytr, Xdev, Ydev = toy
    rows = table_coverage(Xtr, Ytr, Xdev, V, range(1, WIDTH + 1))
    for row in rows:
        n = row.n
        train, dev = _rows(Xtr, Ytr, n), _rows(Xdev, Ydev, n)
        known = {c for c, _ in train}
        assert row.cells == V ** (n + 1)
        assert row.seen == len(set(train)) and row.contexts == len(known)
        assert row.unseen_dev == pytest.approx(sum(c not in known for c, _ in dev) / len(dev))
        dev_contexts = {c for c, _ in dev}
        assert row.unseen_dev_contexts == pytest.approx(
            len(dev_contexts - known) / len(dev_contexts))


# -----------------------------------------------------------------------------
# on names.txt


@pytest.fixture(scope="module")
def names3(names_words):
    vocab = Vocab.from_words(names_words)
    train, dev, _ = split_words(names_words)
    return (len(vocab), *context_windows(train, vocab, 3), *context_windows(dev, vocab, 3))


def test_kneser_ney_beats_add_one_and_tuned_add_k_on_names_dev(names3):
    V, Xtr, Ytr, Xdev, Ydev = names3
    # order 3 (two characters of context): Kneser-Ney, closed-form discounts, against add-one
    kn2 = kneser_ney(Xtr[:, -2:], Ytr, V).loss(Xdev[:, -2:], Ydev)
    assert kn2 < counting_loss(Xtr[:, -2:], Ytr, Xdev[:, -2:], Ydev, V) - 0.01
    # three characters of context (the MLP's): against add-one, and add-k tuned on dev itself
    kn3 = kneser_ney(Xtr, Ytr, V).loss(Xdev, Ydev)
    assert kn3 < counting_loss(Xtr, Ytr, Xdev, Ydev, V) - 0.1
    assert kn3 < tune_add_k(Xtr, Ytr, Xdev, Ydev, V)[1] - 0.02
