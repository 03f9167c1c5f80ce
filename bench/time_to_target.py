"""Time to target: how long the book's recipe takes to reach the dev loss each lecture printed,
next to the lecture's own recipe, on this machine. A benchmark of the recipe, not only the step.

`bench/train_speed.py` measures how fast one training step is. What a reader (and every build
of the book) waits for is a *trained model*, and there are two levers: a faster step, and fewer
steps. The lectures train every model for 200,000 steps of plain SGD at batch 32, the learning
rate dropping tenfold once. That recipe was never tuned for time: at the high learning rate the
loss stops improving long before the drop, and the drop is what brings it down (Chapter 5,
"Two recipes, one network"). This script measures both levers together, for the three models
whose lecture printed a final dev loss on the canonical split: the Part 2 MLP, the Part 3
BatchNorm MLP and the Part 5 WaveNet (targets: `lecture.PART2_DEV`, the Part 3 BatchNorm
stage's dev loss, and the Part 5 scaled-up network's).

For each model, in one process with one torch thread, side by side:

- the lecture's recipe: its loop as the lecture writes it (a fresh `torch.randint` minibatch,
  forward, `p.grad = None`, `loss.backward()`, `p.data += -lr * p.grad`, `lossi.append(...)`;
  the loops of bench/train_speed.py), timed for `--lecture-steps` steps in short bursts
  interleaved with the book's run, so that a busy machine slows both alike, and extrapolated to
  its 200,000 steps. (The lecture's loop does not evaluate while it trains, so its time has no
  evaluation in it.)
- the book's recipe (RECIPES below): `makemore.training.train`, which trains these networks on
  their hand-written backward (makemore.layers), on the same architecture with the same
  parameter count, evaluated on the dev split every `eval_every` steps, until the dev loss is
  first at or below the lecture's printed one. Its time counts the evaluations. It trains in
  segments of `eval_every` steps, each seeding its own minibatches, with one learning-rate
  schedule across them.

The ratio is lecture time / book time; the goal is 20 or more for each model. Its
last lines read `time_to_target <model> <ratio>` (`nan` when the book's recipe did not reach
the target within its steps). It is never run by the tests or CI: it takes a quarter of an hour.

A fourth line, `transformer`, has no lecture loss to reach: it sets makemore.py's own recipe
for its default Transformer (AdamW 5e-4 constant, weight decay 0.01, batch 32, whole padded
words, `loss.backward()`) on this book's split for `--makemore-seconds` CPU-seconds of
training, takes the best dev loss it reached as the target, and times the book's recipe on the
same architecture to it (`measure_transformer`). Both sides are timed in CPU seconds.

Usage: python bench/time_to_target.py [--models mlp,bn,wavenet,transformer]
                                      [--lecture-steps 3000] [--burst 250] [--threads 1]
                                      [--makemore-seconds 600] [--tf-steps 6000]
                                      [--tf-eval-every 250]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from train_speed import (
    MakemorePyRun,
    lecture_bn,
    lecture_deep,
    lecture_mlp,
    load_average,
    makemore_py_config,
    mean_loss,
    part2_mlp,
    part3_bn_mlp,
    sequence_model,
)

from makemore import lecture
from makemore.data import DataError, load_corpus, make_splits, split_words
from makemore.mlp import MLP, MLPConfig
from makemore.sequences import padded_words
from makemore.training import (
    Shifted,
    StepDecay,
    TrainConfig,
    TrainState,
    WarmupLinear,
    split_loss,
    train,
)
from makemore.wavenet import WaveNetConfig, wavenet
from makemore.zoo import KINDS

VOCAB = 27  # names.txt: 26 letters and '.'

# -----------------------------------------------------------------------------
# the recipes


@dataclass(frozen=True)
class Recipe:
    build: Callable[[], Any]  # a fresh model, the book's way
    batch_size: int
    schedule: Any  # lr_at(step): StepDecay (one drop), Drops or WarmupLinear
    max_steps: int  # give up here (the target not reached)
    eval_every: int  # steps between two evaluations on the dev split
    why: str  # one line: what differs from the lecture's recipe, and why


@dataclass(frozen=True)
class Case:
    name: str
    block_size: int
    target: lecture.Quote  # the dev loss the lecture printed
    lecture_model: Callable[[], Any]  # a fresh model, the lecture's way
    lecture_loop: Callable  # (model, X, Y, TrainConfig) -> losses, as the lecture writes it
    lecture_recipe: dict  # its steps (the rest is in its loop)
    book: Recipe


def _book_mlp() -> MLP:
    # Part 2's network (same sizes, same parameter count) with Chapter 3's initial scales:
    # the lecture draws every weight from randn, and Chapter 3 shows the price: a hockey
    # stick of wasted steps and saturated tanh units that learn slowly.
    fields = lecture.PART3_STAGE_FIELDS["Kaiming"]
    return MLP(MLPConfig(VOCAB, **lecture.PART2_MLP, **fields))


def _book_bn() -> MLP:
    # Part 3's BatchNorm network (same sizes, same parameter count) with W1 drawn smaller:
    # BatchNorm undoes W1's scale in the forward pass, so a smaller W1 gets larger relative
    # updates (a larger effective rate for W1 and, through it, the embedding).
    fields = dict(lecture.PART3_STAGE_FIELDS["BatchNorm"], w1_scale=0.1)
    return MLP(MLPConfig(VOCAB, **lecture.PART2_MLP, **fields))


def _wavenet():
    return wavenet(WaveNetConfig(VOCAB))


CASES = {
    "mlp": Case(
        "Part 2 MLP", lecture.PART2_MLP["block_size"], lecture.PART2_DEV,
        lambda: part2_mlp("cpu"), lecture_mlp, lecture.PART2_RECIPE,
        Recipe(_book_mlp, 32, StepDecay(0.1, 15_000, 0.01), 60_000, 1_000,
               "Chapter 3's initial scales; the drop at step 15,000")),
    "bn": Case(
        "Part 3 BatchNorm MLP", lecture.PART2_MLP["block_size"],
        lecture.PART3_STAGES["BatchNorm"][1],
        lambda: part3_bn_mlp("cpu"), lecture_bn, lecture.PART2_RECIPE,
        Recipe(_book_bn, 256, WarmupLinear(1.0, 0, 12_000), 12_000, 2_000,
               "W1 drawn at 0.1 instead of Kaiming's (under BatchNorm a larger effective "
               "rate for W1 and the embedding); batch 256 at lr 1.0, decaying linearly to 0 "
               "over 12,000 steps")),
    "wavenet": Case(
        "Part 5 WaveNet", lecture.PART5_NET["block_size"], lecture.PART5_LOG["scaled up"][1],
        _wavenet, lecture_deep, lecture.PART5_RECIPE,
        Recipe(_wavenet, 256, WarmupLinear(1.0, 0, 7_500), 7_500, 2_500,
               "batch 256 (a quarter of batch 32's cost per example) at lr 1.0, decaying "
               "linearly to 0 over 7,500 steps (Chapter 5 trains with the lecture's batch, "
               "makemore.zoo.WAVENET_BOOK_RECIPE)")),
}


def _drops(schedule) -> str:
    """'0.1, 0.01 from step 60,000, ...' for a StepDecay or a Drops; '1, linearly to 0 at
    step 12,000' for a WarmupLinear."""
    if isinstance(schedule, WarmupLinear):
        warmup = f" after {schedule.warmup:,} steps of warm-up" if schedule.warmup else ""
        return (f"{schedule.lr:g}{warmup}, linearly to {schedule.final:g} at step "
                f"{schedule.steps:,}")
    drops = getattr(schedule, "drops", None)
    if drops is None:
        drops = ((schedule.decay_step, schedule.final),)
    return f"{schedule.lr:g}" + "".join(f", {lr:g} from step {step:,}" for step, lr in drops)


