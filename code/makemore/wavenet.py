"""makemore Part 5's WaveNet: a longer context, fused a few characters at a time.

The MLP of Parts 2-4 squashes its whole context into one hidden layer at once: with eight
characters, the first Linear sees all eight embeddings side by side and must make sense of them
in a single step. WaveNet (van den Oord et al. 2016) fuses them *hierarchically* instead: pairs
of neighbouring characters first, then pairs of pairs, then pairs of those, so each layer only
has to combine two things it already understands. makemore Part 5 builds it from the layers of
`makemore.layers` (Embedding, FlattenConsecutive, Linear, BatchNorm1d, Tanh, in a Sequential):

    Embedding(V, n_embd)                                    # (B, 8) -> (B, 8, n_embd)
    FlattenConsecutive(2) Linear BatchNorm1d Tanh           # -> (B, 4, n_hidden)
    FlattenConsecutive(2) Linear BatchNorm1d Tanh           # -> (B, 2, n_hidden)
    FlattenConsecutive(2) Linear BatchNorm1d Tanh           # -> (B, n_hidden)
    Linear(n_hidden, V)                                     # -> (B, V) logits

`WaveNetConfig` describes the whole family the lecture walks through: `n_levels=1` is the flat
MLP (the lecture's "original" at block 3 and its "context 3 -> 8"); `batchnorm_bug=True` gives
the BatchNorm of the lecture's first hierarchical run, whose statistics for 3-D input run over
the batch only (see `layers.BatchNorm1d`, `dims="batch"`). Because the model is a stack of the
package's layers, it trains on their hand-written backward (`Sequential.manual_step`).

`causal_conv` evaluates a trained network at every position of whole sequences at once: the
hierarchy is a stack of dilated causal convolutions (kernel 2, dilations 1, 2, 4), the lecture's
closing remark and WaveNet's own formulation.

References:
- van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016.
  https://arxiv.org/abs/1609.03499
- https://github.com/karpathy/nn-zero-to-hero (lectures/makemore/makemore_part5_cnn1.ipynb)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from makemore.layers import (
    BatchNorm1d,
    Embedding,
    FlattenConsecutive,
    Linear,
    Module,
    Sequential,
    Tanh,
)
from makemore.lecture import PART5_NET, SEED

# -----------------------------------------------------------------------------
# configuration


@dataclass
class WaveNetConfig:
    vocab_size: int  # characters, '.' included
    block_size: int = PART5_NET["block_size"]  # characters of context
    n_embd: int = PART5_NET["n_embd"]  # size of each character's embedding
    n_hidden: int = PART5_NET["n_hidden"]  # units of every hidden layer
    n_levels: int = PART5_NET["n_levels"]  # fusing layers; 1 is the flat MLP
    batchnorm_bug: bool = False  # the lecture's first BatchNorm: 3-D statistics over dim 0 only
    last_scale: float = 0.1  # the output layer's weight *= 0.1: "make less confident" at first
    seed: int = SEED  # one generator draws every weight, layer by layer

    def __post_init__(self) -> None:
        if min(self.vocab_size, self.block_size, self.n_embd, self.n_hidden,
               self.n_levels) < 1:
            raise ValueError(f"sizes must be positive: {self}")
        if self.group ** self.n_levels != self.block_size:
            raise ValueError(f"block_size {self.block_size} is not a power of an integer with "
                             f"exponent n_levels {self.n_levels}")

    @property
    def group(self) -> int:
        """Positions each level fuses: 2 for the lecture's 8 = 2 x 2 x 2."""
        return round(self.block_size ** (1 / self.n_levels))


# -----------------------------------------------------------------------------
# the model


def wavenet(cfg: WaveNetConfig) -> Sequential:
    """Embedding -> n_levels x (FlattenConsecutive -> Linear -> BatchNorm1d -> Tanh) -> Linear.

    As the lecture builds it: the Linear layers before a BatchNorm have no bias, weights are
    randn / sqrt(fan_in) (no tanh gain in Part 5), and the output layer's weight starts scaled
    by `last_scale`. BatchNorm normalises with the batch's unbiased variance, as the lecture's
    `x.var(dim)` does. With the defaults the parameter count is `lecture.PART5_PARAMS`.
    """
    g = torch.Generator().manual_seed(cfg.seed)
    layers: list[Module] = [Embedding(cfg.vocab_size, cfg.n_embd, generator=g)]
    width, positions = cfg.n_embd, cfg.block_size
    for _ in range(cfg.n_levels):
        positions //= cfg.group  # what this level leaves: (B, positions, n_hidden)
        bug = cfg.batchnorm_bug and positions > 1  # the bug needs 3-D input to show
        layers += [FlattenConsecutive(cfg.group),
                   Linear(width * cfg.group, cfg.n_hidden, bias=False, generator=g),
                   BatchNorm1d(cfg.n_hidden, unbiased=True,
                               **(dict(dims="batch", positions=positions) if bug else {})),
                   Tanh()]
        width = cfg.n_hidden
    layers.append(Linear(width, cfg.vocab_size, generator=g))
    with torch.no_grad():
        layers[-1].weight *= cfg.last_scale
    model = Sequential(layers)
    model.block_size = cfg.block_size  # what `makemore.sampling.sample` needs to know
    return model


# -----------------------------------------------------------------------------
# the convolution view


@torch.inference_mode()
def causal_conv(model: Sequential, seq: torch.Tensor) -> torch.Tensor:
    """A trained (eval-mode) network's logits at every position of `seq`.

    `seq` is (B, L) character indices, L >= block_size; the result is
    (B, L - block_size + 1, V), and entry t is what
    `model(seq[:, t:t + block_size])` gives: the prediction after the window
    ending at t + block_size - 1. Each FlattenConsecutive(n) becomes a dilated
    causal convolution: position t joins the n positions t - (n - 1) d, ...,
    t - d, t (dilation d = 1 at the first level, then n, n^2, ...), and the
    Linear, BatchNorm1d and Tanh after it act on every position at once. What
    neighbouring windows share is computed once. (In eval mode BatchNorm is a
    fixed affine map per channel; with the bug's statistics per position the
    network is no convolution, and this raises ValueError.)
    """
    model.eval()
    h = seq
    dilation = 1
    for layer in model.layers:
        if isinstance(layer, FlattenConsecutive):
            n = layer.n
            T = h.shape[1] - (n - 1) * dilation  # positions with all n inputs
            if T < 1:
                raise ValueError(f"sequences of {seq.shape[1]} are shorter "
                                 "than the context")
            # n taps of (B, T, C), `dilation` apart, the earliest first as in
            # a window: (B, T, n * C)
            taps = [h[:, i * dilation:i * dilation + T] for i in range(n)]
            h = torch.cat(taps, dim=-1)
            dilation *= n
        else:  # Embedding (B, L) -> (B, L, C); the rest, position by position
            h = layer(h)
    return h
