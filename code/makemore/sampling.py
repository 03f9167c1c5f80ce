"""Making more words: the one sampler, for every model of the book.

A model of the book predicts the next character in one of two ways. The bigram and the MLPs of
Parts 2-5 read a fixed *window* of the last `block_size` characters, '.'-padded at the start of
a word, and return (n, vocab) logits. makemore.py's sequence models (`makemore.sequences.
WordModel`: RNN, GRU, bag of words, Transformer) read the whole prefix so far, starting from one
'.', and return logits at every position, (n, T, vocab), of which the last one predicts.

Either way a word is made the same way: draw the next character from the softmax of the
logits divided by a temperature (below 1 sharpens, above 1 flattens), optionally keeping only
the `top_k` most likely characters (makemore.py's filter), append it, and stop at the first '.'.
A temperature so small that the division overflows gives the limit: the most likely character.
All `n` words are drawn side by side, one batch per position, from a seeded generator, so a seed
and `n` always give the same words (another `n` draws other words).

Reference: https://github.com/karpathy/makemore (makemore.py: generate)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from makemore.data import Vocab

MAX_LEN = 50  # the longest word a window model is asked for: it caps one that never says '.'


class NotFinite(ValueError):
    """The model gave logits that are not finite numbers (a diverged model)."""


def top_k_logits(logits: torch.Tensor, k: int | None) -> torch.Tensor:
    """(n, V) logits with all but the k largest of each row set to -inf (None: all kept)."""
    if k is None:
        return logits
    kth = torch.topk(logits, min(k, logits.shape[-1])).values[:, -1:]  # (n, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


@torch.inference_mode()
def sample(
    model,
    vocab: Vocab,
    n: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    max_len: int | None = None,
) -> list[str]:
    """`n` words from `model` (a window model or a `WordModel`; see the module docstring).

    Every row starts from '.' and ends at its first '.' (which is not included); at most
    `max_len` characters are drawn (by default 50 for a window model, and `block_size - 1` for a
    sequence model, the longest word it was trained on, as makemore.py: it never sees a longer
    sequence than in training), and a word with no end by then is kept as drawn. The model is
    sampled in eval mode (BatchNorm uses its running statistics, dropout is off) and put back as
    it was.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    whole = getattr(model, "whole_words", False)
    block = model.block_size
    if max_len is None:
        max_len = block - 1 if whole else MAX_LEN
    was_training = bool(getattr(model, "training", False))
    if hasattr(model, "eval"):
        model.eval()
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    device = params[0].device if params else torch.device("cpu")
    # the start: one '.' for a sequence model, a window of '.' for a window model
    idx = torch.zeros((n, 1 if whole else block), dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    for _ in range(max_len):
        logits = model(idx[:, -block:])  # (n, V), or (n, T, V) for a sequence model
        if whole:
            logits = logits[:, -1, :]  # (n, V): the prediction after the last character
        scaled = logits / temperature
        if not torch.isfinite(scaled).all() and torch.isfinite(logits).all():
            # a temperature so small the division overflows (or, as a float32, is 0): the
            # same softmax of each row less its largest logit, which stays 0 while the others
            # go to -inf; what comes out is the limit, the greedy choice
            shifted = logits - logits.amax(dim=-1, keepdim=True)
            scaled = torch.where(shifted == 0, 0.0, shifted / temperature)
        probs = F.softmax(top_k_logits(scaled, top_k), dim=-1)  # (n, V)
        if not torch.isfinite(probs).all():
            raise NotFinite("the model's outputs are not finite numbers")
        ix = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)  # (n,)
        ix = ix.masked_fill(done, 0)  # a finished word stays finished
        idx = torch.cat([idx, ix[:, None]], dim=1)
        done |= ix == 0
        if bool(done.all()):
            break
    if was_training and hasattr(model, "train"):
        model.train()
    words = []
    for row in idx[:, 1 if whole else block:].tolist():  # what was drawn
        end = row.index(0) if 0 in row else len(row)
        words.append(vocab.decode(row[:end]))
    return words
