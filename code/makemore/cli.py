"""The command line: train a model on any word list, then make more words like it.

    python -m makemore train --model transformer --data names.txt --work-dir out
    python -m makemore train --model transformer --work-dir out --resume out/last.pt --steps 40000
    python -m makemore sample --checkpoint out/best.pt -n 20 --temperature 0.8 --top-k 5

This is makemore's promise ("give it a file with one item per line and it makes more like it")
kept with every kind of model of the registry (`makemore.zoo`: the book's and makemore.py's).
Training uses the canonical 80/10/10 split of the words and reports the train and dev losses
per character; the checkpoint holds the vocabulary and the config, so `sample` needs nothing
else (see makemore.checkpoint).

Against makemore.py: the model's sizes are the same options (--n-layer, --n-head, --n-embd,
--n-embd2); `--work-dir` keeps the best checkpoint by dev loss (evaluated every --eval-every
steps, on the whole dev split) and the latest, and is held by one run at a time (a lock on
its empty `.lock` file, which stays); `--resume FILE` continues a checkpoint's run exactly
(its weights, its step count, the schedule, the order of the minibatches, AdamW's running
averages and the dropout stream: a run interrupted and resumed ends with the weights of the
run never stopped), and only on the same word list, seed and batch size (makemore.py's
--resume restores the weights only); `sample --top-k` samples from the k most likely
characters only, and `sample` prints its words as they are made.

Bad input gets one line on stderr and exit status 2, before any work starts: a missing, empty
or unreadable word list, or one with a control character; an unknown model, an option the
model does not take or a size beyond its bound (`makemore.zoo`'s MAX_*: steps, batch, sizes,
parameters, words of the sequence models), or sizes whose training step would not fit in the
memory this machine has available (an estimate: `zoo.STEP_FLOATS`); an output that could not
be written or that would replace a file that is not a checkpoint; a checkpoint that is not
ours, or holds weights that are not finite or a config, meta or optimizer state out of range;
a resume on other data or another stream. A run whose loss stops being a number or is far
above a uniform guess (checked before every checkpoint and at the end) is stopped with one
line saying which checkpoints it kept from before. A checkpoint is only ever written whole: an
interrupt (exit 130) or SIGTERM (exit 143) leaves the last whole one and no temporary file; an
output that fails (a full disk) is one line and exit status 1, and a closed stdout silences
`train` (its product is the checkpoint) and ends `sample` quietly.

Reference: https://github.com/karpathy/makemore (makemore.py, the original command line)
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import math
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

import makemore
from makemore import checkpoint, zoo
from makemore.checkpoint import CheckpointError
from makemore.data import DataError, Vocab, load_corpus, split_words
from makemore.lecture import SEED
from makemore.sampling import NotFinite, sample
from makemore.training import Shifted, TrainConfig, TrainState, minibatch_generator, train
from makemore.zoo import KINDS, OptionError

PROBE = 1024  # training examples the progress bar's loss is measured on
EVAL_EVERY = 500  # with --work-dir: evaluate on dev every this many steps (makemore.py's 500)
# A run that ends with a loss this many times the uniform guess's, ln(vocabulary), has
# diverged: no run that learned anything ends there (the worst start of the lectures, Part 3's
# untouched network, is about 8 times it)
DIVERGED = 100
SIZES = ("block_size", "n_embd", "n_hidden", "n_embd2", "n_layer", "n_head", "dropout")


class UsageError(Exception):
    """Bad input from the command line; the message is one line."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


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


def _threads(text: str) -> int:
    value = _positive_int(text)
    cores = os.cpu_count() or 1
    if value > cores:
        raise argparse.ArgumentTypeError(f"this machine has {cores} cores, not {value}")
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
    """Refuse, before any work, a folder that could not be written in (or made): a file is
    really written there and removed, so a read-only disk is found now, not after the run."""
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{flag} {path}: {ancestor} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=ancestor, prefix=".makemore-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"{flag} {path}: cannot write in {ancestor} "
                         f"({err.strerror or err})") from None


