"""The one training loop of the book, and evaluation over a split.

Every model from Part 1 on is trained by `train`: the neural bigram (full batch, with its
weight penalty), the MLPs of Parts 2-5 (minibatch SGD with a step-decayed learning rate), the
learning-rate finder of Part 2 (one step at each rate of a sweep), and the sequence models of
Chapter 6 (AdamW with warm-up and decay). One step is always the lecture's: a minibatch, the
forward pass, the cross-entropy, the backward pass, the update.

How the forward and backward are computed is the model's business. By default a step is the
lecture's autograd step (`AutogradStep`), asking the model for two things it may know better:
`model.loss(x, y)`, its own loss (the bigram's is fused, see `makemore.bigram.neural_loss`),
and `model.prepare_batch(x, y)`, its own cut of a minibatch (the sequence models drop the
padding no word reaches, `makemore.sequences.trim_padding`). A model may also offer a step with
a backward written by hand, `model.manual_step(cfg)` (None when it has none for that recipe):
the stacks of `makemore.layers` train that way with no autograd graph (several times the
lecture's steps per second; `bench/train_speed.py` measures it). Any model whose activations
are being recorded trains on autograd; `TrainConfig.backend = "autograd"` turns the manual
steps off. Three more savings apply to every model: minibatch indices are drawn a chunk of
steps at a time (the same sequence as the lecture's per-step `torch.randint(...,
generator=g)`), losses stay on the device until the end of a chunk (no host sync per step),
and the SGD update is one fused `_foreach_add_`.

A model here is anything with `model(X) -> logits`, `model.parameters()`, and `train()` /
`eval()` (BatchNorm behaves differently in the two modes). Logits are (B, V) for a window of
context, or (B, T, V) for a sequence model, whose targets use -1 for positions to ignore.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from makemore.lecture import PART2_RECIPE, SEED
from makemore.sequences import IGNORE

# -----------------------------------------------------------------------------
# configuration


# The schedules: what the learning rate is at each step. Each is a frozen dataclass with
# `lr` (the rate it starts from, or peaks at) and `lr_at(step)`; `TrainConfig.schedule` takes
# any of them.


@dataclass(frozen=True)
class Constant:
    """The same rate at every step."""

    lr: float

    def lr_at(self, step: int) -> float:
        return self.lr


@dataclass(frozen=True)
class StepDecay:
    """lr until `decay_step`, then `final`: the lectures' schedule."""

    lr: float
    decay_step: int
    final: float

    def lr_at(self, step: int) -> float:
        return self.lr if step < self.decay_step else self.final


@dataclass(frozen=True)
class Drops:
    """A learning rate that starts at `lr` and drops at given steps: `drops` holds (step, lr)
    pairs, each rate in force from its step on (StepDecay is the case of one drop)."""

    lr: float
    drops: tuple[tuple[int, float], ...]

    def lr_at(self, step: int) -> float:
        lr = self.lr
        for start, value in self.drops:
            if step >= start:
                lr = value
        return lr


@dataclass(frozen=True)
class Sweep:
    """One given learning rate per step: the learning-rate finder's schedule."""

    lrs: tuple[float, ...]

    @property
    def lr(self) -> float:
        return self.lrs[0]

    def lr_at(self, step: int) -> float:
        return self.lrs[step]


@dataclass(frozen=True)
class WarmupCosine:
    """Linear warm-up from 0 to `lr` over `warmup` steps, then a cosine down to `final` at
    `steps` (the recipe of GPT-style training)."""

    lr: float
    warmup: int
    steps: int
    final: float = 0.0

    def lr_at(self, step: int) -> float:
        return _after_warmup(self, step, lambda progress: self.final + 0.5 * (
            self.lr - self.final) * (1 + math.cos(math.pi * progress)))


@dataclass(frozen=True)
class WarmupLinear:
    """Linear warm-up from 0 to `lr` over `warmup` steps, then a straight line down to `final`
    at `steps` (Chapter 6's Transformer recipe; `warmup=0` is a plain linear decay)."""

    lr: float
    warmup: int
    steps: int
    final: float = 0.0

    def lr_at(self, step: int) -> float:
        return _after_warmup(self, step,
                             lambda progress: self.lr + (self.final - self.lr) * progress)


