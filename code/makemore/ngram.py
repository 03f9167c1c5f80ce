"""The counting model of Part 1 widened to longer contexts, and honest baselines built from it.

Chapter 2 opens by asking what happens to the bigram's count table when the context grows from
one character to several: the table has vocab_size ** (context + 1) cells, almost all of them
never seen in training. These functions count such a table on a split and score another split
with it, storing only the cells seen (sorted keys and their counts), so contexts of 5 or 6
characters (and more) still fit in memory.

Add-one smoothing, the bigram chapter's choice, is a weak yardstick for the neural models: it
adds the same pseudo-count to every continuation of every context, which hands far too much
mass to unseen continuations once most contexts are rare, and says nothing about which of them
are likely. Two stronger counting models make the comparison honest:

- add-k, the same table with the pseudo-count k chosen on the dev split (`tune_add_k`);
- interpolated Kneser-Ney (`kneser_ney`, `tune_discounts`): subtract a discount D from every
  seen count and hand the mass it frees to the next shorter context, whose counts are
  *continuation* counts (in how many distinct contexts a character sequence was seen, not how
  often), down to the uniform distribution. One discount per order (plain KN) or three
  (modified KN: D1, D2, D3+ for counts 1, 2, 3 and more), starting from the closed-form
  estimates (D = n1 / (n1 + 2 n2) for plain KN) and then tuned on dev.

Context length n means the n characters before the predicted one (n = 1 is the bigram, the
model's order is n + 1), read from the last n columns of `makemore.data.context_windows`. The
'.' padding at the start of a word makes all-'.' prefixes ordinary contexts, as the neural
models see them.

`table_coverage` says, for each context length, how big the table is, how much of it training
fills and how many dev predictions start from a context training never saw: where counting
becomes impossible and where smoothing rescues it.

References:
- Chen & Goodman (1999), "An empirical study of smoothing techniques for language modeling",
  Computer Speech and Language 13, 359-394: additive smoothing, interpolated Kneser-Ney with
  the discount estimate D = n1 / (n1 + 2 n2) of Ney, Essen & Kneser (1994), and modified
  Kneser-Ney (three discounts per order, D1, D2, D3+, and their estimates).
- Kneser & Ney (1995), "Improved backing-off for m-gram language modeling", ICASSP.
- https://github.com/karpathy/makemore (the bigram counting model).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import torch
from scipy.optimize import minimize

# -----------------------------------------------------------------------------
# the table, stored sparsely: a context (and its next character) read as one base-V number


def _context_keys(X: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Each row of X (N, n) read as one base-`vocab_size` number: the context's cell index."""
    keys = torch.zeros(X.shape[0], dtype=torch.long, device=X.device)
    for j in range(X.shape[1]):
        keys = keys * vocab_size + X[:, j]
    return keys  # (N,)


def _check_fits(n: int, vocab_size: int) -> None:
    """A (context, next) cell index must fit in an int64: vocab_size ** (n + 1) < 2 ** 63."""
    if vocab_size ** (n + 1) >= 2**63:
        raise ValueError(f"a context of {n} over {vocab_size} symbols overflows int64 keys")


