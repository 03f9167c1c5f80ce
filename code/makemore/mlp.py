"""The MLP language model of Bengio et al. (2003), as built in makemore Part 2 and tuned in Part 3.

Each of the previous `block_size` characters is looked up in an embedding table C, the
embeddings are concatenated, passed through one tanh hidden layer and a linear read-out to
logits over the next character. Part 3 keeps the same network and changes only how it starts
(the scales below) and, optionally, adds its own BatchNorm before the tanh.

The network is a stack of the from-scratch layers of `makemore.layers` (Embedding, Flatten,
Linear, StdBatchNorm1d, Tanh, Linear), so it speaks their protocol and trains on their
hand-written backward. Its parameters are drawn in the lecture's order (C, W1, b1, W2, b2) from
one seeded generator, so a model is fully determined by its config; the lecture's names stay
available as attributes (`model.C`, `model.W1`, ...).

`deep_mlp` is Part 3's "PyTorch-ified" deeper network: the same embedding and window, five
hidden Linear layers of 100 units, each followed by BatchNorm (optional) and a nonlinearity
(tanh, ReLU or none), the network the lecture's diagnostics look inside.

Reference: Bengio, Ducharme, Vincent, Jauvin, "A Neural Probabilistic Language Model", JMLR 2003.
https://www.jmlr.org/papers/volume3/bengio03a/bengio03a.pdf
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from makemore.layers import (
    BatchNorm1d,
    Embedding,
    Flatten,
    Identity,
    Linear,
    Module,
    ReLU,
    Sequential,
    StdBatchNorm1d,
    Tanh,
)
from makemore.lecture import PART2_MLP, PART3_BN_MOMENTUM, PART3_DEEP, SEED, TANH_GAIN

# -----------------------------------------------------------------------------
# configuration


@dataclass
class MLPConfig:
    vocab_size: int  # characters, '.' included (27 for names.txt)
    block_size: int = PART2_MLP["block_size"]  # characters of context
    n_embd: int = PART2_MLP["n_embd"]  # size of each character's embedding
    n_hidden: int = PART2_MLP["n_hidden"]  # tanh units
    batchnorm: bool = False  # Part 3: BatchNorm before the tanh (and then no hidden bias)
    bn_momentum: float = PART3_BN_MOMENTUM  # running-statistics update rate of that BatchNorm
    bn_eps: float = 0.0  # the lecture divides by the batch std with no epsilon
    # Initial scales, multiplied into randn draws. Part 2 uses 1 everywhere; Part 3 fixes them.
    w1_scale: float = 1.0
    b1_scale: float = 1.0
    w2_scale: float = 1.0
    b2_scale: float = 1.0
    seed: int = SEED

    @property
    def fan_in(self) -> int:
        return self.n_embd * self.block_size

    @property
    def kaiming_tanh(self) -> float:
        """The Kaiming scale for a tanh layer: gain 5/3 over sqrt(fan_in)."""
        return TANH_GAIN / math.sqrt(self.fan_in)


# -----------------------------------------------------------------------------
# the model


class MLP(Sequential):
    """Embedding -> Flatten -> Linear -> (BatchNorm) -> Tanh -> Linear."""

    def __init__(self, cfg: MLPConfig, device: torch.device | str | None = None):
        self.cfg = cfg
        g = torch.Generator().manual_seed(cfg.seed)
        V, E, H = cfg.vocab_size, cfg.n_embd, cfg.n_hidden
        layers = [
            Embedding(V, E, generator=g),  # C
            Flatten(),
            # W1 and b1; BatchNorm's mean subtraction would cancel b1: the lecture does not
            # even draw it
            Linear(cfg.fan_in, H, bias=not cfg.batchnorm, generator=g,
                   weight_scale=cfg.w1_scale, bias_scale=cfg.b1_scale),
        ]
        if cfg.batchnorm:
            layers.append(StdBatchNorm1d(H, eps=cfg.bn_eps, momentum=cfg.bn_momentum))
        layers += [Tanh(), Linear(H, V, generator=g, weight_scale=cfg.w2_scale,
                                  bias_scale=cfg.b2_scale)]  # W2 and b2
        super().__init__(layers)
        # Where the generator stands after drawing the weights. The lecture's Part 3 draws its
        # minibatches from this same generator: TrainConfig(rng_state=model.rng_state) does too.
        self.rng_state = g.get_state()
        if device is not None:
            self.to(device)

    @property
    def block_size(self) -> int:
        return self.cfg.block_size

    # -- the lecture's names for the parameters
    @property
    def C(self) -> torch.Tensor:
        return self.layers[0].weight

    @property
    def W1(self) -> torch.Tensor:
        return self.layers[2].weight

    @property
    def b1(self) -> torch.Tensor | None:
        return self.layers[2].bias

    @property
    def W2(self) -> torch.Tensor:
        return self.layers[-1].weight

    @property
    def b2(self) -> torch.Tensor:
        return self.layers[-1].bias

    @property
    def bn(self) -> StdBatchNorm1d | None:
        return self.layers[3] if self.cfg.batchnorm else None

    def hidden_preactivation(self, X: torch.Tensor) -> torch.Tensor:
        """The hidden layer's input to tanh (after BatchNorm, if any): (B, n_hidden)."""
        h = X
        for layer in self.layers[:-2]:
            h = layer(h)
        return h


