"""Independent training runs side by side, one per CPU core.

The models of the lectures are so small that one training run keeps one core busy with Python
and tiny tensor ops; a second torch thread does not help it (it slows it down). Several
*independent* runs, though, can each have a core: `train_many` trains them in worker processes
(one torch thread each) and hands back the trained models and their loss curves. Every run
seeds its own model and minibatches, so the results are the same as training them one after the
other in this process, only sooner.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import torch

from makemore.training import Clock, Model, StepCallback, TrainConfig, train

# -----------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    model: Model  # the trained model (a copy, when trained in a worker process)
    losses: torch.Tensor  # (steps,) minibatch losses
    seconds: float  # wall-clock time of the training loop, callbacks included
    cpu_seconds: float = 0.0  # CPU time of the training itself, callbacks left out (Clock)
    callback: StepCallback | None = None  # the job's callback after the run (what it noted)


@dataclass
class Job:
    """One training run: `model` trained on (X, Y) with `cfg`, `callback` called at every step
    (see `makemore.training.train`). The callback travels to the worker with the model in one
    piece, so a callback that holds the model (a `makemore.training.LossTrace`) holds the copy
    that trains, and comes back in `Run.callback` with what it noted."""

    name: str
    model: Model
    cfg: TrainConfig
    X: torch.Tensor
    Y: torch.Tensor
    callback: StepCallback | None = None


def _train_one(name: str, model: Model, X: torch.Tensor, Y: torch.Tensor,
               cfg: TrainConfig, callback: StepCallback | None = None) -> Run:
    torch.set_num_threads(1)  # one core per run: tiny ops run fastest on one thread
    t0, clock = time.perf_counter(), Clock()
    losses = train(model, X, Y, cfg, callback, clock=clock)
    return Run(name, model, losses, time.perf_counter() - t0, clock.seconds, callback)


def run_jobs(jobs: list[Job], workers: int = 2, context: str = "spawn") -> dict[str, Run]:
    """Train every job; return {name: Run} in the order of `jobs`.

    With workers > 1 the runs go to that many worker processes (started with `context`; 'spawn'
    is safe inside a Jupyter kernel), in the order given: put the longest run first. With
    workers <= 1 they run here, one after the other, and the models are trained in place.
    """
    def args(job: Job) -> tuple:
        return job.name, job.model, job.X, job.Y, job.cfg, job.callback

    if workers <= 1:
        return {job.name: _train_one(*args(job)) for job in jobs}
    with ProcessPoolExecutor(workers, mp_context=mp.get_context(context)) as pool:
        futures = [pool.submit(_train_one, *args(job)) for job in jobs]
        return {run.name: run for run in (f.result() for f in futures)}


def train_many(
    jobs: list[tuple[str, Model, TrainConfig]],
    X: torch.Tensor,
    Y: torch.Tensor,
    workers: int = 2,
    context: str = "spawn",
) -> dict[str, Run]:
    """Train each (name, model, cfg) on the same (X, Y): `run_jobs` for runs that share data."""
    return run_jobs([Job(name, model, cfg, X, Y) for name, model, cfg in jobs], workers, context)
