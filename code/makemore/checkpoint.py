"""Checkpoints: a trained model, its vocabulary and its config in one file, written atomically.

A checkpoint is a plain dict saved with `torch.save`:

    {"format": "makemore-checkpoint", "version": 3, "model_type": "mlp",
     "config": {...},            # the model's config dataclass as a dict: rebuilds the model
     "vocab": [".", "a", ...],   # index -> character, so samples decode without the data file
     "state": {"2.weight": tensor, ...},  # parameters and buffers by name, on the CPU
     "training": {"optimizer": {...}, "forward_rng": tensor or None},  # to resume exactly
     "meta": {...}}              # how it was trained: steps, seed, data, losses (plain values)

It is read back with `torch.load(weights_only=True)`, which only unpickles tensors and plain
containers (never code from the file), and then checked field by field before it is used:
anything that is not a checkpoint of ours, or holds a weight that is not finite, a config the
command line would not have built (with its bounds: the sizes checked and the parameters
counted before anything is allocated, see `makemore.zoo.Kind.rebuild`), a vocabulary character
that is not printable, an optimizer or random state that does not fit the model, or a meta
field a resumed run reads (`META_CHECKS`) of the wrong type or range, raises CheckpointError
with a one-line message naming the file. A checkpoint is never written with a weight that is
not finite.

Files are written with `makemore.files.atomic_write`, so a crash
or an interrupt never leaves a half-written checkpoint.

References: https://pytorch.org/docs/stable/generated/torch.load.html (weights_only)
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from makemore.data import BOUNDARY, Vocab
from makemore.files import atomic_write
from makemore.training import check_optimizer_state
from makemore.zoo import KINDS, MAX_BATCH, MAX_STEPS

FORMAT = "makemore-checkpoint"
VERSION = 3  # bump when the layout changes; older versions are refused with a clear message


class CheckpointError(ValueError):
    """A file that is not a usable makemore checkpoint; the message is one line naming it."""


# -----------------------------------------------------------------------------
# a model's tensors


def _named_tensors(model: Any) -> dict[str, torch.Tensor]:
    """The model's parameters and buffers (BatchNorm running statistics) by name: its
    `state_dict` for a `torch.nn.Module`, `named_parameters` and `named_buffers` for the book's
    own models. Nothing else: a generator state is not part of a model."""
    if isinstance(model, torch.nn.Module):
        return dict(model.state_dict())
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}


def model_state(model: Any) -> dict[str, torch.Tensor]:
    """Every tensor the model holds (parameters and BatchNorm running statistics), on the CPU."""
    return {name: t.detach().cpu().clone() for name, t in _named_tensors(model).items()}


def load_state(model: Any, state: dict[str, torch.Tensor]) -> None:
    """Copy `state` into a freshly built model, in place; ValueError unless it fits exactly."""
    own = model_state(model)
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or extra:
        raise ValueError(f"tensors do not match the model (missing {missing}, unexpected {extra})")
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"state {name!r} is not a tensor")
        if t.shape != own[name].shape or t.dtype != own[name].dtype:
            raise ValueError(
                f"tensor {name!r} is {t.dtype} {tuple(t.shape)}, the model needs "
                f"{own[name].dtype} {tuple(own[name].shape)}"
            )
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise ValueError(f"tensor {name!r} holds values that are not finite")
    if isinstance(model, torch.nn.Module):
        model.load_state_dict(state)
        return
    tensors = _named_tensors(model)
    with torch.no_grad():
        for name, t in state.items():
            tensors[name].copy_(t)  # in place: parameters keep requires_grad


# -----------------------------------------------------------------------------
# writing


def _plain(value: Any, where: str) -> Any:
    """`value` if it is made of str, int, float, bool, None, lists and str-keyed dicts only:
    what `torch.load(weights_only=True)` reads back. A TypeError names the offending field."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if type(value) in (list, tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    raise TypeError(f"{where} is a {type(value).__name__}: a checkpoint holds plain values only")


