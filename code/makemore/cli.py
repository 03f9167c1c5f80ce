"""The command line: train a model on any word list, then make more words like it.

    python -m makemore train --model transformer --data names.txt --work-dir out
    python -m makemore train --model transformer --work-dir out --resume out/last.pt --steps 40000
    python -m makemore sample --checkpoint out/best.pt -n 20 --temperature 0.8 --top-k 5

This is makemore's promise ("give it a file with one item per line and it makes more like it")
kept with every model of the book and of makemore.py: `bigram` (Part 1, the one-layer neural
bigram trained full batch), `mlp` (Part 2, the MLP of Bengio et al. 2003, minibatch SGD),
`bn-mlp` (Part 3, the same MLP with BatchNorm and Kaiming-like initial scales), `wavenet`
(Part 5, eight characters fused two at a time), and makemore.py's sequence models, which read a
whole word and predict every next character at once: `rnn`, `gru`, `bow` (a causal bag of words)
and `transformer` (Chapter 6; AdamW with a warm-up and a linear decay). Training uses the
canonical 80/10/10 split of the words and reports the train and dev losses per character; the
checkpoint holds the vocabulary and the config, so `sample` needs nothing else (see
makemore.checkpoint).

Against makemore.py: the model's sizes are the same options (--n-layer, --n-head, --n-embd,
--n-embd2); `--work-dir` keeps the best checkpoint by dev loss (evaluated every --eval-every
steps, on the whole dev split) and the latest; `--resume FILE` continues a checkpoint's run (its
weights, its step count, the schedule and the order of the minibatches; AdamW's running averages
start afresh, and makemore.py's --resume restores the weights only); `sample --top-k` samples
from the k most likely characters only.

Bad input (a missing or empty word list, an unknown model, an option the model does not take, a
negative step count, a file that is not a checkpoint of ours, a checkpoint of another model or
vocabulary) gets one line on stderr and exit status 2, before any work starts; a checkpoint is
only ever written whole.

Reference: https://github.com/karpathy/makemore (makemore.py, the original command line)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

import makemore
from makemore import bigram, checkpoint, lecture, mlp, sampling, sequences, wavenet
from makemore.checkpoint import CheckpointError
from makemore.data import (
    DataError,
    Vocab,
    bigram_pairs,
    context_windows,
    load_corpus,
    split_words,
)
from makemore.lecture import SEED
from makemore.recurrent import RNN, BoW, ModelConfig
from makemore.training import (
    Shifted,
    StepDecay,
    TrainConfig,
    WarmupLinear,
    minibatch_generator,
    split_loss,
    train,
)
from makemore.transformer import Transformer, TransformerConfig

BIGRAM_STEPS = 500  # full-batch steps of the neural bigram: its loss has levelled off by then
SEQUENCE_STEPS = 20_000  # default steps of the sequence models
PROBE = 1024  # training examples the progress bar's loss is measured on
EVAL_EVERY = 500  # with --work-dir: evaluate on dev every this many steps (makemore.py's 500)
SIZES = ("block_size", "n_embd", "n_hidden", "n_embd2", "n_layer", "n_head", "dropout")


class UsageError(Exception):
    """Bad input from the command line; the message is one line."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# -----------------------------------------------------------------------------
# the models `train` knows


@dataclass(frozen=True)
class ModelKind:
    help: str
    family: str  # "bigram" (full batch on pairs), "window" (context windows), "sequence" (words)
    steps: int  # default number of training steps
    lr: float  # default (peak) learning rate
    build: Callable[[int, dict[str, Any], int], tuple[Any, dict[str, Any]]]  # -> model, config
    sample: Callable[..., list[str]]  # (model, vocab, n, generator, temperature, top_k)
    sizes: dict[str, Any] = field(default_factory=dict)  # the size options it takes: defaults
    batchnorm: bool = False  # needs a batch of at least 2
    check: Callable[[dict[str, Any]], None] | None = None  # UsageError on sizes it cannot take
    decay_at: float = 0.5  # window models: the learning rate drops tenfold after this share


