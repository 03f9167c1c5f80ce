"""How fast does the package train, next to the lecture's own loop? Measured side by side.

Every build of the book retrains its models, so training speed is the book's build time. This
script times, in one process, with one torch thread, and interleaved (lecture, package, lecture,
package, ... so that a busy machine slows both alike):

- the lecture's loop, written here exactly as the lecture writes it: a fresh
  `torch.randint(..., generator=g)` minibatch, the forward pass, `p.grad = None` per parameter,
  `loss.backward()`, `p.data += -lr * p.grad` per parameter, `lossi.append(loss.log10().item())`;
- the package's loop, `makemore.training.train` (the hand-written backward of the layers, see
  `makemore.layers`), and the same
  loop with `backend="autograd"`, to show what each part is worth;

on the same model, data, initial weights and minibatch sequence, for the Part 2 MLP, the Part 3
single-layer BatchNorm MLP and the Part 3 deep network (`makemore.mlp.deep_mlp`; its lecture
loop leaves out the lecture's debugging lines, `retain_grad` and the update:data log, which the
package runs only when asked, through a callback).

It prints the training-set loss both loops reach after the same number of steps, in float32
(same maths, different rounding: they agree to a few thousandths) and in float64 (where they
must agree to 1e-3, or the script stops: a loop that takes other steps is a bug), then steps/s
from several short
interleaved timing runs and the speed-up package / lecture (the median over repeats of the
ratio within each interleaved pair; short runs keep a pair's two halves close in time). It also
measures steps/s and examples/s against the batch size for the MLP (`--no-scaling` skips it) and
saves a figure to bench/out/. Its last lines are `speedup <model> <ratio>`, one per model, for
scripts.

The Transformer of Chapter 6 (`transformer`: makemore.py's default size, 4 layers of 64 with 4
heads; `transformer-headline`: the book's, `transformer.BOOK_MODEL`) is timed the same way
against a plain autograd step written the way makemore.py trains (the whole padded width,
`logits = model(x)`, `F.cross_entropy(..., ignore_index=-1)`, `zero_grad(set_to_none=True)`,
`loss.backward()`, torch's AdamW with makemore.py's settings and its default implementation,
batch 32), the package's loop being `train` with the same settings: each minibatch trimmed to
its longest word, the hand-written backward of `makemore.transformer_manual` (which also leaves
out the padding after each word), the loop's fused AdamW. makemore.py's RNN and GRU (`rnn`,
`gru`: 64-wide embeddings and hidden state) are timed in the same way, the package's step being
`makemore.recurrent_manual`'s backpropagation through time. The loss check runs 1,000 steps of
each in float64 without dropout (the losses must agree to 1e-4, or the script stops); the
timing uses CPU time (`time.process_time`, which other processes on the machine slow less than
the wall clock), and the headline model keeps its dropout. It also prints the headline step's
achieved GFLOP/s (the matmul FLOPs of forward and backward the package's steps computed, on
each minibatch cut to its longest word and without the padding after each word, over the
loop's CPU time) against this machine's single-thread float32 matmul peak, measured in the
same run (512 x 512 matmuls).

Usage: python bench/train_speed.py [--steps 10000] [--deep-steps 10000] [--time-steps 2000]
                                   [--repeats 7] [--models mlp,bn,deep,transformer,
                                   transformer-headline,rnn,gru] [--tf-check-steps 1000]
                                   [--tf-time-steps 200] [--no-scaling] [--device cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from makemore import lecture
from makemore.data import DataError, load_corpus, make_splits, split_words
from makemore.figures import new_figure, styled
from makemore.mlp import MLP, DeepConfig, MLPConfig, deep_mlp
from makemore.recurrent import RNN, RecurrentConfig
from makemore.sequences import IGNORE, padded_words, trim_padding
from makemore.training import (
    StepDecay,
    TrainConfig,
    minibatch_indices,
    resolve_device,
    split_loss,
    train,
)
from makemore.transformer import Transformer, TransformerConfig
from makemore.transformer_manual import kept_rows
from makemore.zoo import TRANSFORMER_BOOK as BOOK_MODEL

OUT = Path(__file__).resolve().parent / "out"

# -----------------------------------------------------------------------------
# the models, as the chapters build them


VOCAB = 27  # names.txt: 26 letters and '.'


def part2_mlp(device) -> MLP:
    return MLP(MLPConfig(VOCAB, **lecture.PART2_MLP), device=device)  # all-randn init, as Part 2


def part3_bn_mlp(device) -> MLP:
    fields = lecture.PART3_STAGE_FIELDS["BatchNorm"]
    return MLP(MLPConfig(VOCAB, **lecture.PART2_MLP, **fields), device=device)


def part3_deep(device):
    return deep_mlp(DeepConfig(VOCAB, **lecture.PART3_DEEP)).to(device)


MODELS = {"mlp": part2_mlp, "bn": part3_bn_mlp, "deep": part3_deep}


# -----------------------------------------------------------------------------
# the lecture's loops, as the lecture writes them (makemore_part2_mlp / part3_bn notebooks)


def lecture_mlp(model: MLP, Xtr, Ytr, cfg: TrainConfig) -> list[float]:
    C, W1, b1, W2, b2 = model.C, model.W1, model.b1, model.W2, model.b2
    parameters = [C, W1, b1, W2, b2]
    g = torch.Generator().manual_seed(cfg.seed)
    lossi = []
    decay = cfg.schedule  # the lectures' StepDecay: lr, then final from decay_step on
    for i in range(cfg.steps):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (cfg.batch_size,), generator=g).to(Xtr.device)
        # forward pass
        emb = C[Xtr[ix]]  # (32, 3, 10)
        h = torch.tanh(emb.view(-1, W1.shape[0]) @ W1 + b1)  # (32, 200)
        logits = h @ W2 + b2  # (32, 27)
        loss = F.cross_entropy(logits, Ytr[ix])
        # backward pass
        for p in parameters:
            p.grad = None
        loss.backward()
        # update
        lr = decay.lr if i < decay.decay_step else decay.final
        for p in parameters:
            p.data += -lr * p.grad
        # track stats
        lossi.append(loss.log10().item())
    model.eval()
    return lossi


def lecture_bn(model: MLP, Xtr, Ytr, cfg: TrainConfig) -> list[float]:
    C, W1, W2, b2 = model.C, model.W1, model.W2, model.b2
    bngain, bnbias = model.bn.gain, model.bn.bias
    bnmean_running, bnstd_running = model.bn.running_mean, model.bn.running_std
    parameters = [C, W1, W2, b2, bngain, bnbias]
    g = torch.Generator().manual_seed(cfg.seed)
    lossi = []
    decay = cfg.schedule  # the lectures' StepDecay: lr, then final from decay_step on
    for i in range(cfg.steps):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (cfg.batch_size,), generator=g).to(Xtr.device)
        Xb, Yb = Xtr[ix], Ytr[ix]  # batch X,Y
        # forward pass
        emb = C[Xb]  # embed the characters into vectors
        embcat = emb.view(emb.shape[0], -1)  # concatenate the vectors
        # Linear layer
        hpreact = embcat @ W1  # + b1 # hidden layer pre-activation
        # BatchNorm layer
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        # Non-linearity
        h = torch.tanh(hpreact)  # hidden layer
        logits = h @ W2 + b2  # output layer
        loss = F.cross_entropy(logits, Yb)  # loss function
        # backward pass
        for p in parameters:
            p.grad = None
        loss.backward()
        # update
        lr = decay.lr if i < decay.decay_step else decay.final
        for p in parameters:
            p.data += -lr * p.grad
        # track stats
        lossi.append(loss.log10().item())
    model.bn.running_mean.copy_(bnmean_running)  # the model evaluates with these
    model.bn.running_std.copy_(bnstd_running)
    model.eval()
    return lossi


def lecture_deep(model, Xtr, Ytr, cfg: TrainConfig) -> list[float]:
    layers = model.layers  # Embedding, Flatten, then the lecture's Linear/BatchNorm1d/Tanh stack
    parameters = model.parameters()
    model.train()
    g = torch.Generator().manual_seed(cfg.seed)
    lossi = []
    decay = cfg.schedule  # the lectures' StepDecay: lr, then final from decay_step on
    for i in range(cfg.steps):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (cfg.batch_size,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]  # batch X,Y
        # forward pass
        x = Xb
        for layer in layers:
            x = layer(x)
        loss = F.cross_entropy(x, Yb)  # loss function
        # backward pass
        for p in parameters:
            p.grad = None
        loss.backward()
        # update
        lr = decay.lr if i < decay.decay_step else decay.final
        for p in parameters:
            p.data += -lr * p.grad
        # track stats
        lossi.append(loss.log10().item())
    model.eval()
    return lossi


LECTURE = {"mlp": lecture_mlp, "bn": lecture_bn, "deep": lecture_deep}


# -----------------------------------------------------------------------------
# the scaling figure


@styled
def plot_train_speed_scaling(batch_sizes, rates: dict, note: str = "") -> Figure:
    """Training speed against the batch size: steps/s (left) and examples/s (right), one line
    per loop (`rates` maps a loop's name to its steps/s at each batch size); `note` (the model,
    threads, machine) becomes the figure's title."""
    fig, (ax1, ax2) = new_figure(ncols=2, width=10, height=4)
    for k, (name, r) in enumerate(rates.items()):
        style = {"marker": "o", "color": f"C{k}", "label": name}
        ax1.plot(batch_sizes, r, **style)
        ax2.plot(batch_sizes, [v * b for v, b in zip(r, batch_sizes, strict=True)], **style)
    for ax, unit in ((ax1, "steps"), (ax2, "examples")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
        ax.set_xlabel("batch size")
        ax.set_ylabel(f"{unit} per second")
        ax.legend(loc="best")
    ax1.set_title("Optimisation steps per second")
    ax2.set_title("Training examples per second")
    if note:
        fig.suptitle(note)
    return fig


# -----------------------------------------------------------------------------
# timing


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def run_loop(name: str, loop: str, X, Y, cfg: TrainConfig, device, dtype=torch.float32):
    """One fresh model trained by one loop: (seconds, first-step loss, trained model)."""
    model = MODELS[name](device).to(dtype=dtype)
    if loop == "lecture":
        seconds, lossi = timed(LECTURE[name], model, X, Y, cfg)
        first = 10 ** lossi[0]
    else:
        backend = "auto" if loop == "package" else "autograd"
        run_cfg = dataclasses.replace(cfg, backend=backend)
        seconds, losses = timed(train, model, X, Y, run_cfg)
        first = losses[0].item()
    return seconds, first, model


def compare(name: str, X, Y, cfg: TrainConfig, time_steps: int, repeats: int, device) -> float:
    """Loss check (one `cfg.steps` run per loop), then `repeats` interleaved timing runs of
    `time_steps` steps; returns the median over repeats of lecture time / package time."""
    loops = ["lecture", "package"] + (["package (autograd)"] if name != "deep" else [])
    print(f"\n== {name}: batch {cfg.batch_size}, {torch.get_num_threads()} thread(s), "
          f"device {device}, load average {load_average()}")
    # Float32 rounds the two loops' arithmetic differently (fused updates, the fused
    # cross-entropy backward), and training amplifies it: a chaotic start such as Part 2's
    # all-randn network drifts by a few thousandths over 10,000 steps, the package's own
    # autograd path as much as its hand-written one. In float64 the rounding is a billion
    # times smaller: there the two loops must end on the same loss (to 1e-3, the issue's
    # bar, and in fact far closer), which shows they take the same steps.
    for dtype in (torch.float32, torch.float64):
        final: dict[str, float] = {}
        print(f"  loss check, {str(dtype)[6:]}: {cfg.steps:,} steps from the same initial "
              "weights and minibatches")
        for loop in loops:
            seconds, first, model = run_loop(name, loop, X, Y, cfg, device, dtype)
            final[loop] = split_loss(model, X, Y)
            print(f"    {loop:20s} first-step loss {first:.4f}, training-set loss after "
                  f"{cfg.steps:,} steps {final[loop]:.6f}  ({cfg.steps / seconds:,.0f} "
                  "steps/s)")
        gap = abs(final["package"] - final["lecture"])
        print(f"    |package - lecture| = {gap:.2e}")
        if dtype == torch.float64 and gap > 1e-3:
            raise SystemExit(f"{name}: the loops disagree in float64 ({gap:.2e}): a bug")

    timing = dataclasses.replace(cfg, steps=time_steps)
    rates: dict[str, list[float]] = {loop: [] for loop in loops}
    ratios = []
    for r in range(repeats):
        order = loops if r % 2 == 0 else loops[::-1]  # alternate who goes first
        seconds = {}
        for loop in order:
            seconds[loop], _, _ = run_loop(name, loop, X, Y, timing, device)
            rates[loop].append(time_steps / seconds[loop])
        ratios.append(seconds["lecture"] / seconds["package"])
    print(f"  speed: {repeats} interleaved repeats of {time_steps:,} steps (median, then each)")
    for loop in loops:
        spread = ", ".join(f"{v:,.0f}" for v in rates[loop])
        print(f"    {loop:20s} {statistics.median(rates[loop]):8,.0f} steps/s  ({spread})")
    if "package (autograd)" in rates:
        auto = [a / lec for a, lec in zip(rates["package (autograd)"], rates["lecture"],
                                          strict=True)]
        print(f"    package (autograd) / lecture  {statistics.median(auto):.2f}x")
    ratio = statistics.median(ratios)
    print(f"    package / lecture             {ratio:.2f}x  ("
          + ", ".join(f"{x:.2f}" for x in ratios) + ")")
    return ratio


# -----------------------------------------------------------------------------
# makemore.py's sequence models: the package's loop against makemore.py's step

SEQUENCE_MODELS = {"transformer": dict(lecture.MAKEMORE_TRANSFORMER),
                   "transformer-headline": dict(BOOK_MODEL),
                   "rnn": dict(lecture.MAKEMORE_MODEL), "gru": dict(lecture.MAKEMORE_MODEL)}


def sequence_model(name: str, block_size: int, device, dtype=torch.float32,
                   dropout: float | None = None) -> Transformer | RNN:
    """A fresh model of that size, the same weights every time (a Transformer as the CLI
    trains it: fused; `dropout` replaces its dropout)."""
    sizes = SEQUENCE_MODELS[name]
    if name in ("rnn", "gru"):
        model = RNN(RecurrentConfig(VOCAB, block_size, **sizes, seed=lecture.SEED), name)
        return model.to(device=device, dtype=dtype)
    sizes = sizes | ({} if dropout is None else {"dropout": dropout})
    config = TransformerConfig(vocab_size=VOCAB, block_size=block_size, fused=True,
                               seed=lecture.SEED, **sizes)
    return Transformer(config).to(device=device, dtype=dtype)


class MakemorePyRun:
    """makemore.py's training step, resumable in segments: a minibatch of whole padded words
    (the same draws as the package's loop), the forward pass, the cross-entropy ignoring the
    -1 targets, zero_grad, backward, torch's AdamW (its default implementation on a CPU), one
    optimiser and one minibatch stream across calls of `run`. `seconds` counts the CPU time
    of its steps only."""

    def __init__(self, model: Transformer | RNN, X, Y, cfg: TrainConfig):
        self.model, self.X, self.Y, self.batch_size = model, X, Y, cfg.batch_size
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas,
                                           weight_decay=cfg.weight_decay)
        self.g = torch.Generator().manual_seed(cfg.seed)
        self.steps, self.seconds = 0, 0.0

    def run(self, n: int) -> torch.Tensor:
        """n more steps; the (n,) losses."""
        self.model.train()
        t0 = time.process_time()
        losses = []
        for _ in range(n):
            ix = torch.randint(0, self.X.shape[0], (self.batch_size,), generator=self.g)
            x, y = self.X[ix.to(self.X.device)], self.Y[ix.to(self.X.device)]  # (B, T)
            logits = self.model(x)  # (B, T, V)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1),
                                   ignore_index=-1)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        self.seconds += time.process_time() - t0
        self.steps += n
        self.model.eval()
        return torch.stack(losses).cpu()


