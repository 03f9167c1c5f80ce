"""Whole words as padded sequences: the data, the loss and the sampler of makemore.py's models.

Parts 1 to 5 cut every word into context windows, one example per character. makemore.py's
sequence models (RNN, GRU, bag-of-words, Transformer) read a whole word at once and predict every
next character in one forward pass, so a word is one example of fixed length T = longest word + 1:

    word "emma" (e=5, m=13, a=1), T = 8:
    x = [0, 5, 13, 13,  1,  0,  0,  0]   '.' then the word, then '.' padding
    y = [5, 13, 13,  1,  0, -1, -1, -1]  the word, its end '.', then -1: "no loss here"

Position t of y is the character that follows x[0..t]. The targets that are not -1 are exactly
the characters the context windows of `makemore.data.context_windows` predict (each character
of the word, then the final '.'), so the mean negative log-likelihood over the targets that
count (`makemore.training.split_loss`, which ignores the -1s) is the same per-character loss
the earlier chapters report on the same canonical split (`makemore.data.split_words`).

A model here is any causal `model(idx) -> logits`, idx (B, T) long and logits (B, T, vocab):
the logits at position t may depend only on idx[:, :t+1]. `WordModel` is what makemore.py's
models (`makemore.recurrent`, `makemore.transformer`) have in common: built from a seed, and
trained on minibatches cut to their longest word (`prepare_batch`, which
`makemore.training.AutogradStep` calls). `makemore.sampling.sample` makes words with them by
feeding their own predictions back in, as makemore.py's `generate`.

References: https://github.com/karpathy/makemore (makemore.py: CharDataset, evaluate, generate)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn as nn

from makemore.data import Vocab

IGNORE = -1  # target index that F.cross_entropy(..., ignore_index=IGNORE) leaves out of the loss


# -----------------------------------------------------------------------------
# the data: one padded example per word


def padded_words(
    words: list[str], vocab: Vocab, block_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """X, Y (N, T) long, one row per word: X = '.' + word + '.'-padding, Y = word + '.' + -1s.

    T is `block_size`, by default the longest of these words + 1. Pass the whole corpus's
    (`max(len(w) for w in words) + 1`, makemore.py's `get_output_length`) so that the train, dev
    and test tensors of a split have the same width. Raises ValueError on a word longer than
    block_size - 1, which would lose its end token.
    """
    longest = max((len(w) for w in words), default=0)
    T = longest + 1 if block_size is None else block_size
    if longest + 1 > T:
        raise ValueError(f"a word of {longest} characters does not fit in block_size {T}")
    stoi = vocab.stoi
    X = torch.zeros((len(words), T), dtype=torch.long)  # (N, T), 0 is '.'
    Y = torch.full((len(words), T), IGNORE, dtype=torch.long)  # (N, T)
    for i, w in enumerate(words):
        ix = torch.tensor([stoi[c] for c in w], dtype=torch.long)
        n = len(w)
        X[i, 1:n + 1] = ix
        Y[i, :n] = ix
        Y[i, n] = 0  # the end token is a prediction like any other
    return X, Y


def trim_padding(X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the trailing columns in which every target is ignored.

    For a causal model this changes nothing but the work: the logits of the kept columns do not
    depend on the dropped ones, and the dropped ones carry no loss. A minibatch of 32 names is
    rarely as long as the longest name, so training on trimmed batches is cheaper.
    """
    active = (Y != IGNORE).any(0)  # (T,) columns with at least one target
    T = int(active.nonzero().max().item()) + 1 if active.any() else 1
    return X[:, :T], Y[:, :T]


# -----------------------------------------------------------------------------
# what makemore.py's models share


def causal_mask(block_size: int) -> torch.Tensor:
    """(block_size, block_size) lower-triangular ones: row t may look at columns 0..t."""
    return torch.tril(torch.ones(block_size, block_size))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with the global generator seeded with `seed` (nn.Linear and nn.Embedding
    draw their initial weights from it), and put the caller's random state back afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class WordModel(nn.Module):
    """A model that reads whole padded words: (B, T) indices -> (B, T, vocab) logits, causal.

    Subclasses set `self.block_size` (the longest sequence they read) and build their layers
    inside `seeded(config.seed)`, so the same config gives the same weights.
    """

    whole_words = True  # how makemore.sampling.sample feeds it: the prefix so far, not a window
    block_size: int

    def n_params(self) -> int:
        """All parameters (makemore.py's "model #params")."""
        return sum(p.numel() for p in self.parameters())

    # a minibatch is cut to its longest word: for a causal model the loss and the gradients
    # are the same (a test checks it), and each step does less work
    prepare_batch = staticmethod(trim_padding)
