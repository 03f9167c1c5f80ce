"""The command line: train a model on any word list, then make more words like it.

    python -m makemore train --model mlp --data names.txt --out checkpoints/mlp.pt
    python -m makemore sample --checkpoint checkpoints/mlp.pt -n 20 --temperature 0.8

This is makemore's promise ("give it a file with one item per line and it makes more like it")
kept with the book's models: `bigram` (Part 1, the one-layer neural bigram trained full batch),
`mlp` (Part 2, the MLP of Bengio et al. 2003 trained with minibatch SGD), `bn-mlp` (Part 3,
the same MLP with BatchNorm before the tanh and Kaiming-like initial scales) and `wavenet`
(Part 5, eight characters of context fused two at a time, makemore.wavenet). Training uses the
canonical 80/10/10 split of the words and reports the train and dev losses; the checkpoint holds
the vocabulary and the config, so `sample` needs nothing else (see makemore.checkpoint).

Bad input (a missing or empty word list, an unknown model, a negative step count, a file that
is not a checkpoint of ours) gets one line on stderr and exit status 2, before any work starts;
a checkpoint is only ever written whole.

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
from makemore import bigram, checkpoint, lecture, mlp, sampling, wavenet
from makemore.checkpoint import CheckpointError
from makemore.data import DataError, Vocab, bigram_pairs, load_corpus, make_splits, split_words
from makemore.lecture import SEED
from makemore.training import TrainConfig, split_loss, train

BIGRAM_STEPS = 500  # full-batch steps of the neural bigram: its loss has levelled off by then
PROBE = 1024  # training examples the progress bar's loss is measured on


class UsageError(Exception):
    """Bad input from the command line; the message is one line."""


# -----------------------------------------------------------------------------
# the models `train` knows


@dataclass(frozen=True)
class ModelKind:
    help: str
    steps: int  # default number of training steps
    lr: float  # default learning rate
    fit: Callable[..., tuple[Any, dict[str, Any], dict[str, Any]]]  # -> model, config, meta
    sample: Callable[[Any, Vocab, int, torch.Generator, float], list[str]]
    sizes: dict[str, int] = field(default_factory=dict)  # default --block-size, --n-embd, ...
    batchnorm: bool = False  # needs a batch of at least 2
    check: Callable[[argparse.Namespace], None] | None = None  # UsageError before any work
    decay_at: float = 0.5  # the learning rate drops tenfold after this share of the steps


def _build_mlp(vocab: Vocab, args: argparse.Namespace, device: torch.device,
               batchnorm: bool) -> tuple[mlp.MLP, dict[str, Any]]:
    cfg = mlp.MLPConfig(vocab_size=len(vocab), block_size=args.block_size, n_embd=args.n_embd,
                        n_hidden=args.n_hidden, seed=args.seed)
    if batchnorm:  # Part 3: BatchNorm, tanh gain 5/3 over sqrt(fan_in), a quiet output layer
        fields = dict(lecture.PART3_STAGE_FIELDS["BatchNorm"], w1_scale=cfg.kaiming_tanh)
        cfg = replace(cfg, **fields)
    return mlp.MLP(cfg, device), asdict(cfg)


def _check_wavenet(args: argparse.Namespace) -> None:
    if args.block_size < 2 or args.block_size & (args.block_size - 1):
        raise UsageError(f"--block-size: the wavenet fuses pairs of positions, so its context "
                         f"is a power of two (2, 4, 8, 16, ...), not {args.block_size}")


def _build_wavenet(vocab: Vocab, args: argparse.Namespace, device: torch.device
                   ) -> tuple[Any, dict[str, Any]]:
    levels = args.block_size.bit_length() - 1  # fuses pairs: block_size = 2 ** levels
    cfg = wavenet.WaveNetConfig(vocab_size=len(vocab), block_size=args.block_size,
                                n_embd=args.n_embd, n_hidden=args.n_hidden, n_levels=levels,
                                seed=args.seed)
    return wavenet.wavenet(cfg).to(device), asdict(cfg)


def _fit_context_model(words: list[str], vocab: Vocab, args: argparse.Namespace,
                       device: torch.device, build: Callable
                       ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Train a model that reads a window of `args.block_size` characters (the MLPs, the
    wavenet): `build(vocab, args, device)` gives the fresh model and its config."""
    model, config = build(vocab, args, device)
    splits = make_splits(words, block_size=args.block_size)  # the canonical 80/10/10 split
    Xtr, Ytr = splits.Xtr.to(device), splits.Ytr.to(device)
    decay_step = int(args.steps * MODELS[args.model].decay_at)
    tcfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                       lr_decay_step=decay_step, lr_final=args.lr / 10, seed=args.seed)

    # The bar shows the loss on a fixed sample of training examples, in eval mode: reading the
    # model this way changes nothing in training (train() reports minibatch losses at the end).
    g = torch.Generator().manual_seed(args.seed)
    probe = torch.randperm(Xtr.shape[0], generator=g)[:PROBE].to(device)
    Xp, Yp = Xtr[probe], Ytr[probe]
    every = max(1, min(500, args.steps // 20))
    bar = _progress_bar(args)

    def on_step(step: int, lr: float, loss: torch.Tensor) -> None:
        bar.update(1)
        if (step + 1) % every == 0 or step + 1 == args.steps:
            loss = split_loss(model, Xp, Yp)  # sets eval mode: put training mode back
            model.train()
            bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:g}", refresh=False)

    try:
        losses = train(model, Xtr, Ytr, tcfg, callback=on_step)
    finally:
        bar.close()
    meta = {
        "train_loss": split_loss(model, Xtr, Ytr),
        "dev_loss": split_loss(model, splits.Xdev, splits.Ydev) if len(splits.Ydev) else None,
        "final_minibatch_loss": float(losses[-min(1000, len(losses)):].mean()),  # last 1,000
        "batch_size": args.batch_size,
    }
    return model, config, meta


def _fit_bigram(words: list[str], vocab: Vocab, args: argparse.Namespace, device: torch.device
                ) -> tuple[bigram.NeuralBigram, dict[str, Any], dict[str, Any]]:
    if device.type != "cpu":
        print(f"note: the bigram trains on the CPU (asked for {device})", file=sys.stderr)
    tr, dev, _ = split_words(words)
    xs, ys = bigram_pairs(tr, vocab)
    tcfg = TrainConfig(steps=args.steps, batch_size=None, lr=args.lr,
                       l2=lecture.PART1_BIGRAM["reg"])
    model = bigram.NeuralBigram(len(vocab), args.seed)
    bar = _progress_bar(args)
    try:
        losses = train(model, xs, ys, tcfg, callback=lambda step, lr, loss: bar.update(1))
    finally:
        bar.close()
    xd, yd = bigram_pairs(dev, vocab)
    meta = {
        "train_loss": bigram.nll(model.probs(), xs, ys),
        "dev_loss": bigram.nll(model.probs(), xd, yd) if len(yd) else None,
        "final_minibatch_loss": float(losses[-1]),  # the full batch, weight decay included
    }
    return model, {"vocab_size": len(vocab), "seed": args.seed}, meta


_MLP_SIZES = {k: lecture.PART2_MLP[k] for k in ("block_size", "n_embd", "n_hidden")}
_WAVENET_SIZES = {k: lecture.PART5_NET[k] for k in ("block_size", "n_embd", "n_hidden")}
_WAVENET_RECIPE = lecture.PART5_RECIPE


def _sample_mlp(model, vocab, n, generator, temperature) -> list[str]:
    return sampling.sample(model, vocab, n, generator=generator, temperature=temperature)


def _sample_bigram(model, vocab, n, generator, temperature) -> list[str]:
    P = torch.softmax(model.W.detach() / temperature, dim=1)  # (V, V): probs() at temperature 1
    return bigram.sample(P, vocab, n, generator)


MODELS: dict[str, ModelKind] = {
    "bigram": ModelKind("Part 1: the neural bigram, one V x V layer, full-batch descent",
                        steps=BIGRAM_STEPS, lr=lecture.PART1_BIGRAM["lr"],
                        fit=_fit_bigram, sample=_sample_bigram),
    "mlp": ModelKind("Part 2: the MLP of Bengio et al. (2003), minibatch SGD",
                     steps=TrainConfig.steps, lr=TrainConfig.lr,
                     fit=lambda *a: _fit_context_model(
                         *a, build=lambda *b: _build_mlp(*b, batchnorm=False)),
                     sample=_sample_mlp, sizes=_MLP_SIZES),
    "bn-mlp": ModelKind("Part 3: the MLP with BatchNorm and Kaiming-like initial scales",
                        steps=TrainConfig.steps, lr=TrainConfig.lr,
                        fit=lambda *a: _fit_context_model(
                            *a, build=lambda *b: _build_mlp(*b, batchnorm=True)),
                        sample=_sample_mlp, sizes=_MLP_SIZES, batchnorm=True),
    "wavenet": ModelKind("Part 5: the WaveNet, 8 characters fused two at a time (the lecture's "
                         "recipe: lr drops tenfold after 3/4 of the steps)",
                         steps=_WAVENET_RECIPE["steps"], lr=_WAVENET_RECIPE["lr"],
                         fit=lambda *a: _fit_context_model(*a, build=_build_wavenet),
                         sample=_sample_mlp, sizes=_WAVENET_SIZES, batchnorm=True,
                         check=_check_wavenet,
                         decay_at=_WAVENET_RECIPE["lr_decay_step"] / _WAVENET_RECIPE["steps"]),
}


def _progress_bar(args: argparse.Namespace):
    from tqdm import tqdm

    return tqdm(total=args.steps, desc=args.model, unit="step", file=sys.stderr,
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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
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


def _writable_target(path: Path) -> None:
    """Refuse, before any work, an --out that could not be written."""
    if path.is_dir():
        raise UsageError(f"--out {path}: is a folder, not a file name")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"--out {path}: cannot write in {ancestor}")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is in --help)."""

    def error(self, message: str):
        raise UsageError(message)


# -----------------------------------------------------------------------------
# commands


def cmd_train(args: argparse.Namespace) -> int:
    kind = MODELS[args.model]
    args.steps = kind.steps if args.steps is None else args.steps
    args.lr = kind.lr if args.lr is None else args.lr
    for name, value in kind.sizes.items():  # --block-size, --n-embd, --n-hidden
        if getattr(args, name) is None:
            setattr(args, name, value)
    if kind.batchnorm and args.batch_size < 2:
        raise UsageError("--batch-size: BatchNorm needs a batch of at least 2")
    if kind.check is not None:
        kind.check(args)
    device = _device(args.device)
    torch.set_num_threads(args.threads)
    out = Path(args.out or f"checkpoints/{args.model}.pt")
    _writable_target(out)

    corpus = load_corpus(args.data)  # DataError on a missing, empty or unreadable file
    if not split_words(corpus.words)[0]:
        raise DataError(f"{corpus.source}: {len(corpus.words)} word(s) leave nothing to train "
                        "on after the 80/10/10 train/dev/test split")
    vocab = Vocab.from_words(corpus.words)
    print(f"data: {len(corpus.words):,} words from {corpus.source}, "
          f"{len(vocab)} characters in the vocabulary")
    print(f"model: {args.model}, {args.steps:,} steps, seed {args.seed}, on {device}")
    model, config, meta = kind.fit(corpus.words, vocab, args, device)

    meta.update(data=corpus.source, n_words=len(corpus.words), steps=args.steps,
                seed=args.seed, lr=args.lr, makemore=makemore.__version__,
                torch=str(torch.__version__))
    n_params = sum(p.numel() for p in model.parameters())
    dev = "n/a (no dev words)" if meta["dev_loss"] is None else f"{meta['dev_loss']:.4f}"
    print(f"{n_params:,} parameters; train loss {meta['train_loss']:.4f}, dev loss {dev}")
    try:
        checkpoint.save(out, args.model, config, vocab, model, meta)
    except OSError as err:
        print(f"makemore train: error: could not write {out}: {err.strerror or err}",
              file=sys.stderr)
        return 1
    print(f"saved {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    ckpt = checkpoint.load(args.checkpoint)  # CheckpointError on anything that is not ours
    g = torch.Generator().manual_seed(args.seed)
    words = MODELS[ckpt.model_type].sample(ckpt.model, ckpt.vocab, args.n, g, args.temperature)
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
    t.add_argument("--model", choices=list(MODELS), default="mlp",
                   help="; ".join(f"{k}: {v.help}" for k, v in MODELS.items())
                   + " (default: mlp)")
    t.add_argument("--data", metavar="FILE", default=None,
                   help="a word list, one word per line (default: the verified names.txt)")
    t.add_argument("--steps", type=_positive_int, default=None,
                   help=f"training steps (default: the lectures' {TrainConfig.steps:,} for "
                   f"the MLPs, {_WAVENET_RECIPE['steps']:,} for the wavenet; "
                   f"{BIGRAM_STEPS:,} full-batch steps for the bigram); the learning rate "
                   "drops tenfold halfway for the MLPs, after 3/4 for the wavenet")
    t.add_argument("--seed", type=_seed, default=SEED,
                   help=f"seeds the initial weights and the minibatches (default: {SEED})")
    t.add_argument("--device", default="cpu", help="cpu, cuda or mps (default: cpu)")
    t.add_argument("--out", metavar="FILE", default=None,
                   help="the checkpoint to write (default: checkpoints/MODEL.pt)")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help=f"learning rate (default: {TrainConfig.lr:g} for the MLPs, "
                   f"{lecture.PART1_BIGRAM['lr']:g} for the bigram)")
    R, N, W = lecture.PART2_RECIPE, _MLP_SIZES, _WAVENET_SIZES  # the lectures' sizes
    t.add_argument("--batch-size", type=_positive_int, default=R["batch_size"],
                   help=f"MLPs, wavenet: examples per minibatch (default: {R['batch_size']})")
    t.add_argument("--block-size", type=_positive_int, default=None,
                   help=f"MLPs, wavenet: characters of context (default: {N['block_size']} "
                   f"for the MLPs; {W['block_size']} for the wavenet, which needs a power "
                   "of two)")
    t.add_argument("--n-embd", type=_positive_int, default=None,
                   help=f"MLPs, wavenet: size of a character's embedding (default: "
                   f"{N['n_embd']} for the MLPs, {W['n_embd']} for the wavenet)")
    t.add_argument("--n-hidden", type=_positive_int, default=None,
                   help=f"MLPs, wavenet: tanh units in each hidden layer (default: "
                   f"{N['n_hidden']} for the MLPs, {W['n_hidden']} for the wavenet)")
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
        print("makemore: interrupted, nothing written", file=sys.stderr)
        return 130