# -----------------------------------------------------------------------------
# Part 3's deep network: the same idea, five hidden layers, BatchNorm after each


@dataclass
class DeepConfig:
    vocab_size: int  # characters, '.' included
    block_size: int = PART3_DEEP["block_size"]  # characters of context
    n_embd: int = PART3_DEEP["n_embd"]  # size of each character's embedding
    n_hidden: int = PART3_DEEP["n_hidden"]  # units of every hidden layer
    n_layers: int = PART3_DEEP["n_layers"]  # hidden Linear layers (then one output Linear)
    batchnorm: bool = True  # BatchNorm1d after every Linear (then the Linear needs no bias)
    activation: str = "tanh"  # "tanh", "relu", or "identity": the network without a nonlinearity
    gain: float = TANH_GAIN  # multiplies every hidden Linear's randn / sqrt(fan_in)
    last_scale: float = PART3_DEEP["last_scale"]  # shrinks the output at the start
    seed: int = SEED


def deep_mlp(cfg: DeepConfig) -> Sequential:
    """Embedding -> Flatten -> n_layers x (Linear -> [BatchNorm1d] -> Tanh) -> Linear -> [BN].

    With the defaults this is the lecture's network (`lecture.PART3_DEEP_PARAMS` parameters),
    drawn in the lecture's order from one generator.
    """
    g = torch.Generator().manual_seed(cfg.seed)
    act = {"tanh": Tanh, "identity": Identity, "relu": ReLU}[cfg.activation]
    bias = not cfg.batchnorm
    layers: list[Module] = [Embedding(cfg.vocab_size, cfg.n_embd, generator=g), Flatten()]
    fan_in = cfg.n_embd * cfg.block_size
    for _ in range(cfg.n_layers):
        layers.append(Linear(fan_in, cfg.n_hidden, bias=bias, gain=cfg.gain, generator=g))
        if cfg.batchnorm:
            layers.append(BatchNorm1d(cfg.n_hidden))
        layers.append(act())
        fan_in = cfg.n_hidden
    layers.append(Linear(fan_in, cfg.vocab_size, bias=bias, generator=g))
    with torch.no_grad():
        if cfg.batchnorm:
            layers.append(BatchNorm1d(cfg.vocab_size))
            layers[-1].gamma *= cfg.last_scale
        else:
            layers[-1].weight *= cfg.last_scale
    model = Sequential(layers)
    model.block_size = cfg.block_size  # what `makemore.sampling.sample` needs to know
    return model