# -----------------------------------------------------------------------------
# one model


class LectureClock:
    """The lecture's loop on its own model, run in bursts; keeps the total steps and time."""

    def __init__(self, case: Case, X, Y, burst: int, total: int):
        self.case, self.X, self.Y = case, X, Y
        self.model = case.lecture_model()
        self.burst, self.total = burst, total
        self.steps, self.seconds, self.k = 0, 0.0, 0

    def tick(self) -> None:
        """One burst, if the budget of steps is not spent yet."""
        n = min(self.burst, self.total - self.steps)
        if n <= 0:
            return
        cfg = TrainConfig.from_lecture(dict(self.case.lecture_recipe, steps=n),
                                       seed=lecture.SEED + self.k)
        t0 = time.perf_counter()
        self.case.lecture_loop(self.model, self.X, self.Y, cfg)
        self.seconds += time.perf_counter() - t0
        self.steps, self.k = self.steps + n, self.k + 1

    @property
    def rate(self) -> float:
        return self.steps / self.seconds


def measure(case: Case, words: list[str], args) -> float:
    splits = make_splits(words, block_size=case.block_size)
    Xtr, Ytr, Xdev, Ydev = splits.Xtr, splits.Ytr, splits.Xdev, splits.Ydev
    target = float(case.target)
    r = case.book
    print(f"\n== {case.name}: target dev {case.target} (printed in the lecture); "
          f"load average {load_average()}")
    print(f"  book's recipe: batch {r.batch_size}, lr {_drops(r.schedule)}, dev every "
          f"{r.eval_every:,} steps (at most {r.max_steps:,}): {r.why}")
    clock = LectureClock(case, Xtr, Ytr, args.burst, args.lecture_steps)
    clock.tick()  # warm up the lecture's loop before the first timed burst counts
    clock.steps, clock.seconds = 0, 0.0

    model = r.build()
    done, k, t_train, t_eval, reached = 0, 0, 0.0, 0.0, None
    while done < r.max_steps:
        n = min(r.eval_every, r.max_steps - done)
        cfg = TrainConfig(steps=n, batch_size=r.batch_size, schedule=Shifted(r.schedule, done),
                          seed=lecture.SEED + k)
        t0 = time.perf_counter()
        train(model, Xtr, Ytr, cfg)
        t1 = time.perf_counter()
        dev = split_loss(model, Xdev, Ydev)
        t2 = time.perf_counter()
        t_train, t_eval = t_train + t1 - t0, t_eval + t2 - t1
        done, k = done + n, k + 1
        if done % (10 * r.eval_every) == 0 or dev <= target:
            print(f"    step {done:7,d}  dev {dev:.4f}  ({t_train + t_eval:6.1f} s)")
        if dev <= target:
            reached = dev
            break
        clock.tick()  # a burst of the lecture's loop between two segments of the book's
    while clock.steps < clock.total:
        clock.tick()

    steps = case.lecture_recipe["steps"]
    lecture_seconds = steps / clock.rate
    book_seconds = t_train + t_eval
    print(f"  lecture's recipe: {steps:,} steps at {clock.rate:,.0f} steps/s (its loop, "
          f"{clock.steps:,} steps timed in bursts) = {lecture_seconds:,.1f} s")
    if reached is None:
        print(f"  book's recipe: dev {dev:.4f} after {done:,} steps, target NOT reached "
              f"({book_seconds:.1f} s)")
        return math.nan
    ratio = lecture_seconds / book_seconds
    print(f"  book's recipe: dev {reached:.4f} at step {done:,}, {book_seconds:.1f} s "
          f"(training {t_train:.1f} s, {k} evaluations {t_eval:.1f} s)")
    print(f"  lecture / book = {ratio:.2f}")
    return ratio