def _after_warmup(schedule, step: int, decay: Callable[[float], float]) -> float:
    """The warm-up schedules' shared part: a linear rise to `schedule.lr` over its first
    `warmup` steps, then `decay(progress)`, progress running from 0 after the warm-up to 1 at
    `steps`."""
    if step < schedule.warmup:
        return schedule.lr * (step + 1) / schedule.warmup
    return decay((step - schedule.warmup) / max(1, schedule.steps - schedule.warmup))


@dataclass(frozen=True)
class Shifted:
    """A schedule seen from step `start` on: step s of this run is step start + s of the
    schedule, so a run trained in segments (resumed from a checkpoint, or cut into pieces to be
    evaluated between them) follows one schedule."""

    schedule: Any
    start: int

    @property
    def lr(self) -> float:
        return self.schedule.lr

    def lr_at(self, step: int) -> float:
        return self.schedule.lr_at(self.start + step)


Schedule = Constant | StepDecay | Drops | Sweep | WarmupCosine | WarmupLinear | Shifted

# The lectures' schedule (Parts 2-4): lr 0.1, then 0.01 from step 100,000.
LECTURE_SCHEDULE = StepDecay(PART2_RECIPE["lr"], PART2_RECIPE["lr_decay_step"],
                             PART2_RECIPE["lr_final"])


@dataclass
class TrainConfig:
    """A training run's recipe: how many steps, on what minibatches, at which rates."""

    steps: int = PART2_RECIPE["steps"]
    batch_size: int | None = PART2_RECIPE["batch_size"]  # None: every step sees all of X
    schedule: Schedule = LECTURE_SCHEDULE  # the learning rate at each step
    optimizer: str = "sgd"  # "sgd" (plain, as the lectures) or "adamw"
    betas: tuple[float, float] = (0.9, 0.99)  # AdamW only (makemore.py's)
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    l2: float = 0.0  # adds l2 * mean(p**2) per parameter to the loss (Part 1's regularisation)
    seed: int = SEED  # seeds the minibatch generator
    # Where the minibatch generator starts: None seeds it with `seed`; a state from
    # `torch.Generator.get_state()` continues that generator, as the lecture's Part 3 draws
    # its minibatches from the same `g` that drew the weights (see MLP.rng_state).
    rng_state: torch.Tensor | None = None
    backend: str = "auto"  # "auto": the model's manual_step when it has one; or "autograd"
    device: str | None = None  # None: where X is; "cuda" (falls back to CPU if absent) or "cpu"

    @classmethod
    def from_lecture(cls, recipe: dict, **fields) -> TrainConfig:
        """A lecture's recipe (`makemore.lecture.PART2_RECIPE` and the like: steps,
        batch_size, lr, lr_decay_step, lr_final) as a TrainConfig; `fields` set the rest."""
        schedule = StepDecay(recipe["lr"], recipe["lr_decay_step"], recipe["lr_final"])
        return cls(steps=recipe["steps"], batch_size=recipe["batch_size"], schedule=schedule,
                   **fields)

    @property
    def lr(self) -> float:
        """The rate the schedule starts from (or peaks at)."""
        return self.schedule.lr

    def lr_at(self, step: int) -> float:
        return self.schedule.lr_at(step)


class Model(Protocol):
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...
    def parameters(self): ...
    def train(self, mode: bool = True): ...
    def eval(self): ...


class Step(Protocol):
    """How one training step computes the loss and the gradients (see `AutogradStep`)."""

    grad_enabled: bool  # whether the loop runs `step` with autograd on

    def batches(self, Xc: torch.Tensor, Yc: torch.Tensor) -> Iterable[tuple]: ...
    def step(self, *batch) -> torch.Tensor: ...  # the loss, 0-dim; gradients left in p.grad
    def fresh_grads(self) -> None: ...


