"""The training loop every chapter from Part 2 on uses, and evaluation over a split.

One loop for any model that maps a batch of contexts to logits: the Part 2 MLP, the Part 3
from-scratch layer stacks, or any `torch.nn.Module`. It is the lecture's loop (minibatch,
forward, cross-entropy, backward, SGD step with a step-decayed learning rate), written to waste
nothing. What each change buys is measured side by side with the lecture's own loop by
`bench/train_speed.py` and `bench/ablation.py`; on a 2-core machine with one thread the first
three below together gain under 10%, the fourth is what pays (about 3x the lecture's steps/s
for the Part 2 MLP, 4x for the BatchNorm MLP):

- minibatches are drawn a chunk of steps at a time (`X[ix]` for a thousand steps in one call),
  the same sequence as the lecture's per-step `torch.randint(..., generator=g)`;
- losses stay on the device, stacked once per chunk (no `.item()`, no host sync per step);
- the SGD update is one fused `torch._foreach_add_` over all parameters;
- a `makemore.mlp.MLP` skips autograd entirely: `makemore.analytic` runs its forward and
  backward with the chain rule written out, into preallocated buffers (same math, checked
  against autograd by the tests). Set `TrainConfig.backend = "autograd"` to turn that off.

A model here is anything with `model(X) -> logits`, `model.parameters()`, and `train()` /
`eval()` (BatchNorm behaves differently in the two modes). Training runs on the device the
data is on, or on `TrainConfig.device` when set (CUDA when asked and available).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from makemore import analytic

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
    # Where the minibatch generator starts: None seeds it with `seed`; a state from
    # `torch.Generator.get_state()` continues that generator, as the lecture's Part 3 draws
    # its minibatches from the same `g` that drew the weights (see MLP.rng_state).
    rng_state: torch.Tensor | None = None
    backend: str = "auto"  # "auto": the analytic kernel for an MLP, else autograd; or "autograd"
    device: str | None = None  # None: where X is; "cuda" (falls back to CPU if absent) or "cpu"

    def lr_at(self, step: int) -> float:
        return self.lr if step < self.lr_decay_step else self.lr_final


class Model(Protocol):
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...
    def parameters(self): ...
    def train(self, mode: bool = True): ...
    def eval(self): ...


StepCallback = Callable[[int, float], None]  # (step, lr), called after each update

CHUNK_ELEMENTS = 1 << 16  # a chunk holds about this many examples (1,000 steps cap)


# -----------------------------------------------------------------------------
# minibatches


def minibatch_indices(n: int, cfg: TrainConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """(steps, batch_size) example indices, the same sequence the lecture's per-step
    `torch.randint(0, n, (batch_size,), generator=g)` draws from a generator seeded with cfg.seed.
    """
    ix = torch.randint(0, n, (cfg.steps, cfg.batch_size), generator=minibatch_generator(cfg))
    return ix.to(device)


def minibatch_generator(cfg: TrainConfig) -> torch.Generator:
    """The CPU generator the minibatches come from: seeded with cfg.seed, or continuing from
    cfg.rng_state when it is set."""
    g = torch.Generator()
    if cfg.rng_state is not None:
        g.set_state(cfg.rng_state)
    else:
        g.manual_seed(cfg.seed)
    return g


def minibatch_chunks(
    n: int, cfg: TrainConfig, device: torch.device | str = "cpu"
) -> Iterator[tuple[int, torch.Tensor]]:
    """`minibatch_indices` a chunk of steps at a time: (first step, (chunk, batch_size) indices).

    Drawing (chunk, B) from a CPU generator consumes it exactly as chunk draws of (B,) would,
    so the concatenated chunks equal the per-step sequence on any device.
    """
    g = minibatch_generator(cfg)
    chunk = max(1, min(1000, CHUNK_ELEMENTS // cfg.batch_size))
    for start in range(0, cfg.steps, chunk):
        size = min(chunk, cfg.steps - start)
        yield start, torch.randint(0, n, (size, cfg.batch_size), generator=g).to(device)


# -----------------------------------------------------------------------------
# devices


def resolve_device(want: str | torch.device | None, default: torch.device) -> torch.device:
    """The device to train on: `default` when nothing is asked, CPU (with a warning) when CUDA
    is asked for and not available."""
    if want is None:
        return default
    device = torch.device(want)
    if device.type == "cuda" and not torch.cuda.is_available():
        warnings.warn("CUDA asked for but not available: training on the CPU", RuntimeWarning,
                      stacklevel=3)
        return torch.device("cpu")
    return device


def model_device(model: Model) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _move_model(model: Model, device: torch.device) -> None:
    if model_device(model) == device:
        return
    if not hasattr(model, "to"):
        raise TypeError(f"{type(model).__name__} has no .to(device): build it on {device}")
    trainable = [p.requires_grad for p in model.parameters()]
    model.to(device)
    for p, flag in zip(model.parameters(), trainable, strict=True):
        p.requires_grad_(flag)  # MLP.to() detaches: trainable parameters stay trainable


# -----------------------------------------------------------------------------
# the loop


def train(
    model: Model,
    X: torch.Tensor,
    Y: torch.Tensor,
    cfg: TrainConfig,
    callback: StepCallback | None = None,
) -> torch.Tensor:
    """Train `model` in place with minibatch SGD; return the (steps,) CPU tensor of minibatch
    losses. The model is in training mode during and in eval mode after; `callback(step, lr)`
    runs after each update, with every parameter's `.grad` holding that step's gradient."""
    if cfg.backend not in ("auto", "autograd"):
        raise ValueError(f"backend must be 'auto' or 'autograd', not {cfg.backend!r}")
    device = resolve_device(cfg.device, X.device)
    _move_model(model, device)
    X, Y = X.to(device), Y.to(device)
    losses = torch.empty(cfg.steps, device=device)
    fast = cfg.backend == "auto" and analytic.supports(model)
    run = _run_analytic if fast else _run_autograd
    model.train()
    run(model, X, Y, cfg, callback, losses)
    model.eval()
    return losses.cpu()


def _run_autograd(model, X, Y, cfg, callback, losses) -> None:
    params = list(model.parameters())
    data = [p.detach() for p in params]  # the update writes through these, like p.data
    for start, ix in minibatch_chunks(X.shape[0], cfg, X.device):
        Xc, Yc = X[ix], Y[ix]  # (chunk, B, block_size), (chunk, B)
        chunk_losses = []
        for j, (x, y) in enumerate(zip(Xc.unbind(0), Yc.unbind(0), strict=True)):
            logits = model(x)  # (B, vocab)
            loss = F.cross_entropy(logits, y)
            for p in params:
                p.grad = None
            loss.backward()
            lr = cfg.lr_at(start + j)
            torch._foreach_add_(data, [p.grad for p in params], alpha=-lr)
            chunk_losses.append(loss.detach())
            if callback is not None:
                callback(start + j, lr)
        losses[start:start + len(chunk_losses)] = torch.stack(chunk_losses)


def _run_analytic(model, X, Y, cfg, callback, losses) -> None:
    kernel = analytic.MLPKernel(model, cfg.batch_size)
    for start, ix in minibatch_chunks(X.shape[0], cfg, X.device):
        Xc = X[ix].view(ix.shape[0], -1)  # (chunk, B * block_size)
        Tc = kernel.targets(Y[ix])  # (chunk, B, vocab)
        Tf = Tc.view(ix.shape[0], -1)  # (chunk, B * vocab)
        chunk_losses = []
        for j, (x, t, tf) in enumerate(zip(Xc.unbind(0), Tc.unbind(0), Tf.unbind(0), strict=True)):
            if callback is not None:
                kernel.fresh_grads()  # the callback may keep this step's p.grad
            chunk_losses.append(kernel.step(x, t, tf))
            lr = cfg.lr_at(start + j)
            kernel.update(lr)
            if callback is not None:
                callback(start + j, lr)
        losses[start:start + len(chunk_losses)] = torch.stack(chunk_losses)


# -----------------------------------------------------------------------------
# evaluation


@torch.inference_mode()
def split_loss(model: Model, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Mean cross-entropy of `model` on (X, Y), in eval mode, as a plain float (computed on the
    model's device)."""
    model.eval()
    device = model_device(model)
    return F.cross_entropy(model(X.to(device)), Y.to(device)).item()


def smooth_log10(losses: torch.Tensor, window: int = 1000) -> torch.Tensor:
    """log10 of the loss averaged over consecutive windows: the readable training curve."""
    n = (losses.numel() // window) * window
    return losses[:n].log10().view(-1, window).mean(1)  # (steps // window,)