def makemore_py_loop(model: Transformer | RNN, X, Y, cfg: TrainConfig) -> torch.Tensor:
    """makemore.py's training (`MakemorePyRun`) for cfg.steps steps: the (steps,) losses."""
    return MakemorePyRun(model, X, Y, cfg).run(cfg.steps)


def makemore_py_config(steps: int) -> TrainConfig:
    """makemore.py's optimiser settings at a constant learning rate, for the package's loop."""
    opt = lecture.MAKEMORE_OPTIM
    return TrainConfig(steps=steps, batch_size=opt["batch_size"], optimizer="adamw",
                       schedule=StepDecay(opt["lr"], steps, opt["lr"]),
                       betas=opt["betas"], weight_decay=opt["weight_decay"])


@torch.inference_mode()
def mean_loss(model: Transformer, X, Y, chunk: int = 1024) -> float:
    """The mean cross-entropy over every target of (X, Y), a chunk of words at a time."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, X.shape[0], chunk):
        logits = model(X[i:i + chunk])
        y = Y[i:i + chunk].reshape(-1)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y, ignore_index=IGNORE,
                                 reduction="sum").item()
        count += int((y != IGNORE).sum())
    return total / count


def run_sequence_model(name: str, loop: str, X, Y, cfg: TrainConfig, device,
                       dtype=torch.float32, dropout: float | None = None):
    """One fresh model trained by one loop: (CPU seconds, (steps,) losses, trained model)."""
    model = sequence_model(name, X.shape[1], device, dtype, dropout)
    t0 = time.process_time()
    losses = makemore_py_loop(model, X, Y, cfg) if loop == "makemore.py" else train(
        model, X, Y, cfg)
    return time.process_time() - t0, losses, model


def step_flops(config: TransformerConfig, B: int, T: int, N: int) -> int:
    """The matmul FLOPs of one training step on a (B, T) minibatch of which N positions are
    computed: the forward's 2 m n k per product (the four Linears of each Block and lm_head on
    the N rows, q k^T and att v over all T x T pairs of the B words), times 3 for forward and
    backward (each product's backward is two of its size)."""
    C, L, V = config.n_embd, config.n_layer, config.vocab_size
    per_layer = 2 * N * (3 * C * C + C * C + 4 * C * C + 4 * C * C) + 2 * 2 * B * T * T * C
    return 3 * (L * per_layer + 2 * N * C * V)


def package_step_flops(config: TransformerConfig, x: torch.Tensor, y: torch.Tensor) -> int:
    """What the package's step computes on minibatch (x, y): cut to its longest word, the
    padding after each word left out (`makemore.transformer_manual.kept_rows`)."""
    x, y = trim_padding(x, y)
    return step_flops(config, *x.shape, kept_rows(y).numel())


def matmul_peak(repeats: int = 5, n: int = 512, iters: int = 40) -> float:
    """This machine's float32 matmul speed (GFLOP/s of CPU time) on n x n matrices."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    rates = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(iters):
            torch.mm(a, b, out=out)
        rates.append(2 * n**3 * iters / (time.process_time() - t0) / 1e9)
    return statistics.median(rates)


def compare_sequence_model(name: str, X, Y, check_steps: int, time_steps: int, repeats: int,
                           device) -> tuple[float, float | None]:
    """Loss check in float64 without dropout, then `repeats` interleaved timing runs; returns
    the median ratio makemore.py / package of CPU time per step, and for the headline model
    its achieved GFLOP/s (None for the other)."""
    loops = ["makemore.py", "package"]
    print(f"\n== {name} ({SEQUENCE_MODELS[name]}): batch 32, {torch.get_num_threads()} "
          f"thread(s), device {device}, load average {load_average()}")
    print(f"  loss check, float64, no dropout: {check_steps:,} steps from the same initial "
          "weights and minibatches")
    cfg = makemore_py_config(check_steps)
    runs = {loop: run_sequence_model(name, loop, X, Y, cfg, device, torch.float64, 0.0)
            for loop in loops}
    final = {}
    for loop, (seconds, losses, model) in runs.items():
        final[loop] = mean_loss(model, X, Y)
        print(f"    {loop:12s} first-step loss {losses[0].item():.4f}, training-set loss after "
              f"{check_steps:,} steps {final[loop]:.8f}  ({seconds / check_steps * 1e3:.1f} "
              "ms/step)")
    step_gap = (runs["package"][1] - runs["makemore.py"][1]).abs().max().item()
    gap = abs(final["package"] - final["makemore.py"])
    print(f"    |package - makemore.py|: training-set loss {gap:.2e}, minibatch losses at most "
          f"{step_gap:.2e} (the loop keeps them in float32)")
    if gap > 1e-4 or step_gap > 1e-4:
        raise SystemExit(f"{name}: the loops disagree in float64 ({gap:.2e}): a bug")

    timing = makemore_py_config(time_steps)
    ms: dict[str, list[float]] = {loop: [] for loop in loops}
    ratios = []
    for r in range(repeats):
        order = loops if r % 2 == 0 else loops[::-1]  # alternate who goes first
        seconds = {loop: run_sequence_model(name, loop, X, Y, timing, device)[0]
                   for loop in order}
        for loop in loops:
            ms[loop].append(seconds[loop] / time_steps * 1e3)
        ratios.append(seconds["makemore.py"] / seconds["package"])
    print(f"  speed: {repeats} interleaved repeats of {time_steps:,} steps, CPU time per step "
          "(median, then each)")
    for loop in loops:
        spread = ", ".join(f"{v:.2f}" for v in ms[loop])
        print(f"    {loop:12s} {statistics.median(ms[loop]):7.2f} ms/step  ({spread})")
    ratio = statistics.median(ratios)
    print(f"    makemore.py / package  {ratio:.2f}x  (" + ", ".join(f"{x:.2f}" for x in ratios)
          + ")")
    if name != "transformer-headline":
        return ratio, None
    # the work the package's steps did on the minibatches they drew
    config = sequence_model(name, X.shape[1], "cpu").config
    ix = minibatch_indices(X.shape[0], timing).to(X.device)
    flops = sum(package_step_flops(config, X[i], Y[i]) for i in ix)
    full = step_flops(config, timing.batch_size, X.shape[1], timing.batch_size * X.shape[1])
    gflops = flops / (statistics.median(ms["package"]) * 1e-3 * time_steps) / 1e9
    print(f"  achieved: {flops / time_steps / 1e9:.3f} GFLOP per step on average (the padded "
          f"width: {full / 1e9:.3f}), {gflops:.1f} GFLOP/s of CPU time")
    return ratio, gflops


# -----------------------------------------------------------------------------
# scaling with the batch size


def scaling(X, Y, batch_sizes: list[int], repeats: int, device) -> dict[str, list[float]]:
    """steps/s of the lecture's and the package's loop for the Part 2 MLP at each batch size."""
    rates: dict[str, list[float]] = {"lecture": [], "package": []}
    print("\n== scaling (Part 2 MLP): steps/s and examples/s against the batch size")
    print(f"  {'batch':>6s} {'lecture':>10s} {'package':>10s} {'lecture ex/s':>14s} "
          f"{'package ex/s':>14s} {'ratio':>6s}")
    for B in batch_sizes:
        steps = max(60, 200_000 // B)
        cfg = TrainConfig(steps=steps, batch_size=B, schedule=StepDecay(0.1, steps, 0.01))
        per: dict[str, list[float]] = {"lecture": [], "package": []}
        for r in range(repeats):
            for loop in (["lecture", "package"] if r % 2 == 0 else ["package", "lecture"]):
                seconds, _, _ = run_loop("mlp", loop, X, Y, cfg, device)
                per[loop].append(steps / seconds)
        lec, pkg = statistics.median(per["lecture"]), statistics.median(per["package"])
        rates["lecture"].append(lec)
        rates["package"].append(pkg)
        print(f"  {B:6d} {lec:10,.0f} {pkg:10,.0f} {lec * B:14,.0f} {pkg * B:14,.0f} "
              f"{pkg / lec:6.2f}")
    return rates


# -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000,
                        help="steps of the loss check (both loops' losses are compared after)")
    parser.add_argument("--deep-steps", type=int, default=10_000,
                        help="steps of the deep network's loss check (it is ~10x slower)")
    parser.add_argument("--time-steps", type=int, default=2_000,
                        help="steps per timing run (a quarter of this for the deep network)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved timing repeats")
    parser.add_argument("--models",
                        default="mlp,bn,deep,transformer,transformer-headline,rnn,gru",
                        help="comma-separated subset of mlp, bn, deep, transformer, "
                        "transformer-headline, rnn, gru")
    parser.add_argument("--tf-check-steps", type=int, default=1_000,
                        help="steps of the sequence models' float64 loss check")
    parser.add_argument("--tf-time-steps", type=int, default=200,
                        help="steps per timing run of the sequence models")
    parser.add_argument("--scaling", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure steps/s against batch size (MLP) and save a figure")
    parser.add_argument("--scaling-repeats", type=int, default=3,
                        help="interleaved repeats per batch size")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda when available")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the book uses 1)")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device, torch.device("cpu"))
    try:  # the losses it compares are the lectures' setting, on names.txt
        splits = make_splits(load_corpus(require_names=True).words)
    except DataError as err:
        print(f"train_speed: error: {err}", file=sys.stderr)
        return 2
    X, Y = splits.Xtr.to(device), splits.Ytr.to(device)
    cfg = TrainConfig(steps=args.steps)  # lr decay at the lectures' step 100,000: not reached
    print(f"torch {torch.__version__}, {len(X):,} training examples; machine load average "
          f"before: {load_average()}")

    names = [m for m in args.models.split(",") if m]
    ratios, gflops = {}, None
    if any(name in SEQUENCE_MODELS for name in names):
        words = load_corpus().words
        tr, _, _ = split_words(words)
        block_size = max(len(w) for w in words) + 1  # the longest name + 1, as makemore.py
        Xw, Yw = padded_words(tr, splits.vocab, block_size)
        Xw, Yw = Xw.to(device), Yw.to(device)
    for name in names:
        if name in SEQUENCE_MODELS:
            ratios[name], g = compare_sequence_model(name, Xw, Yw, args.tf_check_steps,
                                                  args.tf_time_steps, args.repeats, device)
            gflops = g if g is not None else gflops
            continue
        deep = name == "deep"
        run_cfg = dataclasses.replace(cfg, steps=args.deep_steps) if deep else cfg
        time_steps = args.time_steps // 4 if deep else args.time_steps
        ratios[name] = compare(name, X, Y, run_cfg, time_steps, args.repeats, device)

    if args.scaling:
        batch_sizes = [32, 64, 128, 256, 512, 1024, 2048, 4096]
        rates = scaling(X, Y, batch_sizes, args.scaling_repeats, device)
        OUT.mkdir(parents=True, exist_ok=True)
        note = (f"Part 2 MLP, {torch.get_num_threads()} torch thread(s), {device}, "
                f"torch {torch.__version__}")
        fig = plot_train_speed_scaling(batch_sizes, rates, note)
        path = OUT / "train_speed_scaling.png"
        fig.savefig(path)
        print(f"  figure: {path}")

    if gflops is not None:
        peak = matmul_peak()
        print(f"\nheadline Transformer's training step: {gflops:.1f} GFLOP/s of CPU time, "
              f"{gflops / peak:.0%} of this machine's single-thread float32 matmul peak "
              f"({peak:.1f} GFLOP/s, 512 x 512)")
    print(f"\nmachine load average after: {load_average()}")
    for name, ratio in ratios.items():
        print(f"speedup {name} {ratio:.2f}")
    return 0


def load_average() -> str:
    """The machine's load averages (1, 5, 15 minutes), printed beside every measurement."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