# (step, lr, loss): called after each update, with every parameter's .grad holding that step's
# gradient; `loss` is that step's minibatch loss, a 0-dim tensor (`.item()` syncs).
StepCallback = Callable[[int, float, torch.Tensor], None]

CHUNK_ELEMENTS = 1 << 16  # a chunk holds about this many examples (1,000 steps cap)


# -----------------------------------------------------------------------------
# minibatches


def minibatch_generator(cfg: TrainConfig) -> torch.Generator:
    """The CPU generator the minibatches come from: seeded with cfg.seed, or continuing from
    cfg.rng_state when it is set."""
    g = torch.Generator()
    if cfg.rng_state is not None:
        g.set_state(cfg.rng_state)
    else:
        g.manual_seed(cfg.seed)
    return g


def minibatch_indices(n: int, cfg: TrainConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """(steps, batch_size) example indices, the same sequence the lecture's per-step
    `torch.randint(0, n, (batch_size,), generator=g)` draws from a generator seeded with cfg.seed.
    """
    ix = torch.randint(0, n, (cfg.steps, cfg.batch_size), generator=minibatch_generator(cfg))
    return ix.to(device)


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


def _chunks(X: torch.Tensor, Y: torch.Tensor, cfg: TrainConfig
            ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(first step, X chunk, Y chunk): (chunk, B, ...) minibatches, or the whole of X and Y
    repeated (expanded, not copied) when cfg.batch_size is None."""
    if cfg.batch_size is None:
        for start in range(0, cfg.steps, 1000):
            size = min(1000, cfg.steps - start)
            yield start, X.expand(size, *X.shape), Y.expand(size, *Y.shape)
        return
    for start, ix in minibatch_chunks(X.shape[0], cfg, X.device):
        yield start, X[ix], Y[ix]  # (chunk, B, ...), (chunk, B, ...)


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
    model.to(device)


# -----------------------------------------------------------------------------
# the step: autograd, unless the model offers a faster route


def cross_entropy(logits: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the targets: (B, V) logits and (B,) targets, or (B, T, V)
    and (B, T) with -1 at the positions to ignore (a mean over the characters that count)."""
    if logits.ndim == 3:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1),
                               ignore_index=IGNORE)
    return F.cross_entropy(logits, Y)


class AutogradStep:
    """The lecture's step: forward, the loss (+ the l2 penalty), `loss.backward()`.

    The model may say how its loss is computed (`model.loss(x, y)`, else the cross-entropy of
    `model(x)`) and how a minibatch is cut before the forward pass (`model.prepare_batch(x,
    y)`, else as drawn). The forward pass draws its random numbers (dropout's masks) from a
    stream of the step's own, seeded with `cfg.seed`, instead of torch's global one: the same
    seed gives the same run whatever ran before it in the process, and the caller's global
    random state is left as it was.
    """

    grad_enabled = True

    def __init__(self, model: Model, cfg: TrainConfig):
        self.model, self.params, self.l2 = model, list(model.parameters()), cfg.l2
        self.loss = getattr(model, "loss", None) or (lambda x, y: cross_entropy(model(x), y))
        self.prepare = getattr(model, "prepare_batch", None)
        self.rng_state = torch.Generator().manual_seed(cfg.seed).get_state()  # the forward's

    def batches(self, Xc: torch.Tensor, Yc: torch.Tensor) -> Iterable[tuple]:
        return zip(Xc.unbind(0), Yc.unbind(0), strict=True)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.prepare is not None:
            x, y = self.prepare(x, y)
        with torch.random.fork_rng(devices=[]):  # the global state is put back afterwards
            torch.random.set_rng_state(self.rng_state)
            loss = self.loss(x, y)  # dropout's masks, if any, are drawn here
            self.rng_state = torch.random.get_rng_state()
        if self.l2:
            loss = loss + self.l2 * sum((p**2).mean() for p in self.params)
        for p in self.params:
            p.grad = None
        loss.backward()
        return loss.detach()

    def fresh_grads(self) -> None:
        pass  # backward() makes new gradient tensors every step


