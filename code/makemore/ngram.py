"""The counting model of Part 1 widened to longer contexts: why a table stops scaling.

Chapter 2 opens by asking what happens to the bigram's count table when the context grows from
one character to several: the table has vocab_size ** (context + 1) cells, almost all of them
never seen in training. These functions count such a table on a split and score another split
with it, storing only the cells seen (sorted keys and their counts), so contexts of 5 or 6
characters still fit in memory.
"""

from __future__ import annotations

import torch


def _context_keys(X: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Each row of X (N, n) read as one base-`vocab_size` number: the context's cell index."""
    keys = torch.zeros(X.shape[0], dtype=torch.long, device=X.device)
    for j in range(X.shape[1]):
        keys = keys * vocab_size + X[:, j]
    return keys  # (N,)


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
    V = vocab_size
    ctx_fit = _context_keys(Xfit, V)  # (N,)
    pairs, pair_counts = torch.unique(ctx_fit * V + Yfit, return_counts=True)
    contexts, ctx_counts = torch.unique(ctx_fit, return_counts=True)

    def lookup(table: torch.Tensor, counts: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        i = torch.searchsorted(table, keys).clamp(max=table.numel() - 1)
        return torch.where(table[i] == keys, counts[i], 0).double()

    ctx = _context_keys(X, V)
    num = lookup(pairs, pair_counts, ctx * V + Y) + smoothing
    den = lookup(contexts, ctx_counts, ctx) + smoothing * V
    return -(num / den).log().mean().item()


def seen_cells(X: torch.Tensor, Y: torch.Tensor, vocab_size: int) -> int:
    """How many (context, next) cells of the counting table the examples (X, Y) ever touch."""
    return torch.unique(_context_keys(X, vocab_size) * vocab_size + Y).numel()