def _build_bigram(V: int, sizes: dict[str, Any], seed: int):
    return bigram.NeuralBigram(V, seed), {"vocab_size": V, "seed": seed}


def _build_mlp(V: int, sizes: dict[str, Any], seed: int, batchnorm: bool = False):
    cfg = mlp.MLPConfig(vocab_size=V, seed=seed, **sizes)
    if batchnorm:  # Part 3: BatchNorm, tanh gain 5/3 over sqrt(fan_in), a quiet output layer
        fields = dict(lecture.PART3_STAGE_FIELDS["BatchNorm"], w1_scale=cfg.kaiming_tanh)
        cfg = replace(cfg, **fields)
    return mlp.MLP(cfg), asdict(cfg)


def _build_wavenet(V: int, sizes: dict[str, Any], seed: int):
    levels = sizes["block_size"].bit_length() - 1  # fuses pairs: block_size = 2 ** levels
    cfg = wavenet.WaveNetConfig(vocab_size=V, n_levels=levels, seed=seed, **sizes)
    return wavenet.wavenet(cfg), asdict(cfg)


def _build_recurrent(V: int, sizes: dict[str, Any], seed: int, cell: str):
    cfg = ModelConfig(vocab_size=V, **sizes)
    model = BoW(cfg, seed=seed) if cell == "bow" else RNN(cfg, cell, seed=seed)
    return model, asdict(cfg)


def _build_transformer(V: int, sizes: dict[str, Any], seed: int):
    # fused: LayerNorm and GELU by torch's kernels, the same functions (tests), faster steps
    cfg = TransformerConfig(vocab_size=V, fused=True, **sizes)
    return Transformer(cfg, seed=seed), asdict(cfg)


def _check_wavenet(sizes: dict[str, Any]) -> None:
    block = sizes["block_size"]
    if block < 2 or block & (block - 1):
        raise UsageError(f"--block-size: the wavenet fuses pairs of positions, so its context "
                         f"is a power of two (2, 4, 8, 16, ...), not {block}")


def _check_transformer(sizes: dict[str, Any]) -> None:
    if sizes["n_embd"] % sizes["n_head"]:
        raise UsageError(f"--n-embd {sizes['n_embd']} is not a multiple of --n-head "
                         f"{sizes['n_head']}: the heads split the embedding between them")


class _TopK:
    """A window model whose logits keep only their k largest (the rest -inf): sampling from it
    is top-k sampling, the filter makemore.py's `generate` applies."""

    def __init__(self, model: Any, k: int):
        self.model, self.k, self.block_size = model, k, model.block_size

    @property
    def training(self) -> bool:
        return bool(getattr(self.model, "training", False))

    def parameters(self):
        return self.model.parameters()

    def eval(self) -> _TopK:
        self.model.eval()
        return self

    def train(self, mode: bool = True) -> _TopK:
        self.model.train(mode)
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)  # (n, V)
        kth = logits.topk(min(self.k, logits.shape[-1]), dim=-1).values[:, -1:]  # (n, 1)
        return logits.masked_fill(logits < kth, float("-inf"))