def training_step(model: Model, cfg: TrainConfig) -> Step:
    """The step `train` runs: the model's step with a hand-written backward for this recipe
    if it has one (and the backend allows it), else autograd."""
    if cfg.backend not in ("auto", "autograd"):
        raise ValueError(f"backend must be 'auto' or 'autograd', not {cfg.backend!r}")
    manual = getattr(model, "manual_step", None)
    if cfg.backend == "auto" and manual is not None:
        step = manual(cfg)
        if step is not None:
            return step
    return AutogradStep(model, cfg)


# -----------------------------------------------------------------------------
# the update


class _SGD:
    def __init__(self, params: list[torch.Tensor], same_grads: bool):
        self.params = params
        self.data = [p.detach() for p in params]  # the update writes through these, like p.data
        self.same_grads = same_grads  # the step reuses its .grad tensors: list them once
        self.grads = None

    def __call__(self, lr: float) -> None:
        grads = self.grads
        if grads is None:
            grads = [p.grad for p in self.params]
            if self.same_grads:
                self.grads = grads
        torch._foreach_add_(self.data, grads, alpha=-lr)

    def state_dict(self) -> dict:
        return {}  # plain SGD keeps nothing but the weights

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError("plain SGD has no state to load")


def check_optimizer_state(state: Any, params: list[torch.Tensor], optimizer: str) -> None:
    """Refuse (ValueError) an optimizer state (`state_dict()`'s) that does not fit `params`:
    plain SGD has none; AdamW's has, for some of the parameters (by position, as a string),
    the step count (a scalar) and the running averages (the parameter's shape), finite,
    neither the count nor the average of squares negative."""
    if not isinstance(state, dict):
        raise ValueError("the optimizer state is not a dict")
    if optimizer != "adamw":
        if state:
            raise ValueError("plain SGD has no state to load")
        return
    if set(state) - {str(i) for i in range(len(params))}:
        raise ValueError("optimizer state for parameters the model does not have")
    for i, p in enumerate(params):
        saved = state.get(str(i))
        if saved is None:
            continue
        want = {"step": (), "exp_avg": tuple(p.shape), "exp_avg_sq": tuple(p.shape)}
        if not isinstance(saved, dict) or set(saved) != set(want) or any(
                not isinstance(saved[k], torch.Tensor) or not saved[k].is_floating_point()
                or tuple(saved[k].shape) != w or not torch.isfinite(saved[k]).all()
                for k, w in want.items()):
            raise ValueError(f"optimizer state {i} does not fit its parameter")
        if saved["step"] < 0 or (saved["exp_avg_sq"] < 0).any():
            raise ValueError(f"optimizer state {i} has a negative step count or average")