def _replaceable(path: Path, flag: str) -> None:
    """Refuse a checkpoint target that is a folder, or a file that is not a checkpoint of ours
    (a word list, say): training only ever replaces its own checkpoints."""
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, not a file name")
    if path.exists() and not checkpoint.is_checkpoint(path):
        raise UsageError(f"{flag} {path}: exists and is not a makemore checkpoint; "
                         "choose another name")
    _writable_folder(path.parent, flag)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is in --help)."""

    def error(self, message: str):
        raise UsageError(message)


# -----------------------------------------------------------------------------
# train: from the options to a run


def _load_resume(args: argparse.Namespace) -> checkpoint.Checkpoint | None:
    """The checkpoint `--resume` continues, checked against the options; None without it."""
    if args.resume is None:
        return None
    ckpt = checkpoint.load(args.resume)  # CheckpointError on anything that is not ours
    if args.model is not None and args.model != ckpt.model_type:
        raise UsageError(f"--resume {ckpt.path}: holds a {ckpt.model_type}, not a {args.model}")
    done = ckpt.meta.get("steps")
    if type(done) is not int or done < 0:
        raise UsageError(f"--resume {ckpt.path}: the checkpoint does not say how many steps "
                         "it trained")
    if args.steps is not None and args.steps <= done:
        raise UsageError(f"--steps {args.steps}: the checkpoint {ckpt.path} has trained {done} "
                         "steps already; --steps counts them too, so ask for more")
    return ckpt


def run_options(args: argparse.Namespace, resume: checkpoint.Checkpoint | None
                ) -> tuple[str, dict[str, Any]]:
    """The kind of model and the keyword arguments of `zoo.plan` the options ask for. An option
    left out takes the resumed checkpoint's value, if any, then the kind's default (`zoo.plan`
    fills those in); a size option the kind does not take, or one that differs from the
    resumed model's, is a UsageError."""
    name = args.model or (resume.model_type if resume is not None else "mlp")
    kind = KINDS[name]
    for size in SIZES:
        if getattr(args, size) is not None and size not in kind.sizes:
            takes = ", ".join(_flag(s) for s in kind.sizes) or "no size options"
            raise UsageError(f"{_flag(size)}: --model {name} does not take it "
                             f"(it takes {takes})")
    sizes = {size: getattr(args, size) for size in kind.sizes
             if getattr(args, size) is not None}
    if resume is None:
        return name, dict(steps=args.steps, lr=args.lr, batch_size=args.batch_size,
                          weight_decay=args.weight_decay,
                          seed=SEED if args.seed is None else args.seed, **sizes)
    meta = resume.meta
    given = {**sizes, "seed": args.seed, "batch_size": args.batch_size}  # the run's identity
    for option, value in given.items():
        saved = resume.config.get(option) if option in sizes else meta.get(option)
        if value is not None and value != saved:
            raise UsageError(f"{_flag(option)} {value}: the checkpoint {resume.path} has "
                             f"{saved}; leave it out to resume")
    saved_sizes = {size: resume.config[size] for size in kind.sizes}
    if kind.reads == "words":
        saved_sizes["block_size"] = resume.config["block_size"]
    return name, dict(
        steps=args.steps, lr=args.lr or meta.get("lr"),
        batch_size=args.batch_size or meta.get("batch_size"),
        weight_decay=meta.get("weight_decay") if args.weight_decay is None else args.weight_decay,
        seed=meta.get("seed", SEED) if args.seed is None else args.seed, **saved_sizes)