# -----------------------------------------------------------------------------
# the Transformer: the book's recipe against makemore.py's, at makemore.py's default size


def measure_transformer(words: list[str], args) -> float:
    """makemore.py's recipe for `--makemore-seconds` of training CPU (its dev evaluated every
    500 steps, as makemore.py does; the best one is the target, the checkpoint it would keep),
    then the book's (`makemore.zoo.KINDS["transformer"]`: AdamW 3e-3 with warm-up and a linear
    decay over `--tf-steps`, weight decay 0.1, each minibatch cut to its longest word, the
    package's loop) on the same architecture until its dev first reaches that target. Both
    times are CPU seconds (`time.process_time`); the book's includes its evaluations."""
    vocab = make_splits(words).vocab
    tr, dev, _ = split_words(words)
    block_size = max(len(w) for w in words) + 1  # makemore.py's output length
    X, Y = padded_words(tr, vocab, block_size)
    Xdev, Ydev = padded_words(dev, vocab, block_size)
    print(f"\n== Transformer (makemore.py's default size); load average {load_average()}")
    ref = MakemorePyRun(sequence_model("transformer", block_size, "cpu"), X, Y,
                        replace(makemore_py_config(1), seed=lecture.SEED))
    best = math.inf
    while ref.seconds < args.makemore_seconds:
        ref.run(500)
        best = min(best, mean_loss(ref.model, Xdev, Ydev))
        if ref.steps % 5_000 == 0:
            print(f"    makemore.py: step {ref.steps:6,d}  best dev {best:.4f}  "
                  f"({ref.seconds:6.1f} CPU-s)")
    print(f"  makemore.py's recipe: best dev {best:.4f} after {ref.steps:,} steps, "
          f"{ref.seconds:.1f} CPU-s of training: the target")

    kind = KINDS["transformer"]
    r = kind.recipe
    schedule = WarmupLinear(r.lr, r.warmup, args.tf_steps)
    model = sequence_model("transformer", block_size, "cpu", dropout=0.0)
    state, done, k, seconds, reached = TrainState(), 0, 0, 0.0, None
    print(f"  book's recipe: AdamW {r.lr:g}, warm-up {r.warmup}, linear decay to 0 at step "
          f"{args.tf_steps:,}, weight decay {r.weight_decay:g}, batch {r.batch_size}, dev "
          f"every {args.tf_eval_every} steps")
    while done < args.tf_steps:
        n = min(args.tf_eval_every, args.tf_steps - done)
        cfg = TrainConfig(steps=n, batch_size=r.batch_size, optimizer="adamw",
                          weight_decay=r.weight_decay, schedule=Shifted(schedule, done),
                          seed=lecture.SEED + k)
        t0 = time.process_time()
        train(model, X, Y, cfg, state=state)
        d = mean_loss(model, Xdev, Ydev)
        seconds += time.process_time() - t0
        state, done, k = TrainState(**state.snapshot()), done + n, k + 1
        if d <= best:
            reached = d
            break
    if reached is None:
        print(f"  book's recipe: dev {d:.4f} after {done:,} steps, target NOT reached "
              f"({seconds:.1f} CPU-s)")
        return math.nan
    ratio = ref.seconds / seconds
    print(f"  book's recipe: dev {reached:.4f} at step {done:,}, {seconds:.1f} CPU-s "
          f"(evaluations included)")
    print(f"  makemore.py / book = {ratio:.2f}")
    return ratio


