"""The training loop every chapter from Part 2 on uses, and evaluation over a split.

One loop for any model that maps a batch of contexts to logits: the Part 2 MLP, the Part 3
from-scratch layer stacks, or any `torch.nn.Module`. It is the lecture's loop (minibatch,
forward, cross-entropy, backward, SGD step with a step-decayed learning rate) written to waste
nothing: all minibatch indices are drawn up front from a seeded generator, losses are recorded
into a preallocated tensor (no host sync per step), and the update is one fused `_foreach` call.

A model here is anything with `model(X) -> logits`, `model.parameters()`, and `train()` /
`eval()` (BatchNorm behaves differently in the two modes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

# -----------------------------------------------------------------------------
# configuration


@dataclass
class TrainConfig:
    steps: int = 200_000  # the lectures' run length
    batch_size: int = 32
    lr: float = 0.1
    lr_decay_step: int = 100_000  # from this step on, the learning rate is lr_final
    lr_final: float = 0.01
    seed: int = 2147483647  # the generator seed the lectures use everywhere

    def lr_at(self, step: int) -> float:
        return self.lr if step < self.lr_decay_step else self.lr_final


class Model(Protocol):
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...
    def parameters(self): ...
    def train(self, mode: bool = True): ...
    def eval(self): ...


StepCallback = Callable[[int, float], None]  # (step, lr), called after each update


# -----------------------------------------------------------------------------
# the loop


def minibatch_indices(n: int, cfg: TrainConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """(steps, batch_size) example indices, the same sequence the lecture's per-step
    `torch.randint(0, n, (batch_size,), generator=g)` draws from a generator seeded with cfg.seed.
    """
    g = torch.Generator().manual_seed(cfg.seed)
    ix = torch.randint(0, n, (cfg.steps, cfg.batch_size), generator=g)
    return ix.to(device)


def train(
    model: Model,
    X: torch.Tensor,
    Y: torch.Tensor,
    cfg: TrainConfig,
    callback: StepCallback | None = None,
) -> torch.Tensor:
    """Train `model` in place with minibatch SGD; return the (steps,) tensor of minibatch losses."""
    params = list(model.parameters())
    indices = minibatch_indices(X.shape[0], cfg, X.device)
    losses = torch.empty(cfg.steps, device=X.device)
    model.train()
    for step in range(cfg.steps):
        ix = indices[step]  # (batch_size,)
        logits = model(X[ix])  # (batch_size, vocab)
        loss = F.cross_entropy(logits, Y[ix])
        for p in params:
            p.grad = None
        loss.backward()
        lr = cfg.lr_at(step)
        with torch.no_grad():
            torch._foreach_add_(params, [p.grad for p in params], alpha=-lr)
            losses[step] = loss
        if callback is not None:
            callback(step, lr)
    model.eval()
    return losses.cpu()


# -----------------------------------------------------------------------------
# evaluation


@torch.inference_mode()
def split_loss(model: Model, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Mean cross-entropy of `model` on (X, Y), in eval mode, as a plain float."""
    model.eval()
    return F.cross_entropy(model(X), Y).item()


def smooth_log10(losses: torch.Tensor, window: int = 1000) -> torch.Tensor:
    """log10 of the loss averaged over consecutive windows: the readable training curve."""
    n = (losses.numel() // window) * window
    return losses[:n].log10().view(-1, window).mean(1)  # (steps // window,)
