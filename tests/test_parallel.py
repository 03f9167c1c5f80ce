"""Training in worker processes gives exactly what training here gives."""

from __future__ import annotations

import torch

from makemore import layers as L
from makemore.mlp import MLP, MLPConfig
from makemore.parallel import train_many
from makemore.training import TrainConfig


def test_train_many_in_workers_matches_training_here():
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 27, (400, 3), generator=g)
    Y = torch.randint(0, 27, (400,), generator=g)
    cfg = TrainConfig(steps=40, batch_size=16, lr_decay_step=20)

    def jobs():
        return [("mlp", MLP(MLPConfig(27, n_hidden=16, w2_scale=0.01)), cfg),
                ("deep", L.deep_mlp(L.DeepConfig(27, n_hidden=12, n_layers=2)), cfg)]

    here = train_many(jobs(), X, Y, workers=1)
    there = train_many(jobs(), X, Y, workers=2, context="fork")  # fork: quick to start
    assert list(there) == ["mlp", "deep"]
    for name in here:
        torch.testing.assert_close(here[name].losses, there[name].losses, rtol=0, atol=0)
        for p, q in zip(here[name].model.parameters(), there[name].model.parameters(),
                        strict=True):
            torch.testing.assert_close(p.detach(), q.detach(), rtol=0, atol=0)
        assert not there[name].model.training  # trained models come back in eval mode