def _outputs(args: argparse.Namespace, name: str) -> tuple[Path | None, Path | None]:
    """(the work folder, the checkpoint written at the end), refused before any work starts
    when they could not be written or would replace something that is not a checkpoint."""
    work = Path(args.work_dir) if args.work_dir else None
    if work is not None:
        if work.exists() and not work.is_dir():
            raise UsageError(f"--work-dir {work}: is a file, not a folder")
        _writable_folder(work, "--work-dir")
        for kept in ("last.pt", "best.pt"):
            _replaceable(work / kept, "--work-dir")
    out = Path(args.out) if args.out else (None if work else Path(f"checkpoints/{name}.pt"))
    if out is not None:
        _replaceable(out, "--out")
        if args.data is not None and out.resolve() == Path(args.data).resolve():
            raise UsageError(f"--out {out}: is the word list --data reads")
    return work, out


@contextmanager
def _locked(work: Path | None) -> Iterator[None]:
    """Hold the work folder for this run: a second run given the same --work-dir is refused
    (it would mix its best.pt and last.pt with this one's). The lock is the kernel's (flock),
    so it goes with the process, however it ends. The empty `.lock` file it is taken on stays
    in the folder: removed, a run that had opened it could lock the removed file while another
    run locks a new one, and both would write in the folder."""
    if work is None:
        yield
        return
    work.mkdir(parents=True, exist_ok=True)
    lock = work / ".lock"
    with open(lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"--work-dir {work}: another training run is using it") from None
        yield


def _plan(args: argparse.Namespace, resume: checkpoint.Checkpoint | None,
          device: torch.device) -> zoo.Plan:
    """The run: the word list read and checked, the model built, its data and recipe."""
    name, options = run_options(args, resume)
    corpus = load_corpus(args.data)  # DataError on a missing, empty or unreadable file
    if not split_words(corpus.words)[0]:
        raise DataError(f"{corpus.source}: {len(corpus.words)} word(s) leave nothing to train "
                        "on after the 80/10/10 train/dev/test split")
    vocab = Vocab.from_words(corpus.words)
    digest = words_digest(corpus.words)
    if resume is not None and resume.meta.get("data_sha256") != digest:
        # the checkpoint's text is shown escaped (repr), as a word list's characters are
        # (makemore.data.read_words): a crafted file reaches the terminal as plain characters
        seen = resume.meta.get("data"), resume.meta.get("n_words")
        said = ", ".join([f"{seen[0]!r}"] * (seen[0] is not None)
                         + [f"{seen[1]:,} words"] * (seen[1] is not None)) or "unknown"
        raise UsageError(f"--resume {resume.path}: it was trained on another word list "
                         f"({said}), not on {corpus.source}; give that list with --data")
    if resume is not None and resume.vocab != vocab:
        raise UsageError(f"--resume {resume.path}: its vocabulary ({len(resume.vocab)} "
                         f"characters) is not the one of {corpus.source} ({len(vocab)})")
    if resume is not None and KINDS[name].reads == "words":
        longest = zoo.sequence_length(corpus.words)
        if longest > options["block_size"]:
            raise UsageError(f"--resume {resume.path}: reads words of up to "
                             f"{options['block_size'] - 1} characters; {corpus.source} has "
                             f"one of {longest - 1}")
    try:
        memory = zoo.available_memory() if device.type == "cpu" else None  # RAM: the CPU's
        plan = zoo.plan(corpus.words, name, vocab=vocab, device=device, memory=memory,
                        **options)
    except OptionError as err:  # the registry names config fields: say them as options
        flag = _flag(err.option) + ("" if err.value is None else f" {err.value}")
        reason = re.sub(r"\b(" + "|".join(SIZES) + r")\b", lambda m: _flag(m[0]), err.reason)
        raise UsageError(f"{flag}: {reason}") from None
    except DataError as err:
        raise DataError(f"{corpus.source}: {err}") from None
    if resume is not None and plan.settings.steps <= resume.meta["steps"]:
        raise UsageError(f"--steps {plan.settings.steps}: the checkpoint {resume.path} has "
                         f"trained {resume.meta['steps']} steps already; --steps counts them "
                         "too, so ask for more")
    _say(f"data: {len(corpus.words):,} words from {corpus.source}, "
         f"{len(vocab)} characters in the vocabulary")
    plan.source, plan.n_words, plan.digest = corpus.source, len(corpus.words), digest
    return plan


