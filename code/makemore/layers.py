"""Neural-network layers written from scratch, with torch.nn's interface: makemore Part 3.

Part 3 of the lectures "PyTorch-ifies" the MLP: each piece of the network becomes a small
object with `__call__`, `parameters()` and a `training` flag, and a network is a list of them.
The classes below are those pieces. They compute exactly what their torch.nn namesakes compute
(the tests check forward, backward, running statistics and train/eval mode against torch.nn),
but every line is visible, and each layer keeps its last output in `.out`, so a diagnostics
tool can look inside (see `makemore.diagnostics`).

Conventions that differ from torch.nn, on purpose, as in the lecture:
- `Linear.weight` is (fan_in, fan_out), so the forward is `x @ W` (torch.nn stores W^T), and it is
  initialised `randn / sqrt(fan_in)` times a gain (Kaiming et al. 2015); torch.nn uses a uniform.
- Parameters are plain tensors with `requires_grad`, drawn from one seeded generator.
- `BatchNorm1d` also accepts (B, T, C) input and normalises over B and T (Part 5 needs this);
  torch.nn.BatchNorm1d expects channels in the middle, (B, C, T).

References:
- Ioffe & Szegedy, "Batch Normalization", 2015. https://arxiv.org/abs/1502.03167
- He et al., "Delving Deep into Rectifiers" (Kaiming init), 2015. https://arxiv.org/abs/1502.01852
- https://github.com/karpathy/nn-zero-to-hero (lectures/makemore/makemore_part3_bn.ipynb)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

ForwardHook = Callable[["Module", torch.Tensor, torch.Tensor], None]  # (layer, input, output)

TANH_GAIN = 5 / 3  # torch.nn.init.calculate_gain('tanh'): undoes tanh's squashing of unit inputs


# -----------------------------------------------------------------------------
# the base class: what every layer has


class Module:
    """A layer: `__call__` runs `forward`, keeps the result in `.out`, then runs forward hooks."""

    training: bool = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.forward(x)
        self.out = out
        for hook in getattr(self, "_hooks", {}).values():
            hook(self, x, out)
        return out

    def register_forward_hook(self, hook: ForwardHook) -> Callable[[], None]:
        """Call `hook(layer, input, output)` after every forward; returns a function that removes
        it (torch.nn returns a handle with `.remove()`; `diagnostics` accepts either)."""
        if "_hooks" not in self.__dict__:
            self._hooks: dict[int, ForwardHook] = {}
        key = max(self._hooks, default=-1) + 1
        self._hooks[key] = hook
        return lambda: self._hooks.pop(key, None)

    def parameters(self) -> list[torch.Tensor]:
        return []

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def __getstate__(self) -> dict:
        """Pickle (or deep-copy) the layer without its last output and hooks: they belong to
        one forward pass, and a graph cannot cross a process boundary."""
        return {k: v for k, v in self.__dict__.items() if k not in ("out", "_hooks")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _generator(generator: torch.Generator | None) -> torch.Generator:
    return generator if generator is not None else torch.Generator().manual_seed(2147483647)


# -----------------------------------------------------------------------------
# the layers


class Linear(Module):
    """y = x @ W (+ b), W drawn from randn * gain / sqrt(fan_in)."""

    def __init__(self, fan_in: int, fan_out: int, bias: bool = True, gain: float = 1.0,
                 generator: torch.Generator | None = None):
        g = _generator(generator)
        self.weight = (torch.randn((fan_in, fan_out), generator=g) * (gain / math.sqrt(fan_in)))
        self.weight.requires_grad_(True)
        self.bias = torch.zeros(fan_out, requires_grad=True) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight  # (..., fan_out)
        return out + self.bias if self.bias is not None else out

    def parameters(self) -> list[torch.Tensor]:
        return [self.weight] + ([] if self.bias is None else [self.bias])

    def __repr__(self) -> str:
        fan_in, fan_out = self.weight.shape
        return f"Linear({fan_in}, {fan_out}, bias={self.bias is not None})"


class BatchNorm1d(Module):
    """Normalise each feature over the batch, then scale by gamma and shift by beta.

    Training mode uses the batch's mean and (biased) variance and updates running estimates
    (exponential moving averages, the variance unbiased) that eval mode uses instead, so a
    single example can be run through the trained network. Same arithmetic as torch.nn.
    """

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1):
        self.eps = eps
        self.momentum = momentum  # weight of the newest batch in the running averages
        self.gamma = torch.ones(dim, requires_grad=True)  # learnable gain
        self.beta = torch.zeros(dim, requires_grad=True)  # learnable bias
        self.running_mean = torch.zeros(dim)  # buffers: updated by forward, not by gradients
        self.running_var = torch.ones(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = (0,) if x.ndim == 2 else (0, 1)  # (B, C) or (B, T, C): statistics per C
        if self.training:
            xmean = x.mean(dims, keepdim=True)  # (1, C) or (1, 1, C)
            xvar = x.var(dims, keepdim=True, unbiased=False)
            n = x.numel() // x.shape[-1]
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(xmean.flatten(), alpha=m)
                self.running_var.mul_(1 - m).add_(xvar.flatten() * (n / max(n - 1, 1)), alpha=m)
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # unit variance per feature
        return self.gamma * xhat + self.beta

    def parameters(self) -> list[torch.Tensor]:
        return [self.gamma, self.beta]

    def buffers(self) -> list[torch.Tensor]:
        return [self.running_mean, self.running_var]

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.gamma.numel()}, eps={self.eps}, momentum={self.momentum})"


class Tanh(Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)


class Identity(Module):
    """A no-op in a nonlinearity's place: the network without tanh, still observable there."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Embedding(Module):
    """A lookup table: integer indices (...) -> rows of `weight` (..., embedding_dim)."""

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 generator: torch.Generator | None = None):
        g = _generator(generator)
        self.weight = torch.randn((num_embeddings, embedding_dim), generator=g)
        self.weight.requires_grad_(True)

    def forward(self, ix: torch.Tensor) -> torch.Tensor:
        return self.weight[ix]

    def parameters(self) -> list[torch.Tensor]:
        return [self.weight]

    def __repr__(self) -> str:
        return f"Embedding({self.weight.shape[0]}, {self.weight.shape[1]})"


