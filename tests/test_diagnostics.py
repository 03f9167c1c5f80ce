"""The dashboard's statistics against direct computations on tensors whose answers we know."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from makemore import diagnostics as D
from makemore import layers as L
from makemore.mlp import DeepConfig, deep_mlp
from makemore.training import Constant, TrainConfig, split_loss, train


def test_saturation_counts_entries_beyond_threshold():
    t = torch.tensor([-1.0, -0.98, -0.5, 0.0, 0.96, 0.975, 0.999, 0.2])
    assert D.saturation(t) == 4 / 8  # |t| > 0.97: -1.0, -0.98, 0.975, 0.999; not 0.96
    assert D.saturation(t, 0.99) == 2 / 8


def test_tensor_stats_and_histogram_match_numpy():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(5000, generator=g) * 2 + 1
    s = D.tensor_stats("t", t, bins=100)
    assert math.isclose(s.mean, float(np.mean(t.numpy())), rel_tol=1e-4, abs_tol=1e-6)
    assert math.isclose(s.std, float(np.std(t.numpy(), ddof=1)), rel_tol=1e-4)
    density, edges = np.histogram(t.numpy(), bins=100, density=True)
    np.testing.assert_allclose(s.density.numpy(), density, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(s.centers.numpy(), (edges[:-1] + edges[1:]) / 2, rtol=1e-5,
                               atol=1e-5)
    width = (s.centers[1] - s.centers[0]).item()
    assert math.isclose(s.density.sum().item() * width, 1.0, rel_tol=1e-4)
    assert D.tensor_stats("c", torch.ones(10)).std == 0  # a constant tensor does not crash


def test_ratios_on_known_tensors():
    p = torch.tensor([1.0, -1.0, 3.0, -3.0], requires_grad=True)
    p.grad = torch.tensor([0.1, -0.1, 0.3, -0.3])
    assert math.isclose(D.grad_data_ratio(p), 0.1, rel_tol=1e-6)
    assert math.isclose(D.update_data_ratio(p, lr=0.01), math.log10(0.001), rel_tol=1e-6)


def _check_recorder(model, watch_types, names_of):
    """Train a few steps with a Recorder and compare everything with direct computation."""
    g = torch.Generator().manual_seed(1)
    X = torch.randint(0, 27, (300, 3), generator=g)
    Y = torch.randint(0, 27, (300,), generator=g)
    rec = D.Recorder(model)
    assert [type(m) for _, m in rec.watch] == [watch_types] * len(rec.watch) and rec.watch
    params = [p for _, p in rec.params]
    before = [p.detach().clone() for p in params]
    changes = []

    def callback(step, lr, loss):
        rec.on_step(step, lr)
        changes.append([((p.detach() - b).std() / p.detach().std()).log10().item()
                        for p, b in zip(params, before, strict=True)])
        for b, p in zip(before, params, strict=True):
            b.copy_(p.detach())

    cfg = TrainConfig(steps=5, batch_size=16, schedule=Constant(0.1))
    train(model, X, Y, cfg, callback=callback)
    split_loss(model, X, Y)  # an evaluation pass must not overwrite the training-step record
    rep = rec.report()
    last_grads = {n: p.grad.clone() for n, p in rec.params}
    # update:data = the actual change of each parameter, relative to its size, at every step
    np.testing.assert_allclose(rep.updates.numpy(), np.array(changes), atol=1e-4)
    assert rep.updates.shape == (cfg.steps, len(params))

    # activations and their gradients: redo the last step by hand with retain_grad
    ix = torch.randint(0, 300, (cfg.steps, cfg.batch_size),
                       generator=torch.Generator().manual_seed(cfg.seed))[-1]
    for p in params:  # undo the last update to get the weights of the last forward pass
        p.data.add_(p.grad, alpha=cfg.lr_at(cfg.steps - 1))
        p.grad = None
    model.train()
    outs = {}
    handles = [m.register_forward_hook(lambda m, i, o, n=n: outs.__setitem__(n, o))
               for n, m in rec.watch]
    rec.remove()
    loss = F.cross_entropy(model(X[ix]), Y[ix])
    for o in outs.values():
        o.retain_grad()
    loss.backward()
    for h in handles:
        h() if callable(h) else h.remove()
    for s in rep.activations:
        t = outs[s.name]
        assert math.isclose(s.mean, t.mean().item(), rel_tol=1e-4, abs_tol=1e-6)
        assert math.isclose(s.std, t.std().item(), rel_tol=1e-4)
        assert s.saturated == (t.abs() > 0.97).float().mean().item()
    for s in rep.gradients:
        assert math.isclose(s.std, outs[s.name].grad.std().item(), rel_tol=1e-4)
    # weights: every 2-D parameter, grad:data ratio as defined
    two_d = [(n, p) for n, p in rec.params if p.ndim == 2]
    assert [s.name for s in rep.weights] == [n for n, _ in two_d] == names_of(two_d)
    for p in params:  # back to the weights after the last update, which the ratio divides by
        p.data.add_(last_grads[next(n for n, q in rec.params if q is p)],
                    alpha=-cfg.lr_at(cfg.steps - 1))
    for s, (n, p) in zip(rep.weights, two_d, strict=True):
        assert math.isclose(s.ratio, (last_grads[n].std() / p.data.std()).item(), rel_tol=1e-3)
        torch.testing.assert_close(p.grad, last_grads[n], rtol=1e-4, atol=1e-6)  # same step
    return rep


def test_recorder_on_from_scratch_layers():
    model = deep_mlp(DeepConfig(27, n_hidden=20, n_layers=3))
    rep = _check_recorder(model, L.Tanh, lambda named: [n for n, _ in named])
    assert len(rep.activations) == len(rep.gradients) == 3
    assert [s.name for s in rep.activations] == ["layer 4 (Tanh)", "layer 7 (Tanh)",
                                                 "layer 10 (Tanh)"]


def test_recorder_on_torch_nn_module():
    model = nn.Sequential(nn.Embedding(27, 8), nn.Flatten(), nn.Linear(24, 20), nn.Tanh(),
                          nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 27))
    rep = _check_recorder(model, nn.Tanh, lambda named: [n for n, _ in named])
    assert len(rep.activations) == 2
    assert [s.name for s in rep.weights] == ["0.weight", "2.weight", "4.weight", "6.weight"]


def test_recorder_at_step_zero_sees_the_initial_network():
    """`at_step=0` keeps the first step's view, the same as a run of a single step."""
    g = torch.Generator().manual_seed(2)
    X = torch.randint(0, 27, (200, 3), generator=g)
    Y = torch.randint(0, 27, (200,), generator=g)
    cfg = DeepConfig(27, n_hidden=12, n_layers=2)
    reports = []
    for steps, at_step in ((1, None), (6, 0)):
        model = deep_mlp(cfg)
        rec = D.Recorder(model, at_step=at_step)
        train(model, X, Y, TrainConfig(steps=steps, batch_size=16), callback=rec.on_step)
        reports.append(rec.report())
    one, six = reports
    assert six.updates.shape[0] == 6
    torch.testing.assert_close(six.updates[:1], one.updates)
    for view in ("activations", "gradients", "weights"):
        for a, b in zip(getattr(one, view), getattr(six, view), strict=True):
            assert (a.name, a.mean, a.std, a.ratio) == (b.name, b.mean, b.std, b.ratio)
