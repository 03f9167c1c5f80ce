"""The MLP language model of Bengio et al. (2003), as built in makemore Part 2 and tuned in Part 3.

Each of the previous `block_size` characters is looked up in an embedding table C, the
embeddings are concatenated, passed through one tanh hidden layer and a linear read-out to
logits over the next character. Part 3 keeps the same network and changes only how it starts
(the scales below) and, optionally, adds a BatchNorm layer before the tanh.

Reference: Bengio, Ducharme, Vincent, Jauvin, "A Neural Probabilistic Language Model", JMLR 2003.
https://www.jmlr.org/papers/volume3/bengio03a/bengio03a.pdf
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from makemore.data import Splits, Vocab
from makemore.training import TrainConfig, split_loss, train

__all__ = [
    "MLP",
    "MLPConfig",
    "TrainConfig",  # the training loop lives in makemore.training; re-exported for convenience
    "counting_loss",
    "lr_finder",
    "sample",
    "seen_cells",
    "split_loss",
    "split_losses",
    "train",
]

# -----------------------------------------------------------------------------
# configuration


@dataclass
class MLPConfig:
    vocab_size: int = 27
    block_size: int = 3  # characters of context
    n_embd: int = 10  # size of each character's embedding
    n_hidden: int = 200  # tanh units
    batchnorm: bool = False  # Part 3: BatchNorm before the tanh (and then no hidden bias)
    bn_momentum: float = 0.001  # running-statistics update rate of the lecture's BatchNorm
    bn_eps: float = 0.0  # the lecture divides by the batch std with no epsilon
    # Initial scales, multiplied into randn draws. Part 2 uses 1 everywhere; Part 3 fixes them.
    w1_scale: float = 1.0
    b1_scale: float = 1.0
    w2_scale: float = 1.0
    b2_scale: float = 1.0
    seed: int = 2147483647  # the lectures' generator seed

    @property
    def fan_in(self) -> int:
        return self.n_embd * self.block_size

    @property
    def kaiming_tanh(self) -> float:
        """The Kaiming scale for a tanh layer: gain 5/3 over sqrt(fan_in)."""
        return (5 / 3) / math.sqrt(self.fan_in)


# -----------------------------------------------------------------------------
# the model


class MLP:
    """Embedding -> concat -> Linear -> (BatchNorm) -> tanh -> Linear, with raw tensors.

    Mirrors the lecture's code: parameters are plain tensors drawn in the lecture's order from
    one seeded generator, so a model is fully determined by its config.
    """

    def __init__(self, cfg: MLPConfig, device: torch.device | str = "cpu"):
        self.cfg = cfg
        self.training = True
        g = torch.Generator().manual_seed(cfg.seed)
        V, E, H, fan_in = cfg.vocab_size, cfg.n_embd, cfg.n_hidden, cfg.fan_in
        self.C = torch.randn((V, E), generator=g)
        self.W1 = torch.randn((fan_in, H), generator=g) * cfg.w1_scale
        # the BatchNorm mean subtraction would cancel b1: the lecture does not even draw it
        self.b1 = None if cfg.batchnorm else torch.randn(H, generator=g) * cfg.b1_scale
        self.W2 = torch.randn((H, V), generator=g) * cfg.w2_scale
        self.b2 = torch.randn(V, generator=g) * cfg.b2_scale
        # Where the generator stands after drawing the weights. The lecture's Part 3 draws its
        # minibatches from this same generator: TrainConfig(rng_state=model.rng_state) does too.
        self.rng_state = g.get_state()
        if cfg.batchnorm:
            self.bngain = torch.ones((1, H))
            self.bnbias = torch.zeros((1, H))
            self.bnmean_running = torch.zeros((1, H))
            self.bnstd_running = torch.ones((1, H))
        self.to(device)
        for p in self.parameters():
            p.requires_grad_(True)

    # -- torch.nn.Module-like interface used by makemore.training
    def parameters(self) -> list[torch.Tensor]:
        if self.cfg.batchnorm:
            return [self.C, self.W1, self.W2, self.b2, self.bngain, self.bnbias]
        return [self.C, self.W1, self.b1, self.W2, self.b2]

    def buffers(self) -> list[torch.Tensor]:
        return [self.bnmean_running, self.bnstd_running] if self.cfg.batchnorm else []

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def train(self, mode: bool = True) -> MLP:
        self.training = mode
        return self

    def eval(self) -> MLP:
        return self.train(False)

    def to(self, device: torch.device | str) -> MLP:
        for name in ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias",
                     "bnmean_running", "bnstd_running"):
            t = getattr(self, name, None)
            if t is not None:
                setattr(self, name, t.detach().to(device))
        return self

    @property
    def block_size(self) -> int:
        return self.cfg.block_size

    # -- forward
    def hidden_preactivation(self, X: torch.Tensor) -> torch.Tensor:
        """The hidden layer's input to tanh (after BatchNorm, if any): (B, n_hidden)."""
        emb = self.C[X]  # (B, block_size, n_embd)
        embcat = emb.view(emb.shape[0], -1)  # (B, block_size * n_embd)
        hpre = embcat @ self.W1  # (B, n_hidden)
        if not self.cfg.batchnorm:
            return hpre + self.b1
        if self.training:
            mean = hpre.mean(0, keepdim=True)  # (1, n_hidden)
            std = hpre.std(0, keepdim=True)  # (1, n_hidden)
            with torch.no_grad():
                m = self.cfg.bn_momentum
                self.bnmean_running.mul_(1 - m).add_(m * mean)
                self.bnstd_running.mul_(1 - m).add_(m * std)
        else:
            mean, std = self.bnmean_running, self.bnstd_running
        return self.bngain * (hpre - mean) / (std + self.cfg.bn_eps) + self.bnbias

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.hidden_preactivation(X))  # (B, n_hidden)
        return h @ self.W2 + self.b2  # (B, vocab_size)


