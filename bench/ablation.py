"""What each idea in the package's training loop is worth, measured one at a time.

Starting from the lecture's loop, each variant adds one change; all run the same model, data
and minibatches, interleaved, one torch thread. The Part 2 MLP (`--model mlp`) or the Part 3
BatchNorm MLP (`--model bn`):

  lecture        the lecture's loop (bench/train_speed.py)
  +indices       minibatch indices and X[ix], Y[ix] drawn a chunk of steps at a time
  +no-sync       losses kept as tensors, stacked per chunk (no .item(), no log10 per step)
  +foreach       one torch._foreach_add_ update instead of a Python loop over parameters
                 (= the package's autograd path)
  analytic-tanh  the analytic forward/backward (makemore.analytic) but with torch.tanh
  analytic       the package's analytic path (tanh(x) = 2 sigmoid(2x) - 1)

Usage: python bench/ablation.py [--model mlp] [--steps 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from train_speed import MODELS, lecture_bn, lecture_mlp

from makemore import analytic
from makemore.data import load_corpus, make_splits
from makemore.training import TrainConfig, minibatch_chunks, train

# -----------------------------------------------------------------------------
# the intermediate loops


def chunked(model, X, Y, cfg: TrainConfig, sync: bool, foreach: bool) -> None:
    params = list(model.parameters())
    model.train()
    lossi = []
    for start, ix in minibatch_chunks(X.shape[0], cfg):
        Xc, Yc = X[ix], Y[ix]
        chunk = []
        for j, (x, y) in enumerate(zip(Xc.unbind(0), Yc.unbind(0), strict=True)):
            loss = F.cross_entropy(model(x), y)
            for p in params:
                p.grad = None
            loss.backward()
            lr = cfg.lr_at(start + j)
            if foreach:
                torch._foreach_add_([p.detach() for p in params], [p.grad for p in params],
                                    alpha=-lr)
            else:
                for p in params:
                    p.data += -lr * p.grad
            if sync:
                lossi.append(loss.log10().item())
            else:
                chunk.append(loss.detach())
        if not sync:
            torch.stack(chunk)
    model.eval()


def analytic_tanh(model, X, Y, cfg: TrainConfig) -> None:
    """The package's analytic loop with the hidden layer's tanh computed by torch.tanh."""
    analytic.MLPKernel.tanh_via_sigmoid = False
    try:
        train(model, X, Y, cfg)
    finally:
        analytic.MLPKernel.tanh_via_sigmoid = True


# -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mlp", choices=["mlp", "bn"], help="which MLP")
    parser.add_argument("--steps", type=int, default=2_000, help="steps per timing run")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats")
    args = parser.parse_args()
    torch.set_num_threads(1)
    s = make_splits(load_corpus().words)
    X, Y = s.Xtr, s.Ytr
    cfg = TrainConfig(steps=args.steps)
    lecture = lecture_mlp if args.model == "mlp" else lecture_bn
    variants = {
        "lecture": lambda m: lecture(m, X, Y, cfg),
        "+indices": lambda m: chunked(m, X, Y, cfg, sync=True, foreach=False),
        "+no-sync": lambda m: chunked(m, X, Y, cfg, sync=False, foreach=False),
        "+foreach": lambda m: chunked(m, X, Y, cfg, sync=False, foreach=True),
        "analytic-tanh": lambda m: analytic_tanh(m, X, Y, cfg),
        "analytic": lambda m: train(m, X, Y, cfg),
    }
    rates: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.repeats):
        for name in (list(variants) if r % 2 == 0 else list(variants)[::-1]):
            model = MODELS[args.model]("cpu")
            t0 = time.perf_counter()
            variants[name](model)
            rates[name].append(args.steps / (time.perf_counter() - t0))
    base = rates["lecture"]
    print(f"{args.model}: {args.repeats} interleaved repeats of {args.steps:,} steps, one thread")
    for name, r in rates.items():
        rel = statistics.median([a / b for a, b in zip(r, base, strict=True)])
        print(f"  {name:14s} {statistics.median(r):8,.0f} steps/s  {rel:5.2f}x lecture")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