def save(
    path: str | os.PathLike,
    model_type: str,
    config: dict[str, Any],
    vocab: Vocab,
    model: Any,
    meta: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint of `model` atomically; return its path. `training` is a
    `makemore.training.TrainState.snapshot()`, for a run to be resumed exactly. ValueError
    (and nothing written) when a weight is not finite: a diverged model is no checkpoint."""
    if model_type not in KINDS:
        raise ValueError(f"unknown model type {model_type!r}")
    state = model_state(model)
    broken = [name for name, t in state.items() if not torch.isfinite(t).all()]
    if broken:
        raise ValueError(f"weights that are not finite ({', '.join(broken[:3])}): "
                         "a diverged model is not saved")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_type": model_type,
        "config": _plain(dict(config), "config"),
        "vocab": list(vocab.itos),
        "state": state,
        "training": training or {"optimizer": {}, "forward_rng": None},
        "meta": _plain(dict(meta or {}), "meta"),
    }
    return atomic_write(path, lambda f: _torch_save(payload, f))


class _Recording:
    """A file as `torch.save` writes it, keeping the OSError a write raised: torch's zip
    writer swallows it and raises a RuntimeError of its own ("enforce fail at
    inline_container.cc ... unexpected pos"), which names neither the file nor the cause."""

    def __init__(self, f: Any):
        self.f, self.error = f, None

    def write(self, data: Any) -> int:
        try:
            return self.f.write(data)
        except OSError as err:
            self.error = err
            raise

    def flush(self) -> None:
        self.f.flush()


def _torch_save(payload: dict[str, Any], f: Any) -> None:
    """`torch.save(payload, f)`, raising the OSError of a failed write (a full disk: ENOSPC)
    as itself, so a caller that handles OSError handles it."""
    sink = _Recording(f)
    try:
        torch.save(payload, sink)
    except RuntimeError:
        if sink.error is None:
            raise
        raise sink.error from None


# -----------------------------------------------------------------------------
# reading


@dataclass
class Checkpoint:
    path: Path
    model_type: str
    config: dict[str, Any]
    vocab: Vocab
    model: Any  # the rebuilt model, in eval mode, on the CPU
    meta: dict[str, Any]
    training: dict[str, Any]  # TrainState(**training) resumes the run exactly


def _check_vocab(itos: Any, size: Any) -> Vocab:
    if not isinstance(itos, (list, tuple)) or not all(isinstance(c, str) for c in itos):
        raise ValueError("the vocabulary is not a list of characters")
    if len(itos) != size or not itos or itos[0] != BOUNDARY:
        raise ValueError(f"the vocabulary has {len(itos)} entries for a model of {size}, "
                         f"or does not start with {BOUNDARY!r}")
    if len(set(itos)) != len(itos) or any(len(c) != 1 for c in itos):
        raise ValueError("the vocabulary has repeated or multi-character entries")
    if any(not c.isprintable() or c.isspace() for c in itos):
        raise ValueError("the vocabulary has characters that are not printable")
    return Vocab(itos=tuple(itos))


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether `path` is a file this module wrote (any version): what training may replace."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # not a torch file at all
        return False
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def _check_training(training: Any, model: Any, optimizer: str) -> dict[str, Any]:
    """The run's state besides the weights, checked against the rebuilt model before a run
    loads it: the optimizer's state fits the model's parameters (`makemore.training.
    check_optimizer_state`), and the random state is None or one a generator takes."""
    if not isinstance(training, dict) or set(training) != {"optimizer", "forward_rng"}:
        raise ValueError("no training state (optimizer, forward_rng)")
    opt, rng = training["optimizer"], training["forward_rng"]
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    check_optimizer_state(opt, params, optimizer)
    if rng is not None:
        if not (isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8 and rng.dim() == 1):
            raise ValueError("the random state is not a byte tensor")
        try:
            torch.Generator().set_state(rng)
        except RuntimeError:
            raise ValueError(f"the random state ({rng.numel()} bytes) is not a generator's "
                             "state") from None
    return training


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


# What a checkpoint's meta may hold, where a run reads it back (a resumed run takes its seed,
# rate, batch size and weight decay from there, and its error messages show the word list's
# name): each field, when present, must pass its check; other fields are kept as they are.
META_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "steps": (f"a whole number from 0 to {MAX_STEPS:,}",
              lambda v: type(v) is int and 0 <= v <= MAX_STEPS),
    "seed": ("a whole number from 0 to 2**63 - 1", lambda v: type(v) is int and 0 <= v < 2**63),
    "lr": ("a positive number", lambda v: _is_number(v) and v > 0),
    "weight_decay": ("a number, 0 or more", lambda v: _is_number(v) and v >= 0),
    "batch_size": (f"a whole number from 1 to {MAX_BATCH:,}",
                   lambda v: type(v) is int and 1 <= v <= MAX_BATCH),
    "data": ("a text", lambda v: type(v) is str),
    "n_words": ("a whole number, 1 or more", lambda v: type(v) is int and v >= 1),
    "data_sha256": ("64 hexadecimal digits",
                    lambda v: type(v) is str and len(v) == 64
                    and all(c in "0123456789abcdef" for c in v)),
    "resumed_at": ("a whole number, 0 or more", lambda v: type(v) is int and v >= 0),
    **{name: ("a number or None", lambda v: v is None or _is_number(v))
       for name in ("dev_loss", "best_dev_loss", "train_loss", "final_minibatch_loss")},
}


def _check_meta(meta: dict[str, Any]) -> None:
    for name, (want, ok) in META_CHECKS.items():
        if name in meta and not ok(meta[name]):
            raise ValueError(f"meta {name!r} is {meta[name]!r}, not {want}")


def load(path: str | os.PathLike) -> Checkpoint:
    """Read and check a checkpoint and rebuild its model; CheckpointError if anything is off."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a file")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles: the error says enough
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # not a torch file, truncated, or pickled code weights_only refuses
        raise CheckpointError(
            f"{path}: not a makemore checkpoint (torch.load failed: {type(err).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a makemore checkpoint (no {FORMAT!r} marker)")
    version = payload.get("version")
    if version != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {version!r}, this makemore reads version {VERSION}"
        )
    model_type = payload.get("model_type")
    if model_type not in KINDS:
        raise CheckpointError(
            f"{path}: unknown model type {model_type!r} (known: {', '.join(KINDS)})"
        )
    try:
        config, state = payload.get("config"), payload.get("state")
        meta = payload.get("meta", {})
        if not all(isinstance(x, dict) for x in (config, state, meta)):
            raise ValueError("config, state and meta must be dicts")
        _check_meta(meta)
        model = KINDS[model_type].rebuild(config)  # every field checked, sizes bounded
        vocab = _check_vocab(payload.get("vocab"), config.get("vocab_size"))
        load_state(model, state)
        training = _check_training(payload.get("training"), model,
                                   KINDS[model_type].recipe.optimizer)
    except (ValueError, TypeError, RuntimeError, KeyError) as err:  # torch: bad sizes
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(f"{path}: broken {model_type} checkpoint: {message}") from None
    if hasattr(model, "eval"):
        model.eval()
    return Checkpoint(path, model_type, dict(config), vocab, model, dict(meta), training)
