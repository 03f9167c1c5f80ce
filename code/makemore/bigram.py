"""The bigram language model of makemore Part 1, reached by two paths.

A bigram model predicts the next character from the previous one only: it is a 27 x 27 table
of probabilities, one row per previous character. The table can be had two ways.

- Counting: count every (previous, next) pair in the corpus, add a little to every count
  (smoothing, so no bigram has probability zero) and normalize each row. This is the maximum
  likelihood solution, found in one pass.
- A neural net: one linear layer W (27 x 27) turns the one-hot previous character into logits,
  softmax turns the logits into a row of probabilities, and gradient descent on the average
  negative log-likelihood (plus a pull of W towards zero, weight decay) walks W to the same table.

The counting path does not scale to longer contexts (the table grows as 27**context); the
gradient path does, and every later model of the book is trained the same way.

Reference: Karpathy, "The spelled-out intro to language modeling: building makemore",
https://github.com/karpathy/nn-zero-to-hero/blob/master/lectures/makemore/makemore_part1_bigrams.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from makemore.data import Vocab
from makemore.lecture import SEED

# -----------------------------------------------------------------------------
# path A: counting


def count_matrix(xs: torch.Tensor, ys: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """(vocab_size, vocab_size) int64 counts: N[i, j] = how often character j follows i."""
    N = torch.zeros((vocab_size, vocab_size), dtype=torch.long)
    N.index_put_((xs, ys), torch.ones_like(xs), accumulate=True)
    return N


def counting_probs(N: torch.Tensor, smoothing: float = 1.0) -> torch.Tensor:
    """Rows of (N + smoothing) normalized to sum to one: the counting model, float32.

    smoothing 0 is the plain maximum-likelihood table (zeros where a bigram was never seen);
    the larger it is, the closer every row gets to uniform.
    """
    P = N.float() + smoothing  # (V, V)
    return P / P.sum(1, keepdim=True)  # (V, V) / (V, 1): keepdim makes each ROW sum to one


# -----------------------------------------------------------------------------
# evaluation


@torch.inference_mode()
def nll(P: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> float:
    """Average negative log-likelihood of the bigrams (xs, ys) under the table P."""
    return -P[xs, ys].log().mean().item()


@torch.inference_mode()
def row_entropy(P: torch.Tensor) -> torch.Tensor:
    """(V,) entropy of each row of P in nats; ln(V) for a uniform row, 0 for a certain one."""
    return -(P * P.clamp_min(1e-30).log()).sum(1)


# -----------------------------------------------------------------------------
# path B: the neural bigram


@dataclass
class BigramConfig:
    vocab_size: int  # characters, '.' included: W is vocab_size x vocab_size
    seed: int = SEED  # draws W

    def __post_init__(self) -> None:
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, not {self.vocab_size}")


class NeuralBigram:
    """One linear layer, no bias: logits = one_hot(x) @ W, which is the row W[x].

    Trained by `makemore.training.train` on every bigram at once (`batch_size=None`) with the
    lecture's weight penalty (`l2`); its `loss` computes the cross-entropy once per character
    instead of once per example (see `neural_loss`). It reads a context of one character, so it
    is also a window model with `block_size` 1 (what `makemore.sampling.sample` needs).
    """

    block_size = 1

    def __init__(self, vocab_size: int, seed: int = SEED):
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn((vocab_size, vocab_size), generator=g, requires_grad=True)
        self.training = True

    def parameters(self) -> list[torch.Tensor]:
        return [self.W]

    def named_parameters(self) -> list[tuple[str, torch.Tensor]]:
        return [("W", self.W)]

    def named_buffers(self) -> list[tuple[str, torch.Tensor]]:
        return []

    def train(self, mode: bool = True) -> NeuralBigram:
        self.training = mode
        return self

    def eval(self) -> NeuralBigram:
        return self.train(False)

    def __call__(self, xs: torch.Tensor) -> torch.Tensor:
        """(B,) previous characters, or (B, 1) windows of one -> (B, V) logits: the rows W[x],
        the same as F.one_hot(xs, V).float() @ W, without the matmul."""
        return self.W[xs.reshape(len(xs))]

    def loss(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy of (xs, ys), fused (see `neural_loss`): what
        `makemore.training.train` differentiates (plus the recipe's l2 penalty)."""
        return neural_loss(self.W, xs, ys)

    @torch.inference_mode()
    def probs(self) -> torch.Tensor:
        """(V, V) the table the net has learned: softmax of each row of W."""
        return self.W.softmax(1)


