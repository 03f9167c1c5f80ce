"""Checkpoints: a trained model, its vocabulary and its config in one file, written atomically.

A checkpoint is a plain dict saved with `torch.save`:

    {"format": "makemore-checkpoint", "version": 1, "model_type": "mlp",
     "config": {...},            # the model's config dataclass as a dict: rebuilds the model
     "vocab": [".", "a", ...],   # index -> character, so samples decode without the data file
     "state": {"W1": tensor, ...},  # every tensor of the model, on the CPU
     "meta": {...}}              # how it was trained: steps, seed, data, losses (plain values)

It is read back with `torch.load(weights_only=True)`, which only unpickles tensors and plain
containers (never code from the file), and then checked field by field: anything that is not a
checkpoint of ours raises CheckpointError with a one-line message naming the file.

Files are written to a temporary file in the target folder and renamed into place, so a crash
or an interrupt never leaves a half-written checkpoint (rename is atomic on POSIX).

References: https://pytorch.org/docs/stable/generated/torch.load.html (weights_only)
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from makemore.bigram import BigramConfig, NeuralBigram
from makemore.data import BOUNDARY, Vocab
from makemore.mlp import MLP, MLPConfig

FORMAT = "makemore-checkpoint"
VERSION = 1  # bump when the layout changes; older versions are refused with a clear message


class CheckpointError(ValueError):
    """A file that is not a usable makemore checkpoint; the message is one line naming it."""


# -----------------------------------------------------------------------------
# the model types a checkpoint can hold: config dict -> freshly initialised model


def _config(cls: type, config: dict[str, Any]) -> Any:
    """`cls(**config)`, refusing unknown fields and fields of the wrong type."""
    unknown = sorted(set(config) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"unknown config field(s) {unknown} for {cls.__name__}")
    defaults = asdict(cls())
    for key, value in config.items():
        if defaults[key] is None:
            continue  # an optional field: the config class checks it, if it cares
        want = type(defaults[key])
        ok = isinstance(value, want) or (want is float and type(value) is int)
        if not ok or (want is int and type(value) is bool):
            raise ValueError(f"config field {key!r} should be {want.__name__}, not {value!r}")
    return cls(**config)


def _build_mlp(config: dict[str, Any]) -> MLP:
    return MLP(_config(MLPConfig, config))


def _build_bigram(config: dict[str, Any]) -> NeuralBigram:
    config = dict(config)
    vocab_size = config.pop("vocab_size", None)
    if type(vocab_size) is not int or vocab_size < 2:
        raise ValueError(f"config field 'vocab_size' should be an int >= 2, not {vocab_size!r}")
    cfg = _config(BigramConfig, config)
    return NeuralBigram(vocab_size, cfg.seed)


BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "bigram": _build_bigram,  # Part 1: the neural bigram (makemore.bigram)
    "mlp": _build_mlp,  # Part 2: the MLP (makemore.mlp)
    "bn-mlp": _build_mlp,  # Part 3: the same MLP with BatchNorm and Kaiming-like scales
}


# -----------------------------------------------------------------------------
# a model's tensors


def model_state(model: Any) -> dict[str, torch.Tensor]:
    """Every tensor the model holds (parameters and BatchNorm running statistics), on the CPU.

    Works for a `torch.nn.Module` (its state_dict) and for the book's raw-tensor models, whose
    tensors are plain attributes.
    """
    if isinstance(model, torch.nn.Module):
        items = model.state_dict().items()
    else:
        items = ((k, v) for k, v in vars(model).items() if isinstance(v, torch.Tensor))
    return {name: t.detach().cpu().clone() for name, t in items}


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
    if isinstance(model, torch.nn.Module):
        model.load_state_dict(state)
        return
    with torch.no_grad():
        for name, t in state.items():
            getattr(model, name).copy_(t)  # in place: parameters keep requires_grad


# -----------------------------------------------------------------------------
# writing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None]) -> Path:
    """Call `write(file)` on a temporary file beside `path`, then rename it to `path`.

    The folder is created if needed. On any failure (or an interrupt) the temporary file is
    removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
) -> Path:
    """Write a checkpoint of `model` atomically; return its path."""
    if model_type not in BUILDERS:
        raise ValueError(f"unknown model type {model_type!r}")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_type": model_type,
        "config": _plain(dict(config), "config"),
        "vocab": list(vocab.itos),
        "state": model_state(model),
        "meta": _plain(dict(meta or {}), "meta"),
    }
    return atomic_write(path, lambda f: torch.save(payload, f))


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


def _check_vocab(itos: Any, size: Any) -> Vocab:
    if not isinstance(itos, (list, tuple)) or not all(isinstance(c, str) for c in itos):
        raise ValueError("the vocabulary is not a list of characters")
    if len(itos) != size or not itos or itos[0] != BOUNDARY:
        raise ValueError(f"the vocabulary has {len(itos)} entries for a model of {size}, "
                         f"or does not start with {BOUNDARY!r}")
    if len(set(itos)) != len(itos) or any(len(c) != 1 for c in itos):
        raise ValueError("the vocabulary has repeated or multi-character entries")
    return Vocab(itos=tuple(itos))


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
    if model_type not in BUILDERS:
        raise CheckpointError(
            f"{path}: unknown model type {model_type!r} (known: {', '.join(BUILDERS)})"
        )
    try:
        config, state = payload.get("config"), payload.get("state")
        meta = payload.get("meta", {})
        if not all(isinstance(x, dict) for x in (config, state, meta)):
            raise ValueError("config, state and meta must be dicts")
        model = BUILDERS[model_type](config)
        vocab = _check_vocab(payload.get("vocab"), config.get("vocab_size"))
        load_state(model, state)
    except (ValueError, TypeError, RuntimeError, KeyError) as err:  # torch: bad sizes
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(f"{path}: broken {model_type} checkpoint: {message}") from None
    if hasattr(model, "eval"):
        model.eval()
    return Checkpoint(path, model_type, dict(config), vocab, model, dict(meta))