class _AdamW:
    """torch's AdamW, fused: one kernel per parameter does the whole update. On a CPU, foreach
    runs each operation of the update parameter by parameter: for makemore.py's Transformer
    (53 parameter tensors) that took 3-4 times as long, a sixth of a step on the manual path."""

    def __init__(self, params: list[torch.Tensor], cfg: TrainConfig):
        self.opt = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas,
                                     weight_decay=cfg.weight_decay, fused=True)

    def __call__(self, lr: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()

    def state_dict(self) -> dict:
        """AdamW's running averages and step counts, per parameter (in `parameters()` order)."""
        return {str(i): {k: v.detach().clone() for k, v in self.opt.state[p].items()}
                for i, p in enumerate(self._params()) if self.opt.state[p]}

    def load_state_dict(self, state: dict) -> None:
        params = self._params()
        check_optimizer_state(state, params, "adamw")
        for i, p in enumerate(params):
            saved = state.get(str(i))
            if saved is None:
                continue
            self.opt.state[p] = {k: v.to(p.device, torch.float32 if k == "step" else p.dtype)
                                 .clone() for k, v in saved.items()}

    def _params(self) -> list[torch.Tensor]:
        return [p for group in self.opt.param_groups for p in group["params"]]


# -----------------------------------------------------------------------------
# the loop


@dataclass
class Clock:
    """What a run's budget counts: the CPU seconds of its training (minibatches, forward,
    backward, update) and its steps, over one or more calls of `train`. The callbacks'
    time (evaluation, recording, logging) is left out, so runs that are looked at more often
    are not charged for it. CPU time, not wall time: another process busy on the same machine
    slows it much less (see `LossTrace`)."""

    seconds: float = 0.0
    steps: int = 0


@dataclass
class TrainState:
    """What a run holds besides its weights, to continue exactly where it stopped: the
    optimizer's state (AdamW's running averages; plain SGD has none) and the stream the
    autograd step draws dropout's masks from. (The minibatch order is not kept: it is drawn
    again from the seed, see `TrainConfig.rng_state`.)

    Give one to `train`: what it holds is loaded into the run (a resumed run), and during the
    run `snapshot()` (from a callback, say) returns the run's state as plain tensors, which a
    `TrainState(**snapshot)` given to the next `train` continues.
    """

    optimizer: dict | None = None
    forward_rng: torch.Tensor | None = None

    def attach(self, update, step) -> None:
        """Load the saved state into a run's update and step, and follow them from now on."""
        if self.optimizer is not None:
            update.load_state_dict(self.optimizer)
        if self.forward_rng is not None and hasattr(step, "rng_state"):
            step.rng_state = self.forward_rng.clone()
        self._update, self._step = update, step

    def snapshot(self) -> dict:
        rng = getattr(self._step, "rng_state", None)
        return {"optimizer": self._update.state_dict(),
                "forward_rng": None if rng is None else rng.clone()}


def train(
    model: Model,
    X: torch.Tensor,
    Y: torch.Tensor,
    cfg: TrainConfig,
    callback: StepCallback | None = None,
    state: TrainState | None = None,
    clock: Clock | None = None,
) -> torch.Tensor:
    """Train `model` in place; return the (steps,) CPU tensor of minibatch losses, each taken
    before its update. The model is in training mode during and in eval mode after. `state`
    (optional) is where the run starts from and what it keeps besides the weights; `clock`
    (optional) counts the CPU seconds of the training itself, the callbacks left out."""
    if cfg.optimizer not in ("sgd", "adamw"):
        raise ValueError(f"optimizer must be 'sgd' or 'adamw', not {cfg.optimizer!r}")
    device = resolve_device(cfg.device, X.device)
    _move_model(model, device)
    X, Y = X.to(device), Y.to(device)
    params = list(model.parameters())
    path = training_step(model, cfg)
    # a callback that may keep a step's p.grad (a diagnostics recorder) gets fresh tensors each
    # step; one that declares `reads_grads = False` (a LossTrace) lets the step reuse them
    keeps_grads = callback is not None and getattr(callback, "reads_grads", True)
    same_grads = not keeps_grads and not path.grad_enabled  # no new .grad tensors per step
    update = _SGD(params, same_grads) if cfg.optimizer == "sgd" else _AdamW(params, cfg)
    if state is not None:
        state.attach(update, path)
    losses = torch.empty(cfg.steps, device=device)
    model.train()
    began, in_callbacks = time.process_time(), 0.0
    with nullcontext() if path.grad_enabled else torch.no_grad():
        for start, Xc, Yc in _chunks(X, Y, cfg):
            chunk_losses = []
            for j, batch in enumerate(path.batches(Xc, Yc)):
                if keeps_grads:
                    path.fresh_grads()  # the callback may keep this step's p.grad
                loss = path.step(*batch)
                lr = cfg.lr_at(start + j)
                update(lr)
                chunk_losses.append(loss)
                if callback is not None:
                    called = time.process_time()
                    callback(start + j, lr, loss)
                    in_callbacks += time.process_time() - called
            losses[start:start + len(chunk_losses)] = torch.stack(chunk_losses)
    if clock is not None:
        clock.seconds += time.process_time() - began - in_callbacks
        clock.steps += cfg.steps
    model.eval()
    return losses.cpu()


def lr_finder(model: Model, X: torch.Tensor, Y: torch.Tensor, exponents: torch.Tensor,
              cfg: TrainConfig | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's learning-rate sweep: one SGD step at each lr = 10**exponent, in order, on
    a fresh model (it trains it). Returns (exponents, losses), the minibatch loss *before* each
    step: where the loss falls fastest the learning rate is about right; where it turns up and
    explodes, too big. `cfg` gives the batch size, the seed and the backend (steps and schedule
    are the sweep's)."""
    exponents = torch.as_tensor(exponents, dtype=torch.float64)
    lrs = tuple((10.0 ** exponents).tolist())
    base = cfg or TrainConfig()
    sweep = TrainConfig(steps=len(lrs), batch_size=base.batch_size, schedule=Sweep(lrs),
                        seed=base.seed, rng_state=base.rng_state, backend=base.backend,
                        device=base.device)
    return exponents, train(model, X, Y, sweep)


# -----------------------------------------------------------------------------
# evaluation


# Predictions scored at once: a split larger than this is scored a slice at a time. Small
# slices keep every intermediate tensor in the CPU's cache; a whole split in one slice (hundreds
# of MB for a Transformer's hidden layer) runs much slower.
EVAL_POSITIONS = 1 << 13


@torch.inference_mode()
def split_loss(model: Model, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Mean cross-entropy of `model` on (X, Y), in eval mode, as a plain float (computed on the
    model's device).

    A split of more than EVAL_POSITIONS predictions (windows, or words times their length) is
    scored a slice at a time, so memory does not grow with the split, and the sums of the
    slices' losses are added in double precision.
    """
    model.eval()
    device = model_device(model)
    per_example = max(1, Y[0].numel())  # 1 for a window, T for a padded word
    rows = max(1, EVAL_POSITIONS // per_example)
    if len(Y) <= rows:
        return cross_entropy(model(X.to(device)), Y.to(device)).item()
    total, count = 0.0, 0
    for i in range(0, len(Y), rows):
        logits, y = model(X[i:i + rows].to(device)), Y[i:i + rows].to(device)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                 ignore_index=IGNORE, reduction="sum").item()
        count += int((y != IGNORE).sum())
    return total / count


def split_losses(model: Model, splits, names: tuple[str, ...] = ("train", "dev")
                 ) -> dict[str, float]:
    """{split name: mean cross-entropy} for `splits` (a `makemore.data.Splits`).

    The default leaves out "test" on purpose: the test split is evaluated once, at the end.
    """
    return {name: split_loss(model, *splits.split(name)) for name in names}


class LossTrace:
    """A `train` callback that evaluates `model` on (X, Y) every `every` steps and after the
    last (`steps`), noting (step, CPU seconds of training so far, loss) in `self.trace`.

    The clock is the process's CPU time (`time.process_time`), which another process busy on
    the same machine slows much less than it slows the wall clock, so runs made side by side
    stay comparable; the time spent evaluating is left out. The model is put back in training
    mode after each look.
    It never reads the gradients (`reads_grads`), so a hand-written step stays as fast.
    """

    reads_grads = False

    def __init__(self, model: Model, X: torch.Tensor, Y: torch.Tensor, every: int, steps: int):
        self.model, self.X, self.Y = model, X, Y
        self.every, self.steps = every, steps
        self.trace: list[tuple[int, float, float]] = []
        self._elapsed = 0.0
        self._since: float | None = None

    def __call__(self, step: int, lr: float, loss: torch.Tensor) -> None:
        now = time.process_time()
        if self._since is None:  # the first step's time is not seen: count from here
            self._since = now
        self._elapsed += now - self._since
        done = step + 1
        if done % self.every == 0 or done == self.steps:
            self.trace.append((done, self._elapsed, split_loss(self.model, self.X, self.Y)))
            self.model.train()
        self._since = time.process_time()


def smooth_log10(losses: torch.Tensor, window: int = 1000) -> torch.Tensor:
    """log10 of the loss averaged over consecutive windows: the readable training curve."""
    n = (losses.numel() // window) * window
    return losses[:n].log10().view(-1, window).mean(1)  # (steps // window,)