def neural_loss(
    W: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor, reg: float = 0.0
) -> torch.Tensor:
    """Mean NLL of (xs, ys) under the rows of softmax(W), + reg * mean(W**2).

    Equals F.cross_entropy(W[xs], ys) + reg * (W**2).mean(), only faster:
    a row's softmax does not depend on which example looked it up, so it
    is taken once per character (V rows), not once per example (228,146
    rows for names.txt). The gradient is the same.
    """
    logprobs = W.log_softmax(1)  # (V, V)
    V = W.shape[1]
    picked = logprobs.view(-1).take(xs * V + ys)  # (N,) = logprobs[xs, ys]
    loss = -picked.mean()
    return loss + reg * (W**2).mean() if reg else loss


@torch.inference_mode()
def stable_lr(xs: torch.Tensor, ys: torch.Tensor, vocab_size: int) -> float:
    """The largest learning rate at which full-batch gradient descent on the bigram's mean
    cross-entropy is stable near its optimum, the count table: 2 / (the largest curvature).

    Near the optimum the loss is a quadratic whose curvature, in row i of W, is the share of
    examples that follow character i times the softmax's Hessian at that row's empirical
    distribution p, diag(p) - p p^T. Gradient descent on a quadratic converges when lr times
    its largest curvature is below 2, and oscillates or diverges above: a word list whose rows
    are few and heavy (a two-letter alphabet) needs a smaller rate than names.txt's.

    The V Hessians take V^3 numbers: beyond EXACT_CURVATURE_VOCAB characters (a word list in
    Chinese characters has thousands) each row's largest eigenvalue is bounded instead, by
    Gershgorin's circles, max_j 2 p_j (1 - p_j) (and by max_j p_j, as p p^T only takes away):
    the rate returned is then at most the stable one, and takes V^2 numbers and time.
    """
    N = count_matrix(xs, ys, vocab_size).double()  # (V, V)
    rows = N.sum(1, keepdim=True)  # (V, 1)
    p = N / rows.clamp_min(1)  # (V, V): the count table, unsmoothed
    if vocab_size <= EXACT_CURVATURE_VOCAB:
        H = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # (V, V, V): each row's Hessian
        largest = torch.linalg.eigvalsh(H).amax(1)  # (V,)
    else:
        largest = torch.minimum((2 * p * (1 - p)).amax(1), p.amax(1))  # (V,): at least it
    curvature = largest * rows[:, 0] / rows.sum()  # (V,)
    return 2.0 / max(curvature.max().item(), 1e-12)


EXACT_CURVATURE_VOCAB = 200  # its V^3 Hessians take 64 MB in float64


# -----------------------------------------------------------------------------
# sampling


class HasProbs(Protocol):
    def probs(self) -> torch.Tensor: ...


@torch.inference_mode()
def sample(
    model: torch.Tensor | HasProbs,
    vocab: Vocab,
    n: int,
    generator: torch.Generator,
    max_len: int = 50,
) -> list[str]:
    """n words drawn one character at a time from a probability table (or a model's table).

    Start at '.', draw the next character from that row, move to it, stop at '.'. The
    generator is consumed in order, so two tables sampled with equally seeded generators make
    the same words wherever their rows agree closely. max_len only guards against a table
    that almost never ends a word.
    """
    P = model if isinstance(model, torch.Tensor) else model.probs()
    words = []
    for _ in range(n):
        out, ix = [], 0
        while len(out) < max_len:
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True,
                                   generator=generator).item()
            if ix == 0:
                break
            out.append(vocab.itos[ix])
        words.append("".join(out))
    return words