# -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp,bn,wavenet,transformer",
                        help="comma-separated subset of " + ", ".join([*CASES, "transformer"]))
    parser.add_argument("--lecture-steps", type=int, default=3_000,
                        help="steps of the lecture's loop to time, per model")
    parser.add_argument("--burst", type=int, default=250,
                        help="steps of the lecture's loop between two evaluations of the book's")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the book uses 1)")
    parser.add_argument("--makemore-seconds", type=float, default=600.0,
                        help="training CPU-seconds of makemore.py's recipe (its target)")
    parser.add_argument("--tf-steps", type=int, default=6_000,
                        help="length of the book's Transformer schedule (steps)")
    parser.add_argument("--tf-eval-every", type=int, default=250,
                        help="steps between two dev evaluations of the book's Transformer")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = [m for m in args.models.split(",") if m]
    unknown = set(names) - set(CASES) - {"transformer"}
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}")
    try:  # the yardsticks are the lectures' names.txt losses: no other word list will do
        words = load_corpus(require_names=True).words
    except DataError as err:
        print(f"time_to_target: error: {err}", file=sys.stderr)
        return 2
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
          f"machine load average before: {load_average()}")
    ratios = {name: measure_transformer(words, args) if name == "transformer"
              else measure(CASES[name], words, args) for name in names}
    print(f"\nmachine load average after: {load_average()}")
    for name, ratio in ratios.items():
        print(f"time_to_target {name} {ratio:.2f}")
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