def words_digest(words: list[str]) -> str:
    """The SHA-256 of a word list, one word per line: what a resumed run must train on."""
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()


def resumed_config(plan: zoo.Plan, start: int) -> TrainConfig:
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


# -----------------------------------------------------------------------------
# train: what a run shows and keeps while it trains


class Diverged(Exception):
    """Training produced a loss that is not a number or is far above a uniform guess, or a
    weight that is not finite."""


def _stdout_gone() -> None:
    """The reader of stdout has gone (`| head -1`): what is still printed, and what Python
    flushes at exit, goes to /dev/null, quietly."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no file descriptor (a test's stand-in)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (it stays open: it is stdout)
    finally:
        os.close(null)


def _say(line: str) -> None:
    """Print a line of train's commentary. Its product is the checkpoint, not the text: a
    closed stdout (`train ... | head -1`, or `>&-`) silences the rest, and the run goes on."""
    if sys.stdout is None:
        return
    try:
        print(line, flush=True)
    except BrokenPipeError:
        _stdout_gone()


def _probe(plan: zoo.Plan) -> tuple[torch.Tensor, torch.Tensor]:
    """PROBE training examples, the same for the whole run (drawn from the seed): what the
    progress bar's loss and the divergence test during a run are measured on."""
    g = torch.Generator().manual_seed(plan.settings.seed)
    probe = torch.randperm(len(plan.Y), generator=g)[:PROBE].to(plan.X.device)
    return plan.X[probe], plan.Y[probe]


class Keeper:
    """The checkpoints of a run: `last.pt` and `best.pt` (lowest dev loss) in the work folder
    every --eval-every steps and at the end, and the --out file at the end; each holds what
    the run needs to be resumed exactly (the weights, the optimizer's state and the dropout
    stream's). None is written from a model that fails the divergence test (`check`), and
    `kept` says which files this run wrote, at which step, for the message of a run that
    diverges later."""

    def __init__(self, name: str, plan: zoo.Plan, meta: dict[str, Any], work: Path | None,
                 best: float | None, state: TrainState):
        self.name, self.plan, self.meta, self.work = name, plan, meta, work
        self.best, self.state = best, state
        self.probe = _probe(plan)
        self.kept: dict[Path, int] = {}

    def dev_loss(self) -> float | None:
        if self.plan.dev is None:
            return None
        value = self.plan.loss(*self.plan.dev)
        self.plan.model.train()  # the loss put it in eval mode; training goes on
        return value

    def probe_loss(self) -> float:
        value = self.plan.loss(*self.probe)
        self.plan.model.train()
        return value

    def check(self, steps: int, **losses: float | None) -> None:
        """Raise Diverged unless every loss given (None: none measured) is a number below
        DIVERGED times a uniform guess's, and every weight is finite."""
        worst = DIVERGED * math.log(len(self.plan.vocab))  # far above guessing uniformly
        for split, loss in losses.items():
            if loss is not None and not (math.isfinite(loss) and loss < worst):
                raise Diverged(f"the {split} loss is {loss:.4g} at step {steps:,}")
        if not all(torch.isfinite(p).all() for p in self.plan.model.parameters()):
            raise Diverged(f"a weight is not finite at step {steps:,}")

    def save(self, path: Path, steps: int, dev: float | None) -> None:
        """Write the checkpoint of the run at `steps`; OutputError (one line) if it could not
        be written, which leaves `path` as it was (`makemore.files.atomic_write`)."""
        try:
            checkpoint.save(path, self.name, asdict(self.plan.config), self.plan.vocab,
                            self.plan.model, {**self.meta, "steps": steps, "dev_loss": dev,
                                              "best_dev_loss": self.best},
                            training=self.state.snapshot())
        except OSError as err:
            raise OutputError(f"could not write {path} at step {steps:,}: "
                              f"{err.strerror or err}; it is left as it was") from None
        self.kept[path] = steps

    def keep(self, steps: int, dev: float | None = None) -> str:
        """Evaluate on dev (unless `dev` is given), check the run has not diverged (on dev and
        on the probe of training examples), note the best so far, save last.pt (and best.pt
        when this is the best); say what it did."""
        if dev is None:
            dev = self.dev_loss()
        self.check(steps, dev=dev, train=self.probe_loss())
        better = dev is not None and (self.best is None or dev < self.best)
        if better:
            self.best = dev  # before last.pt is written: a resumed run knows the real best
        self.save(self.work / "last.pt", steps, dev)
        note = ""
        if better:
            self.save(self.work / "best.pt", steps, dev)
            note = f", the best so far: saved {self.work / 'best.pt'}"
        shown = "n/a" if dev is None else f"{dev:.4f}"
        return f"step {steps:,}: dev loss {shown}{note}"

    def diverged(self, err: Diverged, lr: float) -> UsageError:
        """The one line for a run that diverged, saying exactly what it left on disk."""
        if not self.kept:
            left = "no checkpoint of it was written"
        else:
            last = max(self.kept.values())
            held = ", ".join(f"{path} holds step {steps:,}" for path, steps in self.kept.items())
            left = f"nothing after step {last:,} was written ({held})"
        return UsageError(f"training diverged: {err}; {left}; try a smaller --lr than {lr:g}")