class Flatten(Module):
    """(B, ...) -> (B, everything else): concatenates the context's embeddings."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1)


class Sequential(Module):
    """Layers applied in order; `train()`/`eval()` set every layer's mode."""

    def __init__(self, layers: list[Module]):
        self.layers = list(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[torch.Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, torch.Tensor]]:
        """('3.weight', W) ... : torch.nn's naming, layer index then attribute."""
        names = []
        for i, layer in enumerate(self.layers):
            for p in layer.parameters():
                attr = next(k for k, v in vars(layer).items() if v is p)
                names.append((f"{i}.{attr}", p))
        return names

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


# -----------------------------------------------------------------------------
# the lecture's deep network


@dataclass
class DeepConfig:
    vocab_size: int = 27
    block_size: int = 3  # characters of context
    n_embd: int = 10  # size of each character's embedding
    n_hidden: int = 100  # units of every hidden layer
    n_layers: int = 5  # hidden Linear layers (then one output Linear)
    batchnorm: bool = True  # BatchNorm1d after every Linear (then the Linear needs no bias)
    activation: str = "tanh"  # "tanh", or "identity" to see the network without a nonlinearity
    gain: float = TANH_GAIN  # multiplies every hidden Linear's randn / sqrt(fan_in)
    last_scale: float = 0.1  # shrinks the output (last BN's gamma, else last weight): soft start
    seed: int = 2147483647  # the lectures' generator seed


def deep_mlp(cfg: DeepConfig) -> Sequential:
    """Embedding -> Flatten -> n_layers x (Linear -> [BatchNorm1d] -> Tanh) -> Linear -> [BN].

    With the defaults this is the lecture's 47,024-parameter network, drawn in the lecture's
    order from one generator.
    """
    g = torch.Generator().manual_seed(cfg.seed)
    act = {"tanh": Tanh, "identity": Identity}[cfg.activation]
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
    return Sequential(layers)