def _lookup(table: torch.Tensor, counts: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """counts[i] where table[i] == key, else 0, for sorted `table`; as float64, like keys."""
    if table.numel() == 0:
        return torch.zeros(keys.shape, dtype=torch.float64)
    i = torch.searchsorted(table, keys).clamp(max=table.numel() - 1)
    return torch.where(table[i] == keys, counts[i], 0).double()


def _add_k_counts(
    Xfit: torch.Tensor, Yfit: torch.Tensor, X: torch.Tensor, Y: torch.Tensor, vocab_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each example of (X, Y): count(context, next) and count(context) in (Xfit, Yfit)."""
    V = vocab_size
    _check_fits(X.shape[1], V)
    ctx_fit = _context_keys(Xfit, V)  # (N,)
    pairs, pair_counts = torch.unique(ctx_fit * V + Yfit, return_counts=True)
    contexts, ctx_counts = torch.unique(ctx_fit, return_counts=True)
    ctx = _context_keys(X, V)  # (M,)
    return _lookup(pairs, pair_counts, ctx * V + Y), _lookup(contexts, ctx_counts, ctx)


def _add_k_loss(pair: torch.Tensor, ctx: torch.Tensor, k: float, vocab_size: int) -> float:
    """Mean NLL of (count(context, next) + k) / (count(context) + k V)."""
    num = pair + k
    den = ctx + k * vocab_size
    return -(num / den).log().mean().item()


# -----------------------------------------------------------------------------
# add-k: the bigram's table with any context and any pseudo-count


def counting_loss(
    Xfit: torch.Tensor,
    Yfit: torch.Tensor,
    X: torch.Tensor,
    Y: torch.Tensor,
    vocab_size: int,
    smoothing: float = 1.0,
) -> float:
    """Mean NLL on (X, Y) of the counting model of Part 1 widened to a context of X.shape[1].

    The model is the table P(next | context) = (count(context, next) + smoothing) /
    (count(context) + smoothing * vocab_size), counted on (Xfit, Yfit). The table has
    vocab_size ** (n + 1) cells; only the cells seen in training are stored (sorted keys and
    their counts), so contexts of 5 or 6 characters still fit in memory.
    """
    pair, ctx = _add_k_counts(Xfit, Yfit, X, Y, vocab_size)
    return _add_k_loss(pair, ctx, smoothing, vocab_size)


def seen_cells(X: torch.Tensor, Y: torch.Tensor, vocab_size: int) -> int:
    """How many (context, next) cells of the counting table the examples (X, Y) ever touch."""
    return torch.unique(_context_keys(X, vocab_size) * vocab_size + Y).numel()


K_GRID = tuple(10 ** (e / 10) for e in range(-30, 11))  # 1e-3 .. 10, ten per decade
K_REFINE = 21  # points of the finer grid between the best coarse k's two neighbours


def tune_add_k(
    Xtr: torch.Tensor,
    Ytr: torch.Tensor,
    Xdev: torch.Tensor,
    Ydev: torch.Tensor,
    vocab_size: int,
    grid: Sequence[float] = K_GRID,
    refine: int = K_REFINE,
) -> tuple[float, float]:
    """(best k, its dev loss): the add-k pseudo-count with the lowest NLL on (Xdev, Ydev).

    Every k of `grid` is tried; then, unless `refine` is 0, `refine` log-spaced values between
    the best one's neighbours on the grid. The answer is the argmin over every k tried (so it
    is the grid's argmin when refine is 0), the table counted on (Xtr, Ytr) once.
    """
    pair, ctx = _add_k_counts(Xtr, Ytr, Xdev, Ydev, vocab_size)
    grid = sorted(float(k) for k in grid)
    tried = {k: _add_k_loss(pair, ctx, k, vocab_size) for k in grid}
    if refine and len(grid) > 1:
        i = grid.index(min(tried, key=tried.get))
        lo, hi = math.log(grid[max(i - 1, 0)]), math.log(grid[min(i + 1, len(grid) - 1)])
        for t in range(refine):
            k = math.exp(lo + (hi - lo) * t / (refine - 1))
            tried.setdefault(k, _add_k_loss(pair, ctx, k, vocab_size))
    best = min(tried, key=tried.get)
    return best, tried[best]


# -----------------------------------------------------------------------------
# interpolated Kneser-Ney


@dataclass(frozen=True)
class Order:
    """The counts of one order of a Kneser-Ney model (context length j), seen cells only."""

    keys: torch.Tensor  # (K,) sorted cell keys, context * V + next
    counts: torch.Tensor  # (K,) their counts: raw at the top order, continuation counts below
    contexts: torch.Tensor  # (C,) sorted context keys
    totals: torch.Tensor  # (C,) sum of the counts over the next character, per context
    by_count: torch.Tensor  # (C, 3) how many next characters the context has with count 1, 2, 3+

    @classmethod
    def from_counts(cls, keys: torch.Tensor, counts: torch.Tensor, V: int) -> Order:
        contexts, inverse = torch.unique_consecutive(keys // V, return_inverse=True)  # sorted
        totals = torch.zeros(contexts.numel(), dtype=torch.long).index_add_(0, inverse, counts)
        by_count = torch.zeros(contexts.numel(), 3, dtype=torch.long)
        by_count.index_put_((inverse, counts.clamp(max=3) - 1), torch.ones_like(counts),
                            accumulate=True)
        return cls(keys, counts, contexts, totals, by_count)

    def _n(self, r: int) -> int:
        """n_r: how many cells have count exactly r."""
        return int((self.counts == r).sum())

    def closed_form_discount(self) -> float:
        """Ney, Essen & Kneser's single discount D = n1 / (n1 + 2 n2); 1/2 if undefined."""
        n1, n2 = self._n(1), self._n(2)
        return n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.5

    def closed_form_discounts(self) -> tuple[float, float, float]:
        """Modified KN's (D1, D2, D3+): Dr = r - (r + 1) D n_{r+1} / n_r, D the single
        discount (Chen & Goodman 1999, modified Kneser-Ney); r / 2 where n_r is zero."""
        Y, n = self.closed_form_discount(), [self._n(r) for r in range(5)]
        D1, D2, D3 = (r - (r + 1) * Y * n[r + 1] / n[r] if n[r] else r / 2 for r in (1, 2, 3))
        return D1, D2, D3


MIN_DISCOUNT = 1e-4  # a discount of 0 would give unseen continuations probability 0


@dataclass(frozen=True)
class KneserNey:
    """Interpolated Kneser-Ney over characters, for the context length n = len(orders) - 1.

    p_j(y | c) = max(N_j(c y) - D_j(N_j(c y)), 0) / N_j(c .)  +  gamma_j(c) p_{j-1}(y | c'),
    gamma_j(c) = (D_j1 n1(c .) + D_j2 n2(c .) + D_j3 n3+(c .)) / N_j(c .)

    for the context c of length j and its suffix c' of length j - 1, down to p_{-1} = 1 / V.
    N_n are raw counts, N_j for j < n continuation counts N1+(. c y) (distinct characters seen
    before c y); n_r(c .) is how many next characters have count r after c. A context never
    seen at order j leaves p_{j-1} unchanged. Plain KN has one discount per order
    (D_j1 = D_j2 = D_j3, gamma = D N1+(c .) / N(c .)), modified KN three; each row sums to one
    when 0 < D_jr <= r (Chen & Goodman 1999: interpolated and modified Kneser-Ney).
    """

    vocab_size: int
    orders: tuple[Order, ...]  # index j: context length j, 0..n
    discounts: tuple[tuple[float, float, float], ...]  # (D_j1, D_j2, D_j3+) per order
    modified: bool  # three free discounts per order, else one (the three equal)

    @property
    def n(self) -> int:
        return len(self.orders) - 1

    def _stats(self, X: torch.Tensor, Y: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """Per order j, for each example's length-j context c and next y: N_j(c y), N_j(c .),
        n1,2,3+(c .) (M, 3) and the one-hot of N_j(c y)'s discount, 1, 2 or 3+ (M, 3)."""
        if X.shape[1] < self.n:
            raise ValueError(f"contexts of {X.shape[1]} characters for a model of {self.n}")
        V, out = self.vocab_size, []
        for j, order in enumerate(self.orders):
            ctx = _context_keys(X[:, X.shape[1] - j:], V)  # (M,) the last j characters
            count = _lookup(order.keys, order.counts, ctx * V + Y)  # (M,)
            by_count = torch.stack([_lookup(order.contexts, order.by_count[:, r], ctx)
                                    for r in range(3)], dim=1)  # (M, 3)
            which = torch.stack([count == 1, count == 2, count >= 3], dim=1).double()  # (M, 3)
            out.append((count, _lookup(order.contexts, order.totals, ctx), by_count, which))
        return out

    @torch.inference_mode()
    def prob(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """(M,) float64: P(Y[i] | X[i]) for contexts X (M, >= n), the last n columns used."""
        D = torch.tensor(self.discounts, dtype=torch.float64)  # (n + 1, 3)
        return _interpolate(self._stats(X, Y), D, self.vocab_size)

    @torch.inference_mode()
    def probs(self, X: torch.Tensor) -> torch.Tensor:
        """(M, V) float64: the whole distribution of the next character for each context."""
        M, V = X.shape[0], self.vocab_size
        Y = torch.arange(V).repeat(M)  # (M V,)
        return self.prob(X.repeat_interleave(V, dim=0), Y).view(M, V)

    def loss(self, X: torch.Tensor, Y: torch.Tensor) -> float:
        """Mean NLL of (X, Y)."""
        return -self.prob(X, Y).log().mean().item()


def _interpolate(stats: list[tuple[torch.Tensor, ...]], D: torch.Tensor, V: int
                 ) -> torch.Tensor:
    """The Kneser-Ney recursion, lowest order first; D (n + 1, 3) may require grad."""
    p = torch.full_like(stats[0][0], 1.0 / V)  # p_{-1}: uniform
    for (count, total, by_count, which), Dj in zip(stats, D, strict=True):
        discounted = (count - which @ Dj).clamp(min=0)  # (M,) max(N - D(N), 0)
        gamma = by_count @ Dj  # (M,) the mass the discounts free, times N(c .)
        mixed = (discounted + gamma * p) / total.clamp(min=1)
        p = torch.where(total > 0, mixed, p)  # an unseen context passes the lower order on
    return p


def _check_discounts(discounts: tuple[tuple[float, float, float], ...], n: int) -> None:
    ok = len(discounts) == n + 1 and all(
        len(Ds) == 3 and all(0 < D <= r for r, D in enumerate(Ds, 1)) for Ds in discounts)
    if not ok:
        raise ValueError(f"need {n + 1} discounts (D1, D2, D3+) with 0 < Dr <= r, "
                         f"got {discounts}")


def kneser_ney(
    X: torch.Tensor,
    Y: torch.Tensor,
    vocab_size: int,
    discounts: Sequence[float | Sequence[float]] | None = None,
    modified: bool = False,
) -> KneserNey:
    """Fit interpolated Kneser-Ney on (X, Y), context length n = X.shape[1].

    The top order counts every (context, next) cell; each lower order j counts, for each cell
    (c, y) of length j, the distinct characters x seen before it: the number of order-(j + 1)
    cells (x c, y), which is one unique over the order above with its first character dropped.
    `discounts` has one entry per order j = 0..n: a float D (plain KN) or (D1, D2, D3+)
    (modified KN, `modified=True`). By default, the closed-form estimates of each order.
    """
    V, n = vocab_size, X.shape[1]
    _check_fits(n, V)
    keys, counts = torch.unique(_context_keys(X, V) * V + Y, return_counts=True)
    orders = [Order.from_counts(keys, counts, V)]
    for j in range(n - 1, -1, -1):
        keys, counts = torch.unique(keys % V ** (j + 1), return_counts=True)  # drop the first
        orders.append(Order.from_counts(keys, counts, V))
    orders.reverse()
    if discounts is None:
        discounts = [tuple(min(max(D, MIN_DISCOUNT), r)
                           for r, D in enumerate(o.closed_form_discounts(), 1))
                     if modified else min(max(o.closed_form_discount(), MIN_DISCOUNT), 1.0)
                     for o in orders]
    per_order = tuple(tuple(float(D) for D in Ds) if modified else (float(Ds),) * 3
                      for Ds in discounts)
    _check_discounts(per_order, n)
    return KneserNey(V, tuple(orders), per_order, modified)


def tune_discounts(model: KneserNey, Xdev: torch.Tensor, Ydev: torch.Tensor
                   ) -> tuple[KneserNey, float]:
    """(the model with the discounts that minimize NLL on dev, that dev loss).

    Starts from the model's discounts and runs L-BFGS-B within MIN_DISCOUNT <= D_r <= r
    (plain KN: one D per order, <= 1) with the exact gradient (autograd, float64); the counts
    are looked up on dev once.
    """
    stats = model._stats(Xdev, Ydev)
    if model.modified:
        x0 = [D for Ds in model.discounts for D in Ds]
        bounds = [(MIN_DISCOUNT, r) for _ in model.discounts for r in (1, 2, 3)]
    else:
        x0 = [Ds[0] for Ds in model.discounts]
        bounds = [(MIN_DISCOUNT, 1.0)] * len(x0)

    def as_table(x: torch.Tensor) -> torch.Tensor:  # (n + 1, 3)
        return x.view(-1, 3) if model.modified else x.view(-1, 1).expand(-1, 3)

    def loss_and_grad(x):
        x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        loss = -_interpolate(stats, as_table(x), model.vocab_size).log().mean()
        loss.backward()
        return loss.item(), x.grad.numpy()

    res = minimize(loss_and_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    table = as_table(torch.tensor(res.x, dtype=torch.float64))
    tuned = replace(model, discounts=tuple(tuple(map(float, row)) for row in table.tolist()))
    return tuned, tuned.loss(Xdev, Ydev)


# -----------------------------------------------------------------------------
# how full the table gets


@dataclass(frozen=True)
class Coverage:
    """One context length's table, counted on training and met by dev."""

    n: int  # context length
    cells: int  # vocab_size ** (n + 1), every (context, next) cell
    seen: int  # cells training touches
    contexts: int  # distinct contexts in training
    unseen_dev: float  # share of dev predictions whose context training never saw
    unseen_dev_contexts: float  # share of the distinct dev contexts training never saw


def table_coverage(
    Xtr: torch.Tensor,
    Ytr: torch.Tensor,
    Xdev: torch.Tensor,
    vocab_size: int,
    lengths: Iterable[int] = range(1, 9),
) -> list[Coverage]:
    """A Coverage per context length n in `lengths`, from the last n columns of the windows."""
    V, rows = vocab_size, []
    for n in lengths:
        if n > Xtr.shape[1]:
            raise ValueError(f"context length {n} from windows of {Xtr.shape[1]}")
        _check_fits(n, V)
        ctx_tr = _context_keys(Xtr[:, Xtr.shape[1] - n:], V)
        ctx_dev = _context_keys(Xdev[:, Xdev.shape[1] - n:], V)
        known = torch.unique(ctx_tr)
        unseen = ~torch.isin(ctx_dev, known)  # (M,)
        dev_contexts = torch.unique(ctx_dev)
        rows.append(Coverage(
            n=n,
            cells=V ** (n + 1),
            seen=torch.unique(ctx_tr * V + Ytr).numel(),
            contexts=known.numel(),
            unseen_dev=unseen.double().mean().item(),
            unseen_dev_contexts=(~torch.isin(dev_contexts, known)).double().mean().item(),
        ))
    return rows
