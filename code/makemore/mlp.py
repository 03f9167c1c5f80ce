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
        b1 = torch.randn(H, generator=g) * cfg.b1_scale  # drawn either way: same W2 for BN
        self.W2 = torch.randn((H, V), generator=g) * cfg.w2_scale
        self.b2 = torch.randn(V, generator=g) * cfg.b2_scale
        if cfg.batchnorm:
            self.b1 = None  # the BatchNorm mean subtraction would cancel it
            self.bngain = torch.ones((1, H))
            self.bnbias = torch.zeros((1, H))
            self.bnmean_running = torch.zeros((1, H))
            self.bnstd_running = torch.ones((1, H))
        else:
            self.b1 = b1
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