class Progress:
    """The progress bar, with the loss on a fixed sample of training examples (in eval mode:
    reading the model this way changes nothing in training)."""

    def __init__(self, args: argparse.Namespace, plan: zoo.Plan, start: int):
        from tqdm import tqdm

        self.plan, self.steps = plan, plan.settings.steps
        self.Xp, self.Yp = _probe(plan)
        self.every = max(1, min(500, (self.steps - start) // 20))
        self.bar = tqdm(total=self.steps, initial=start, desc=plan.kind.name, unit="step",
                        file=sys.stderr, disable=args.quiet, mininterval=0.25,
                        dynamic_ncols=True)

    def update(self, done: int, lr: float) -> None:
        self.bar.update(1)
        if done % self.every == 0 or done == self.steps:
            loss = self.plan.loss(self.Xp, self.Yp)
            self.plan.model.train()
            self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.3g}", refresh=False)

    def write(self, line: str) -> None:
        """A line on stdout, above the bar (on stderr); see `_say`."""
        if sys.stdout is None:
            return
        try:
            self.bar.write(line, file=sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_gone()


def cmd_train(args: argparse.Namespace) -> int:
    resume = _load_resume(args)
    device = _device(args.device)
    torch.set_num_threads(args.threads)
    name = args.model or (resume.model_type if resume is not None else "mlp")
    work, out = _outputs(args, name)
    plan = _plan(args, resume, device)
    with _locked(work):
        return _train(args, plan, resume, work, out)


def _train(args: argparse.Namespace, plan: zoo.Plan, resume: checkpoint.Checkpoint | None,
           work: Path | None, out: Path | None) -> int:
    settings, name = plan.settings, plan.kind.name
    start = resume.meta["steps"] if resume is not None else 0
    state = TrainState()
    if resume is not None:
        checkpoint.load_state(plan.model, checkpoint.model_state(resume.model))
        state = TrainState(**resume.training)
        _say(f"resuming {resume.path} at step {start:,}")
    _say(f"model: {name}, {settings.steps:,} steps, seed {settings.seed}, on {plan.X.device}")

    meta = dict(data=plan.source, n_words=plan.n_words, data_sha256=plan.digest,
                seed=settings.seed, lr=settings.lr, makemore=makemore.__version__,
                torch=str(torch.__version__))
    if settings.batch_size is not None:
        meta["batch_size"] = settings.batch_size
    if plan.kind.recipe.optimizer == "adamw":
        meta["weight_decay"] = settings.weight_decay
    if resume is not None:
        meta.update(resumed_from=str(resume.path), resumed_at=start)
    best = resume.meta.get("best_dev_loss") if resume is not None else None
    keeper = Keeper(name, plan, meta, work, best if isinstance(best, float) else None, state)
    progress = Progress(args, plan, start)

    def on_step(step: int, lr: float, loss: torch.Tensor) -> None:
        done = start + step + 1
        if not math.isfinite(loss.item()):
            raise Diverged(f"the loss is {loss.item()} at step {done:,}")
        progress.update(done, lr)
        if work is not None and done % args.eval_every == 0 and done < settings.steps:
            progress.write(keeper.keep(done))

    try:
        losses = train(plan.model, plan.X, plan.Y, resumed_config(plan, start),
                       callback=on_step, state=state)
        meta.update(train_loss=plan.loss(plan.X, plan.Y),
                    final_minibatch_loss=float(losses[-min(1000, len(losses)):].mean()))
        dev = keeper.dev_loss()
        keeper.check(settings.steps, train=meta["train_loss"], dev=dev)
        if work is not None:  # the last step's checkpoints, once the run is known whole
            progress.write(keeper.keep(settings.steps, dev))
    except Diverged as err:
        raise keeper.diverged(err, settings.lr) from None
    finally:
        progress.bar.close()
    plan.model.eval()
    if out is not None:  # written before anything more is said: a closed stdout loses nothing
        keeper.save(out, settings.steps, dev)
    n_params = sum(p.numel() for p in plan.model.parameters())
    shown = "n/a (no dev words)" if dev is None else f"{dev:.4f}"
    _say(f"{n_params:,} parameters; train loss {meta['train_loss']:.4f}, dev loss {shown}")
    if out is not None:
        _say(f"saved {out}")
    return 0


# -----------------------------------------------------------------------------
# sample


SAMPLE_BATCH = 1000  # words drawn side by side, then printed: memory does not grow with -n


def cmd_sample(args: argparse.Namespace) -> int:
    """Print `-n` words, a batch of SAMPLE_BATCH at a time, as they are made (the same seed and
    -n give the same words: a batch's words depend on its size). A closed pipe (`| head`)
    ends it quietly; no stdout at all (`>&-`) is one line and exit status 1."""
    ckpt = checkpoint.load(args.checkpoint)  # CheckpointError on anything that is not ours
    if sys.stdout is None:
        raise OutputError("there is no standard output to print the words to (it is closed)")
    g = torch.Generator().manual_seed(args.seed)
    try:
        for first in range(0, args.n, SAMPLE_BATCH):
            try:
                words = sample(ckpt.model, ckpt.vocab, min(SAMPLE_BATCH, args.n - first),
                               generator=g, temperature=args.temperature, top_k=args.top_k)
            except NotFinite as err:
                raise CheckpointError(f"{ckpt.path}: cannot be sampled: {err}") from None
            sys.stdout.write("".join(w + "\n" for w in words))
            sys.stdout.flush()
    except BrokenPipeError:  # the reader has gone: stop, and say nothing more to it
        _stdout_gone()
        return 0
    except OSError as err:  # a full disk, say
        raise OutputError(f"could not write the words: {err.strerror or err}") from None
    return 0


# -----------------------------------------------------------------------------
# the parser


def _per_kind(value, fmt: str = "") -> str:
    """'200,000 for mlp, bn-mlp; 500 for bigram': `value(kind)` for every kind that has one,
    the kinds with the same value named together (a default, for the help text)."""
    groups: dict[str, list[str]] = {}
    for kind in KINDS.values():
        v = value(kind)
        if v is not None:
            groups.setdefault(format(v, fmt), []).append(kind.name)
    return "; ".join(f"{v} for {', '.join(names)}" for v, names in groups.items())


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
    t.add_argument("--model", choices=list(KINDS), default=None,
                   help="; ".join(f"{k}: {v.help}" for k, v in KINDS.items())
                   + " (default: mlp, or the --resume checkpoint's)")
    t.add_argument("--data", metavar="FILE", default=None,
                   help="a word list, one word per line (default: the verified names.txt)")
    t.add_argument("--steps", type=_positive_int, default=None,
                   help="training steps, in all (default: "
                   + _per_kind(lambda k: k.recipe.steps, ",") + "); the learning rate drops "
                   "tenfold halfway for the MLPs, after 3/4 for the wavenet, and warms up then "
                   "falls in a straight line to 0 for the sequence models")
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
                   "--work-dir, say) up to --steps in all, exactly where it stopped (weights, "
                   "step, minibatch order, AdamW's state, dropout stream), on the same word "
                   "list (give it with --data), seed and batch size; the schedule is the one "
                   "of a run of --steps steps, so a larger --steps stretches what is left of "
                   "it")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="(peak) learning rate (default: " + _per_kind(lambda k: k.recipe.lr, "g")
                   + ")")
    t.add_argument("--batch-size", type=_positive_int, default=None,
                   help="examples (windows, or words) per minibatch (default: "
                   + _per_kind(lambda k: k.recipe.batch_size) + ")")
    t.add_argument("--weight-decay", type=_non_negative_float, default=None,
                   help="sequence models: AdamW's decoupled weight decay (default: "
                   + _per_kind(lambda k: k.recipe.weight_decay if k.recipe.optimizer == "adamw"
                               else None, "g") + ")")
    meaning = {
        "block_size": "characters of context (the wavenet's is a power of two; the sequence "
                      "models read whole words)",
        "n_embd": "size of a character's embedding; the transformer's width",
        "n_hidden": "units in each hidden layer",
        "n_embd2": "rnn, gru: size of the hidden state; bow: width of its MLP",
        "n_layer": "transformer blocks",
        "n_head": "attention heads per block; --n-embd must be a multiple",
    }
    for size, text in meaning.items():
        t.add_argument(_flag(size), type=_positive_int, default=None,
                       help=f"{text} (default: {_per_kind(lambda k, s=size: k.sizes.get(s))})")
    t.add_argument("--dropout", type=_dropout, default=None,
                   help="transformer: dropout rate in training (default: 0, as makemore.py)")
    t.add_argument("--threads", type=_threads, default=1,
                   help="CPU threads, at most this machine's cores; models this small train "
                   "fastest on one (default: 1)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=cmd_train)

    s = commands.add_parser("sample", help="print words sampled from a checkpoint",
                            description="Print words sampled from a trained checkpoint.")
    s.add_argument("--checkpoint", metavar="FILE", required=True,
                   help="a checkpoint written by `train`")
    s.add_argument("-n", type=_positive_int, default=20, help="how many words (default: 20)")
    s.add_argument("--seed", type=_seed, default=SEED,
                   help=f"seeds the sampling: the same seed and -n give the same words "
                   f"(default: {SEED})")
    s.add_argument("--temperature", type=_positive_float, default=1.0,
                   help="below 1: safer, more common words; above 1: wilder (default: 1.0)")
    s.add_argument("--top-k", type=_positive_int, default=None,
                   help="draw each character from the k most likely only (default: all)")
    s.set_defaults(run=cmd_sample)
    return parser


class OutputError(Exception):
    """The output could not be written; the message is one line."""


class Terminated(BaseException):
    """SIGTERM: ends the run like an interrupt, cleaning up on the way out."""


def _terminate(signum, frame) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failure, 2 bad input, 130 and 143
    interrupted and terminated)."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave the signals alone
        previous = None
    args = None
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (UsageError, DataError, CheckpointError) as err:
        message = " ".join(str(err).split())  # one line, whatever the message held
        print(f"makemore: error: {message}", file=sys.stderr)
        return 2
    except OutputError as err:
        print(f"makemore: error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated) as err:
        training = args is not None and args.command == "train"
        print("makemore: " + ("interrupted" if isinstance(err, KeyboardInterrupt) else
                              "terminated")
              + ("; no checkpoint was left half-written" if training else ""), file=sys.stderr)
        return 130 if isinstance(err, KeyboardInterrupt) else 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