def _sample_bigram(model, vocab, n, generator, temperature, top_k=None) -> list[str]:
    logits = model.W.detach() / temperature  # (V, V): row i, the logits after character i
    if top_k is not None:
        kth = logits.topk(min(top_k, logits.shape[1]), dim=1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return bigram.sample(torch.softmax(logits, dim=1), vocab, n, generator)


def _sample_window(model, vocab, n, generator, temperature, top_k=None) -> list[str]:
    model = _TopK(model, top_k) if top_k is not None else model
    return sampling.sample(model, vocab, n, generator=generator, temperature=temperature)


def _sample_sequence(model, vocab, n, generator, temperature, top_k=None) -> list[str]:
    return sequences.sample_words(model, vocab, n, generator=generator,
                                  temperature=temperature, top_k=top_k)


_MLP_SIZES = {k: lecture.PART2_MLP[k] for k in ("block_size", "n_embd", "n_hidden")}
_WAVENET_SIZES = {k: lecture.PART5_NET[k] for k in ("block_size", "n_embd", "n_hidden")}
_WAVENET_RECIPE = lecture.PART5_RECIPE
_RNN_SIZES = dict(lecture.MAKEMORE_MODEL)  # n_embd, n_embd2
_TRANSFORMER_SIZES = dict(lecture.MAKEMORE_TRANSFORMER, dropout=0.0)
LR = sequences.RECIPE_LR  # the sequence models' peak learning rates (Chapter 6)

MODELS: dict[str, ModelKind] = {
    "bigram": ModelKind("Part 1: the neural bigram, one V x V layer, full-batch descent",
                        "bigram", steps=BIGRAM_STEPS, lr=lecture.PART1_BIGRAM["lr"],
                        build=_build_bigram, sample=_sample_bigram),
    "mlp": ModelKind("Part 2: the MLP of Bengio et al. (2003), minibatch SGD",
                     "window", steps=TrainConfig.steps, lr=TrainConfig.lr,
                     build=_build_mlp, sample=_sample_window, sizes=_MLP_SIZES),
    "bn-mlp": ModelKind("Part 3: the MLP with BatchNorm and Kaiming-like initial scales",
                        "window", steps=TrainConfig.steps, lr=TrainConfig.lr,
                        build=lambda *a: _build_mlp(*a, batchnorm=True),
                        sample=_sample_window, sizes=_MLP_SIZES, batchnorm=True),
    "wavenet": ModelKind("Part 5: the WaveNet, 8 characters fused two at a time (the lecture's "
                         "recipe: lr drops tenfold after 3/4 of the steps)",
                         "window", steps=_WAVENET_RECIPE["steps"], lr=_WAVENET_RECIPE["lr"],
                         build=_build_wavenet, sample=_sample_window, sizes=_WAVENET_SIZES,
                         batchnorm=True, check=_check_wavenet,
                         decay_at=_WAVENET_RECIPE["lr_decay_step"] / _WAVENET_RECIPE["steps"]),
    "rnn": ModelKind("makemore.py's recurrent network (a tanh cell), whole words",
                     "sequence", steps=SEQUENCE_STEPS, lr=LR["rnn"],
                     build=lambda *a: _build_recurrent(*a, cell="rnn"),
                     sample=_sample_sequence, sizes=_RNN_SIZES),
    "gru": ModelKind("makemore.py's gated recurrent unit (Cho et al. 2014), whole words",
                     "sequence", steps=SEQUENCE_STEPS, lr=LR["gru"],
                     build=lambda *a: _build_recurrent(*a, cell="gru"),
                     sample=_sample_sequence, sizes=_RNN_SIZES),
    "bow": ModelKind("makemore.py's causal bag of words: the average of the past, whole words",
                     "sequence", steps=SEQUENCE_STEPS, lr=LR["bow"],
                     build=lambda *a: _build_recurrent(*a, cell="bow"),
                     sample=_sample_sequence, sizes=_RNN_SIZES),
    "transformer": ModelKind("Chapter 6: the Transformer (GPT), makemore.py's default sizes, "
                             "whole words", "sequence", steps=SEQUENCE_STEPS,
                             lr=LR["transformer"], build=_build_transformer,
                             sample=_sample_sequence, sizes=_TRANSFORMER_SIZES,
                             check=_check_transformer),
}


# -----------------------------------------------------------------------------
# a training run: the model, its data, its recipe, how it is scored


@dataclass
class Plan:
    model: Any
    config: dict[str, Any]  # rebuilds the model (makemore.checkpoint)
    X: torch.Tensor  # the training data
    Y: torch.Tensor
    dev: tuple[torch.Tensor, torch.Tensor] | None  # None when the split leaves no dev words
    tcfg: TrainConfig  # the whole run, from step 0
    loss: Callable[[Any, torch.Tensor, torch.Tensor], float]  # mean loss per character
    probe: bool  # whether the bar shows the loss on a fixed sample of training examples


def _bigram_loss(model, xs, ys) -> float:
    return bigram.nll(model.probs(), xs, ys)


def plan_run(words: list[str], vocab: Vocab, args: argparse.Namespace, sizes: dict[str, Any],
             device: torch.device) -> Plan:
    """The model `args.model` with `sizes`, its training data from the canonical split of
    `words`, and its recipe for `args.steps` steps."""
    kind = MODELS[args.model]
    tr, dev, _ = split_words(words)
    model, config = kind.build(len(vocab), sizes, args.seed)
    if hasattr(model, "to"):
        model.to(device)
    if kind.family == "bigram":
        X, Y = bigram_pairs(tr, vocab)
        dev_data = bigram_pairs(dev, vocab)
        tcfg = TrainConfig(steps=args.steps, batch_size=None, lr=args.lr,
                           schedule=StepDecay(args.lr, args.steps, args.lr),  # constant
                           l2=lecture.PART1_BIGRAM["reg"], seed=args.seed)
        return Plan(model, config, X, Y, dev_data if len(dev_data[1]) else None, tcfg,
                    _bigram_loss, probe=False)
    if kind.family == "window":
        X, Y = context_windows(tr, vocab, sizes["block_size"])
        dev_data = context_windows(dev, vocab, sizes["block_size"])
        decay = StepDecay(args.lr, int(args.steps * kind.decay_at), args.lr / 10)
        tcfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           schedule=decay, seed=args.seed)
    else:  # whole words, padded to the model's length
        X, Y = sequences.padded_words(tr, vocab, sizes["block_size"])
        dev_data = sequences.padded_words(dev, vocab, sizes["block_size"]) if dev else None
        warmup = sequences.warmup_steps(args.steps)
        tcfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, optimizer="adamw",
                           lr=args.lr, betas=lecture.MAKEMORE_OPTIM["betas"],
                           weight_decay=args.weight_decay,
                           schedule=WarmupLinear(args.lr, warmup, args.steps), seed=args.seed)
    if dev_data is not None and not len(dev_data[1]):
        dev_data = None
    return Plan(model, config, X.to(device), Y.to(device), dev_data, tcfg, split_loss,
                probe=True)