# -----------------------------------------------------------------------------
# the counting baseline: why a table stops scaling


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


# -----------------------------------------------------------------------------
# evaluation over the splits


def split_losses(
    model, splits: Splits, names: tuple[str, ...] = ("train", "dev")
) -> dict[str, float]:
    """{split name: mean cross-entropy} under inference mode (see training.split_loss).

    The default leaves out "test" on purpose: the test split is evaluated once, at the end.
    """
    return {name: split_loss(model, *splits.split(name)) for name in names}


# -----------------------------------------------------------------------------
# the learning-rate finder


def lr_finder(
    model,
    X: torch.Tensor,
    Y: torch.Tensor,
    exponents: torch.Tensor,
    seed: int = 2147483647,
    batch_size: int = 32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's learning-rate sweep: one SGD step at each lr = 10**exponent, in order.

    `model` is a model or a zero-argument factory that makes one (the sweep trains it, so pass a
    fresh one). Returns (exponents, losses), the minibatch loss *before* each step: where the
    loss falls fastest the learning rate is about right; where it turns up and explodes, too big.
    """
    if not hasattr(model, "parameters"):
        model = model()
    exponents = torch.as_tensor(exponents, dtype=torch.float64)
    steps = exponents.numel()
    g = torch.Generator().manual_seed(seed)
    indices = torch.randint(0, X.shape[0], (steps, batch_size), generator=g).to(X.device)
    params = list(model.parameters())
    losses = torch.empty(steps)
    model.train()
    for i in range(steps):
        ix = indices[i]  # (batch_size,)
        loss = F.cross_entropy(model(X[ix]), Y[ix])
        for p in params:
            p.grad = None
        loss.backward()
        lr = 10.0 ** exponents[i].item()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-lr)
        losses[i] = loss.item()
    model.eval()
    return exponents, losses


# -----------------------------------------------------------------------------
# sampling


@torch.inference_mode()
def sample(
    model,
    vocab: Vocab,
    n: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    max_len: int = 50,
) -> list[str]:
    """`n` words from any context model (`model.block_size`, `model(X) -> logits`).

    All `n` words are drawn side by side: every row starts from a context of '.' and ends at its
    first '.' (which is not included). `max_len` caps a word whose model never says '.'. The model
    is sampled in eval mode (BatchNorm uses its running statistics) and put back as it was.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    was_training = bool(getattr(model, "training", False))
    if hasattr(model, "eval"):
        model.eval()
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    device = params[0].device if params else torch.device("cpu")
    context = torch.zeros((n, model.block_size), dtype=torch.long, device=device)  # all '.'
    out = torch.zeros((n, max_len), dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    for t in range(max_len):
        logits = model(context)  # (n, vocab_size)
        probs = F.softmax(logits / temperature, dim=-1)
        ix = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)  # (n,)
        ix = ix.masked_fill(done, 0)  # a finished word stays finished
        out[:, t] = ix
        done |= ix == 0
        if bool(done.all()):
            break
        context = torch.cat([context[:, 1:], ix[:, None]], dim=1)  # (n, block_size)
    if was_training and hasattr(model, "train"):
        model.train()
    words = []
    for row in out.tolist():
        end = row.index(0) if 0 in row else len(row)
        words.append(vocab.decode(row[:end]))
    return words
