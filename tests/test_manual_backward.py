"""The hand-written backward of every from-scratch layer, and of whole stacks, against autograd
in float64: layer by layer (train and eval mode, 2-D and 3-D input), then the training step of
the MLPs, the deep network and a WaveNet-shaped stack (loss, every gradient, the running
statistics). A wrong sign or a missing term shows up as a difference of order one; rounding in
float64 stays below 1e-9."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from makemore import layers as L
from makemore.mlp import MLP, DeepConfig, MLPConfig, deep_mlp
from makemore.training import TrainConfig, WarmupLinear, train, training_step

DT = torch.float64


def _f64(layer: L.Module) -> L.Module:
    return layer.to(dtype=DT)


def _layer_cases() -> dict[str, tuple[L.Module, tuple[int, ...]]]:
    g = torch.Generator().manual_seed(0)
    return {
        "linear": (L.Linear(6, 5, generator=g, bias_scale=0.5), (8, 6)),
        "linear-3d": (L.Linear(6, 5, generator=g, bias_scale=0.5), (4, 3, 6)),
        "linear-nobias": (L.Linear(6, 5, bias=False, generator=g), (8, 6)),
        "batchnorm": (L.BatchNorm1d(5), (8, 5)),
        "batchnorm-3d": (L.BatchNorm1d(5), (4, 3, 5)),
        "batchnorm-unbiased": (L.BatchNorm1d(5, unbiased=True, momentum=0.001), (8, 5)),
        "std-batchnorm": (L.StdBatchNorm1d(5), (8, 5)),
        "std-batchnorm-eps": (L.StdBatchNorm1d(5, eps=1e-3), (8, 5)),
        "tanh": (L.Tanh(), (8, 5)),
        "identity": (L.Identity(), (8, 5)),
        "flatten": (L.Flatten(), (8, 3, 4)),
        "flatten-consecutive": (L.FlattenConsecutive(2), (4, 6, 3)),
        "flatten-consecutive-last": (L.FlattenConsecutive(2), (4, 2, 3)),
    }


def _perturb(layer: L.Module, seed: int) -> None:
    """Non-trivial parameters and running statistics, so no term can hide behind a 1 or a 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
        for name, b in layer.named_buffers():
            b.add_(0.2 * torch.randn(b.shape, generator=g, dtype=b.dtype))
            if "var" in name or "std" in name:
                b.abs_().add_(0.5)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", list(_layer_cases()))
def test_layer_backward_matches_autograd(case, training):
    layer, shape = _layer_cases()[case]
    layer = _f64(layer)
    _perturb(layer, 1)
    layer.train(training)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(shape, generator=g, dtype=DT)
    ref = copy.deepcopy(layer)
    xr = x.clone().requires_grad_(True)
    out = ref.forward(xr)
    dout = torch.randn(out.shape, generator=g, dtype=DT)
    (out * dout).sum().backward()

    for p in layer.parameters():
        p.grad = torch.zeros_like(p)
    layer.prepare(tuple(shape), x)
    with torch.no_grad():  # the manual path records no graph
        got = layer.fwd(x.clone())
        torch.testing.assert_close(got, out.detach(), rtol=1e-10, atol=1e-12)
        dx = layer.bwd(dout.clone(), need_dx=True)
    torch.testing.assert_close(dx, xr.grad, rtol=1e-9, atol=1e-12)
    for (name, p), (_, q) in zip(layer.named_parameters(), ref.named_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-12, msg=name)
    for (name, a), (_, b) in zip(layer.named_buffers(), ref.named_buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12, msg=name)  # running stats


def test_embedding_backward_sums_the_rows_of_repeated_lookups():
    emb = _f64(L.Embedding(7, 4, generator=torch.Generator().manual_seed(0)))
    ix = torch.tensor([[1, 1, 3], [3, 0, 1]])  # repeated characters: their gradients add up
    ref = copy.deepcopy(emb)
    out = ref.forward(ix)
    dout = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=DT)
    (out * dout).sum().backward()
    emb.weight.grad = torch.zeros_like(emb.weight)
    emb.prepare(tuple(ix.shape), emb.weight)
    with torch.no_grad():
        torch.testing.assert_close(emb.fwd(ix), out.detach())
        assert emb.bwd(dout) is None
    torch.testing.assert_close(emb.weight.grad, ref.weight.grad, rtol=0, atol=1e-12)


def test_manual_tanh_is_torch_tanh_bit_for_bit():
    """The manual path computes tanh with torch.tanh, as autograd's forward does (with the
    pinned torch's CPU kernels it is also faster than 2 sigmoid(2x) - 1, used before)."""
    x = torch.randn((32, 200), generator=torch.Generator().manual_seed(0))
    act = L.Tanh()
    act.prepare((32, 200), x)
    with torch.no_grad():
        assert torch.equal(act.fwd(x), torch.tanh(x))


