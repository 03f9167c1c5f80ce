"""Training in worker processes gives exactly what training here gives."""

from __future__ import annotations

from dataclasses import replace

import torch

from makemore.mlp import MLP, DeepConfig, MLPConfig, deep_mlp
from makemore.parallel import Job, run_jobs, train_many
from makemore.training import LossTrace, StepDecay, TrainConfig, split_loss, train


def test_train_many_in_workers_matches_training_here():
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 27, (400, 3), generator=g)
    Y = torch.randint(0, 27, (400,), generator=g)
    cfg = TrainConfig(steps=40, batch_size=16, schedule=StepDecay(0.1, 20, 0.01))

    def jobs():
        return [("mlp", MLP(MLPConfig(27, n_hidden=16, w2_scale=0.01)), cfg),
                ("deep", deep_mlp(DeepConfig(27, n_hidden=12, n_layers=2)), cfg)]

    here = train_many(jobs(), X, Y, workers=1)
    there = train_many(jobs(), X, Y, workers=2, context="fork")  # fork: quick to start
    assert list(there) == ["mlp", "deep"]
    for name in here:
        torch.testing.assert_close(here[name].losses, there[name].losses, rtol=0, atol=0)
        for p, q in zip(here[name].model.parameters(), there[name].model.parameters(),
                        strict=True):
            torch.testing.assert_close(p.detach(), q.detach(), rtol=0, atol=0)
        assert not there[name].model.training  # trained models come back in eval mode


def test_a_traced_job_in_a_worker_notes_the_losses_of_the_model_it_trains():
    """The trace comes back from the worker and holds the dev loss of the copy that trained:
    the same numbers as training here and evaluating at those steps; and tracing does not
    change the run."""
    g = torch.Generator().manual_seed(1)
    X = torch.randint(0, 27, (300, 3), generator=g)
    Y = torch.randint(0, 27, (300,), generator=g)
    Xd, Yd = X[:50], Y[:50]
    cfg = TrainConfig(steps=30, batch_size=16, schedule=StepDecay(0.1, 20, 0.01))

    def job():
        model = MLP(MLPConfig(27, n_hidden=16, w2_scale=0.01))
        trace = LossTrace(model, Xd, Yd, every=10, steps=cfg.steps)
        return Job("mlp", model, cfg, X, Y, trace)

    there = run_jobs([job()], workers=2, context="fork")["mlp"]
    assert [s for s, _, _ in there.callback.trace] == [10, 20, 30]
    secs = [t for _, t, _ in there.callback.trace]
    assert 0 < secs[0] < secs[1] < secs[2] <= there.cpu_seconds
    # independently: train in chunks of 10 steps and evaluate between them
    model = MLP(MLPConfig(27, n_hidden=16, w2_scale=0.01))
    plain = train_many([("mlp", model, cfg)], X, Y, workers=1)["mlp"]
    torch.testing.assert_close(plain.losses, there.losses, rtol=0, atol=0)
    assert there.callback.trace[-1][2] == split_loss(plain.model, Xd, Yd)
    # the loss at step 10 equals that of a 10-step run (its schedule is the same so far)
    short = MLP(MLPConfig(27, n_hidden=16, w2_scale=0.01))
    train(short, X, Y, replace(cfg, steps=10))
    assert abs(there.callback.trace[0][2] - split_loss(short, Xd, Yd)) < 1e-6