def _sequence_length(words: list[str]) -> int:
    """The length of a padded word for the sequence models: '.' then the longest word."""
    return max(len(w) for w in words) + 1


def plan_for(words: list[str], *options: str) -> Plan:
    """The run that `python -m makemore train OPTIONS` makes on `words`, from step 0: the
    model, its training data and its recipe, without the progress bar, the evaluations and the
    checkpoints. The chapters train the command line's models this way. Raises UsageError on
    options the command line refuses."""
    args = build_parser().parse_args(["train", *options])
    if args.resume is not None:
        raise UsageError("--resume: plan_for plans a run from step 0")
    args.model = args.model or "mlp"
    args.seed = SEED if args.seed is None else args.seed
    sizes = _resolve(args, MODELS[args.model], None)
    if MODELS[args.model].family == "sequence":
        sizes["block_size"] = _sequence_length(words)
    return plan_run(words, Vocab.from_words(words), args, sizes, torch.device("cpu"))


def resumed_config(plan: Plan, start: int) -> TrainConfig:
    """The rest of `plan`'s run from step `start`: the same schedule from there, and the
    minibatch generator where the first `start` steps left it (redrawn, not stored)."""
    cfg = plan.tcfg
    rest = replace(cfg, steps=cfg.steps - start, schedule=Shifted(cfg.schedule, start))
    if cfg.batch_size is None or start == 0:
        return rest
    g = minibatch_generator(cfg)
    for done in range(0, start, 10_000):  # the draws of the first `start` steps, in pieces
        torch.randint(0, len(plan.Y), (min(10_000, start - done), cfg.batch_size), generator=g)
    return replace(rest, rng_state=g.get_state())


def _progress_bar(args: argparse.Namespace, start: int):
    from tqdm import tqdm

    return tqdm(total=args.steps, initial=start, desc=args.model, unit="step", file=sys.stderr,
                disable=args.quiet, mininterval=0.25, dynamic_ncols=True)


# -----------------------------------------------------------------------------
# argument checks: each failure is one line


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {text}")
    return value