# -----------------------------------------------------------------------------
# whole stacks: one training step, manual against autograd


def _manual_step(model: L.Sequential, X: torch.Tensor, Y: torch.Tensor):
    step = model.manual_step(TrainConfig(batch_size=X.shape[0]))
    assert step is not None
    ((x, t, tf),) = list(step.batches(X[None], Y[None]))
    with torch.no_grad():
        loss = step.step(x, t, tf)
    return loss.item(), [p.grad.clone() for p in model.parameters()]


def _stacks() -> dict[str, L.Sequential]:
    kaiming = MLPConfig(27).kaiming_tanh
    wavenet = L.Sequential([
        L.Embedding(27, 6, generator=torch.Generator().manual_seed(3)),
        L.FlattenConsecutive(2), L.Linear(12, 16, bias=False), L.BatchNorm1d(16), L.Tanh(),
        L.FlattenConsecutive(2), L.Linear(32, 16, bias=False), L.BatchNorm1d(16), L.Tanh(),
        L.FlattenConsecutive(2), L.Linear(32, 16, bias=False), L.BatchNorm1d(16), L.Tanh(),
        L.Linear(16, 27, bias_scale=0.1),
    ])
    return {
        "mlp-part2": MLP(MLPConfig(27)),
        "mlp-part3": MLP(MLPConfig(27, w1_scale=0.2, b1_scale=0.01, w2_scale=0.01,
                                   b2_scale=0.0)),
        "mlp-batchnorm": MLP(MLPConfig(27, batchnorm=True, w1_scale=kaiming, w2_scale=0.01,
                                       b2_scale=0.0)),
        "mlp-batchnorm-eps": MLP(MLPConfig(27, batchnorm=True, bn_eps=1e-3, n_hidden=50)),
        "deep": deep_mlp(DeepConfig(27, n_hidden=32)),
        "deep-no-batchnorm": deep_mlp(DeepConfig(27, n_hidden=32, batchnorm=False)),
        "deep-identity": deep_mlp(DeepConfig(27, n_hidden=32, activation="identity")),
        "wavenet": wavenet,
    }


@pytest.mark.parametrize("name", list(_stacks()))
def test_stack_step_matches_autograd_float64(name):
    model = _stacks()[name].to(dtype=DT)
    g = torch.Generator().manual_seed(1)
    T = 8 if name == "wavenet" else 3
    X, Y = torch.randint(0, 27, (32, T), generator=g), torch.randint(0, 27, (32,), generator=g)
    ref = copy.deepcopy(model)
    loss = F.cross_entropy(ref(X), Y)  # training mode: batch statistics
    loss.backward()
    our_loss, grads = _manual_step(model, X, Y)
    assert abs(our_loss - loss.item()) < 1e-10
    for g_ours, (pname, p) in zip(grads, ref.named_parameters(), strict=True):
        assert g_ours.shape == p.shape
        torch.testing.assert_close(g_ours, p.grad, rtol=1e-8, atol=1e-11, msg=pname)
    for (bname, a), (_, b) in zip(model.named_buffers(), ref.named_buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=bname)


def test_manual_step_under_adamw_is_autograd_under_adamw_float64():
    """The optimiser reads only each parameter's .grad, so AdamW on the hand-written step
    follows the same trajectory as AdamW on autograd's (weight decay included)."""
    model = _stacks()["mlp-batchnorm"].to(dtype=DT)
    ref = copy.deepcopy(model)
    g = torch.Generator().manual_seed(2)
    X, Y = torch.randint(0, 27, (500, 3), generator=g), torch.randint(0, 27, (500,), generator=g)
    cfg = TrainConfig(steps=200, batch_size=32, optimizer="adamw", weight_decay=0.1,
                      schedule=WarmupLinear(3e-3, 20, 200), seed=4)
    assert type(training_step(model, cfg)).__name__ == "ManualStep"
    ours = train(model, X, Y, cfg)
    theirs = train(ref, X, Y, replace(cfg, backend="autograd"))
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)  # float32 loss records
    for (name, a), (_, b) in zip(model.named_parameters(), ref.named_parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11, msg=name)


def test_no_manual_step_where_it_does_not_apply():
    model = MLP(MLPConfig(27))
    assert model.manual_step(TrainConfig()) is not None
    assert model.manual_step(TrainConfig(optimizer="adamw")) is not None  # reads only .grad
    assert model.manual_step(TrainConfig(l2=0.01)) is None
    assert model.manual_step(TrainConfig(batch_size=None)) is None
    remove = model.layers[3].register_forward_hook(lambda *a: None)  # someone is watching
    assert model.manual_step(TrainConfig()) is None
    remove()
    assert model.manual_step(TrainConfig()) is not None

    class Custom(L.Module):  # a layer with no hand-written backward
        def forward(self, x):
            return x

    assert L.Sequential([*model.layers, Custom()]).manual_step(TrainConfig()) is None