def _dropout(text: str) -> float:
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, not {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63 - 1, not {value}")
    return value


def _device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise UsageError(f"--device {name}: not a device (cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {name}: CUDA is not available on this machine")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise UsageError(f"--device {name}: this machine has {torch.cuda.device_count()} GPU(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"--device {name}: MPS is not available on this machine")
    if device.type not in ("cpu", "cuda", "mps"):
        raise UsageError(f"--device {name}: only cpu, cuda and mps are supported")
    return device


def _writable_folder(path: Path, flag: str) -> None:
    """Refuse, before any work, a folder that could not be written in (or made)."""
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{flag} {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write in {ancestor}")


def _writable_target(path: Path) -> None:
    """Refuse, before any work, an --out that could not be written."""
    if path.is_dir():
        raise UsageError(f"--out {path}: is a folder, not a file name")
    _writable_folder(path.parent, "--out")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is in --help)."""

    def error(self, message: str):
        raise UsageError(message)


# -----------------------------------------------------------------------------
# commands


def _resolve(args: argparse.Namespace, kind: ModelKind, resume: checkpoint.Checkpoint | None
             ) -> dict[str, Any]:
    """Fill the defaults of the options left out (from the checkpoint when resuming) and
    refuse the ones this model does not take; return the model's sizes."""
    for name in SIZES:
        if getattr(args, name) is not None and name not in kind.sizes:
            takes = ", ".join(_flag(s) for s in kind.sizes) or "no size options"
            raise UsageError(f"{_flag(name)}: --model {args.model} does not take it "
                             f"(it takes {takes})")
    if kind.family == "bigram" and args.batch_size is not None:
        raise UsageError("--batch-size: the bigram trains on every pair at each step")
    if kind.family != "sequence" and args.weight_decay is not None:
        raise UsageError(f"--weight-decay: --model {args.model} trains with plain SGD "
                         "(AdamW's weight decay is for the sequence models)")
    meta = resume.meta if resume is not None else {}
    sizes = {}
    for name, default in kind.sizes.items():
        value = getattr(args, name)
        if resume is not None:
            saved = resume.config.get(name)
            if value is not None and value != saved:
                raise UsageError(f"{_flag(name)} {value}: the checkpoint {resume.path} has "
                                 f"{saved}; leave it out to resume")
            value = saved
        sizes[name] = default if value is None else value
    if kind.family == "sequence" and resume is not None:
        sizes["block_size"] = resume.config["block_size"]
    args.steps = args.steps or kind.steps
    args.lr = args.lr or meta.get("lr") or kind.lr
    if kind.family != "bigram":
        args.batch_size = (args.batch_size or meta.get("batch_size")
                           or lecture.PART2_RECIPE["batch_size"])
    if kind.family == "sequence" and args.weight_decay is None:
        args.weight_decay = meta.get("weight_decay", sequences.RECIPE["weight_decay"])
    if kind.batchnorm and args.batch_size < 2:
        raise UsageError("--batch-size: BatchNorm needs a batch of at least 2")
    if kind.check is not None:
        kind.check(sizes)
    return sizes


def _load_resume(args: argparse.Namespace) -> checkpoint.Checkpoint | None:
    if args.resume is None:
        return None
    ckpt = checkpoint.load(args.resume)  # CheckpointError on anything that is not ours
    if args.model is None:
        args.model = ckpt.model_type
    elif args.model != ckpt.model_type:
        raise UsageError(f"--resume {ckpt.path}: holds a {ckpt.model_type}, not a {args.model}")
    done = ckpt.meta.get("steps")
    if type(done) is not int or done < 0:
        raise UsageError(f"--resume {ckpt.path}: the checkpoint does not say how many steps "
                         "it trained")
    if args.steps is not None and args.steps <= done:
        raise UsageError(f"--steps {args.steps}: the checkpoint {ckpt.path} has trained {done} "
                         "steps already; --steps counts them too, so ask for more")
    if args.seed is None:
        args.seed = ckpt.meta.get("seed", SEED)
    return ckpt


def cmd_train(args: argparse.Namespace) -> int:
    resume = _load_resume(args)
    args.model = args.model or "mlp"
    args.seed = SEED if args.seed is None else args.seed
    kind = MODELS[args.model]
    sizes = _resolve(args, kind, resume)
    start = resume.meta["steps"] if resume is not None else 0
    if start >= args.steps:
        raise UsageError(f"--steps {args.steps}: the checkpoint {resume.path} has trained "
                         f"{start} steps already; --steps counts them too, so ask for more")
    device = _device(args.device)
    torch.set_num_threads(args.threads)
    work = Path(args.work_dir) if args.work_dir else None
    if work is not None:
        if work.exists() and not work.is_dir():
            raise UsageError(f"--work-dir {work}: is a file, not a folder")
        _writable_folder(work, "--work-dir")
    out = Path(args.out) if args.out else (None if work else Path(f"checkpoints/{args.model}.pt"))
    if out is not None:
        _writable_target(out)

    corpus = load_corpus(args.data)  # DataError on a missing, empty or unreadable file
    if not split_words(corpus.words)[0]:
        raise DataError(f"{corpus.source}: {len(corpus.words)} word(s) leave nothing to train "
                        "on after the 80/10/10 train/dev/test split")
    vocab = Vocab.from_words(corpus.words)
    if resume is not None and resume.vocab != vocab:
        raise UsageError(f"--resume {resume.path}: its vocabulary ({len(resume.vocab)} "
                         f"characters) is not the one of {corpus.source} ({len(vocab)})")
    if kind.family == "sequence":
        longest = _sequence_length(corpus.words)
        if resume is None:
            sizes["block_size"] = longest
        elif longest > sizes["block_size"]:
            raise UsageError(f"--resume {resume.path}: reads words of up to "
                             f"{sizes['block_size'] - 1} characters; {corpus.source} has "
                             f"one of {longest - 1}")
    print(f"data: {len(corpus.words):,} words from {corpus.source}, "
          f"{len(vocab)} characters in the vocabulary")
    plan = plan_run(corpus.words, vocab, args, sizes, device)
    if resume is not None:
        checkpoint.load_state(plan.model, checkpoint.model_state(resume.model))
        print(f"resuming {resume.path} at step {start:,}")
    print(f"model: {args.model}, {args.steps:,} steps, seed {args.seed}, on {device}")

    meta = dict(data=corpus.source, n_words=len(corpus.words), seed=args.seed, lr=args.lr,
                makemore=makemore.__version__, torch=str(torch.__version__))
    if kind.family != "bigram":
        meta["batch_size"] = args.batch_size
    if kind.family == "sequence":
        meta["weight_decay"] = args.weight_decay
    if resume is not None:
        meta["resumed_from"] = str(resume.path)
        meta["resumed_at"] = start

    def evaluate(split: str) -> float | None:
        data = (plan.X, plan.Y) if split == "train" else plan.dev
        if data is None:
            return None
        value = plan.loss(plan.model, *data)
        if hasattr(plan.model, "train"):
            plan.model.train()  # the loss put it in eval mode; training goes on
        return value

    def save(path: Path, steps: int, dev: float | None, **more) -> None:
        checkpoint.save(path, args.model, plan.config, vocab, plan.model,
                        {**meta, "steps": steps, "dev_loss": dev, **more})

    best = resume.meta.get("best_dev_loss") if resume is not None else None
    best = best if isinstance(best, float) else None

    def checkpoint_work(steps: int) -> None:
        nonlocal best
        dev = evaluate("dev")
        save(work / "last.pt", steps, dev, best_dev_loss=best)
        note = ""
        if dev is not None and (best is None or dev < best):
            best = dev
            save(work / "best.pt", steps, dev, best_dev_loss=best)
            note = f", the best so far: saved {work / 'best.pt'}"
        shown = "n/a" if dev is None else f"{dev:.4f}"
        bar.write(f"step {steps:,}: dev loss {shown}{note}", file=sys.stdout)

    g = torch.Generator().manual_seed(args.seed)
    probe = torch.randperm(len(plan.Y), generator=g)[:PROBE].to(device)
    Xp, Yp = plan.X[probe], plan.Y[probe]
    every = max(1, min(500, (args.steps - start) // 20))
    bar = _progress_bar(args, start)

    def on_step(step: int, lr: float, loss: torch.Tensor) -> None:
        bar.update(1)
        done = start + step + 1
        if done % every == 0 or done == args.steps:
            shown = evaluate_probe() if plan.probe else loss.item()
            bar.set_postfix(loss=f"{shown:.4f}", lr=f"{lr:.3g}", refresh=False)
        if work is not None and (done % args.eval_every == 0 or done == args.steps):
            checkpoint_work(done)

    def evaluate_probe() -> float:
        # The loss on a fixed sample of training examples, in eval mode: reading the model
        # this way changes nothing in training (train() reports minibatch losses at the end).
        value = plan.loss(plan.model, Xp, Yp)
        plan.model.train()
        return value

    try:
        losses = train(plan.model, plan.X, plan.Y, resumed_config(plan, start),
                       callback=on_step)
    finally:
        bar.close()
    meta.update(train_loss=evaluate("train"),
                final_minibatch_loss=float(losses[-min(1000, len(losses)):].mean()))
    dev = evaluate("dev")
    if hasattr(plan.model, "eval"):
        plan.model.eval()
    n_params = sum(p.numel() for p in plan.model.parameters())
    shown = "n/a (no dev words)" if dev is None else f"{dev:.4f}"
    print(f"{n_params:,} parameters; train loss {meta['train_loss']:.4f}, dev loss {shown}")
    if out is not None:
        try:
            save(out, args.steps, dev, best_dev_loss=best)
        except OSError as err:
            print(f"makemore train: error: could not write {out}: {err.strerror or err}",
                  file=sys.stderr)
            return 1
        print(f"saved {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    ckpt = checkpoint.load(args.checkpoint)  # CheckpointError on anything that is not ours
    g = torch.Generator().manual_seed(args.seed)
    words = MODELS[ckpt.model_type].sample(ckpt.model, ckpt.vocab, args.n, g, args.temperature,
                                           args.top_k)
    print("\n".join(words))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m makemore",
        description="Train a character-level model on a word list, and sample new words.",
    )
    parser.add_argument("--version", action="version", version=f"makemore {makemore.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    t = commands.add_parser("train", help="train a model and save a checkpoint",
                            description="Train a model on a word list and save a checkpoint.")
    t.add_argument("--model", choices=list(MODELS), default=None,
                   help="; ".join(f"{k}: {v.help}" for k, v in MODELS.items())
                   + " (default: mlp, or the --resume checkpoint's)")
    t.add_argument("--data", metavar="FILE", default=None,
                   help="a word list, one word per line (default: the verified names.txt)")
    t.add_argument("--steps", type=_positive_int, default=None,
                   help=f"training steps, in all (default: the lectures' {TrainConfig.steps:,} "
                   f"for the MLPs, {_WAVENET_RECIPE['steps']:,} for the wavenet; "
                   f"{BIGRAM_STEPS:,} full-batch steps for the bigram; {SEQUENCE_STEPS:,} for "
                   "the sequence models); the learning rate drops tenfold halfway for the MLPs, "
                   "after 3/4 for the wavenet, and warms up then falls in a straight line to 0 "
                   "for the sequence models")
    t.add_argument("--seed", type=_seed, default=None,
                   help=f"seeds the initial weights and the minibatches (default: {SEED})")
    t.add_argument("--device", default="cpu", help="cpu, cuda or mps (default: cpu)")
    t.add_argument("--out", metavar="FILE", default=None,
                   help="the checkpoint to write at the end (default: checkpoints/MODEL.pt, or "
                   "none with --work-dir, which keeps last.pt)")
    t.add_argument("--work-dir", metavar="DIR", default=None,
                   help="a folder where training keeps best.pt (the lowest dev loss so far) and "
                   "last.pt (the latest), both evaluated every --eval-every steps (makemore.py's "
                   "-o)")
    t.add_argument("--eval-every", type=_positive_int, default=EVAL_EVERY,
                   help=f"with --work-dir: steps between evaluations on the whole dev split "
                   f"(default: {EVAL_EVERY})")
    t.add_argument("--resume", metavar="FILE", default=None,
                   help="continue the run of a checkpoint of this command (last.pt of a "
                   "--work-dir, say) up to --steps in all: its weights, its step count, the "
                   "schedule and the minibatch order where it stopped; AdamW's running "
                   "averages start afresh")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help=f"(peak) learning rate (default: {TrainConfig.lr:g} for the MLPs, "
                   f"{lecture.PART1_BIGRAM['lr']:g} for the bigram, "
                   + ", ".join(f"{v:g} for the {k}" for k, v in LR.items()) + ")")
    R, N, W = lecture.PART2_RECIPE, _MLP_SIZES, _WAVENET_SIZES  # the lectures' sizes
    t.add_argument("--batch-size", type=_positive_int, default=None,
                   help=f"examples (windows, or words) per minibatch (default: "
                   f"{R['batch_size']})")
    t.add_argument("--weight-decay", type=_non_negative_float, default=None,
                   help=f"sequence models: AdamW's decoupled weight decay (default: "
                   f"{sequences.RECIPE['weight_decay']:g})")
    t.add_argument("--block-size", type=_positive_int, default=None,
                   help=f"MLPs, wavenet: characters of context (default: {N['block_size']} "
                   f"for the MLPs; {W['block_size']} for the wavenet, which needs a power "
                   "of two); the sequence models read whole words")
    t.add_argument("--n-embd", type=_positive_int, default=None,
                   help=f"size of a character's embedding (default: {N['n_embd']} for the "
                   f"MLPs, {W['n_embd']} for the wavenet, {_RNN_SIZES['n_embd']} for rnn, gru "
                   f"and bow); the transformer's width (default: "
                   f"{_TRANSFORMER_SIZES['n_embd']})")
    t.add_argument("--n-hidden", type=_positive_int, default=None,
                   help=f"MLPs, wavenet: tanh units in each hidden layer (default: "
                   f"{N['n_hidden']} for the MLPs, {W['n_hidden']} for the wavenet)")
    t.add_argument("--n-embd2", type=_positive_int, default=None,
                   help=f"rnn, gru: size of the hidden state; bow: width of its MLP (default: "
                   f"{_RNN_SIZES['n_embd2']})")
    t.add_argument("--n-layer", type=_positive_int, default=None,
                   help=f"transformer: blocks (default: {_TRANSFORMER_SIZES['n_layer']})")
    t.add_argument("--n-head", type=_positive_int, default=None,
                   help=f"transformer: attention heads per block; --n-embd must be a multiple "
                   f"(default: {_TRANSFORMER_SIZES['n_head']})")
    t.add_argument("--dropout", type=_dropout, default=None,
                   help="transformer: dropout rate in training (default: 0, as makemore.py)")
    t.add_argument("--threads", type=_positive_int, default=1,
                   help="CPU threads; models this small train fastest on one (default: 1)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=cmd_train)

    s = commands.add_parser("sample", help="print words sampled from a checkpoint",
                            description="Print words sampled from a trained checkpoint.")
    s.add_argument("--checkpoint", metavar="FILE", required=True,
                   help="a checkpoint written by `train`")
    s.add_argument("-n", type=_positive_int, default=20, help="how many words (default: 20)")
    s.add_argument("--seed", type=_seed, default=SEED,
                   help=f"seeds the sampling: same seed, same words (default: {SEED})")
    s.add_argument("--temperature", type=_positive_float, default=1.0,
                   help="below 1: safer, more common words; above 1: wilder (default: 1.0)")
    s.add_argument("--top-k", type=_positive_int, default=None,
                   help="draw each character from the k most likely only (default: all)")
    s.set_defaults(run=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failure, 2 bad input)."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (UsageError, DataError, CheckpointError) as err:
        message = " ".join(str(err).split())  # one line, whatever the message held
        print(f"makemore: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("makemore: interrupted; no checkpoint was left half-written", file=sys.stderr)
        return 130
