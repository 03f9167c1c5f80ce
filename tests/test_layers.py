"""The from-scratch layers against their oracle torch.nn: forward, backward, buffers, modes."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from makemore import layers as L
from makemore.lecture import PART3_DEEP_PARAMS, TANH_GAIN
from makemore.mlp import DeepConfig, deep_mlp
from makemore.training import StepDecay, TrainConfig, split_loss, train


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> None:
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def test_linear_matches_torch():
    g = torch.Generator().manual_seed(0)
    ours = L.Linear(7, 5, bias=True, generator=g)
    with torch.no_grad():
        ours.bias.copy_(torch.randn(5, generator=g))
    ref = nn.Linear(7, 5)
    with torch.no_grad():
        ref.weight.copy_(ours.weight.T)  # torch.nn stores W^T
        ref.bias.copy_(ours.bias)
    x = torch.randn(11, 7, generator=g)
    y, yr = ours(x), ref(x)
    _close(y, yr)
    (y ** 2).sum().backward()
    (yr ** 2).sum().backward()
    _close(ours.weight.grad, ref.weight.grad.T)
    _close(ours.bias.grad, ref.bias.grad)
    assert L.Linear(7, 5, bias=False).parameters()[0].shape == (7, 5)
    assert len(L.Linear(7, 5, bias=False).parameters()) == 1


def test_linear_init_is_kaiming_scaled():
    w = L.Linear(400, 300, gain=TANH_GAIN).weight
    expected = TANH_GAIN / math.sqrt(400)
    assert abs(w.std().item() / expected - 1) < 0.02
    assert math.isclose(TANH_GAIN, nn.init.calculate_gain("tanh"))


@pytest.mark.parametrize("shape", [(32, 6), (8, 5, 6)])
def test_batchnorm_matches_torch_train_and_eval(shape):
    g = torch.Generator().manual_seed(1)
    C = shape[-1]
    ours = L.BatchNorm1d(C, eps=1e-5, momentum=0.1)
    ref = nn.BatchNorm1d(C, eps=1e-5, momentum=0.1)
    with torch.no_grad():  # non-trivial gain and bias on both
        gamma, beta = torch.randn(C, generator=g), torch.randn(C, generator=g)
        ours.gamma.copy_(gamma), ours.beta.copy_(beta)
        ref.weight.copy_(gamma), ref.bias.copy_(beta)

    def ref_call(x):  # torch.nn wants channels in the middle for 3-D input
        return ref(x) if x.ndim == 2 else ref(x.transpose(1, 2)).transpose(1, 2)

    for _ in range(3):  # several training steps: running statistics accumulate
        x = (torch.randn(shape, generator=g) * 3 + 2).requires_grad_(True)
        xr = x.detach().clone().requires_grad_(True)
        y, yr = ours(x), ref_call(xr)
        _close(y, yr)
        w = torch.randn(shape, generator=g)
        (y * w).sum().backward()
        (yr * w).sum().backward()
        _close(x.grad, xr.grad, 1e-4)
        _close(ours.gamma.grad, ref.weight.grad, 1e-4)
        _close(ours.beta.grad, ref.bias.grad, 1e-4)
        for p in (ours.gamma, ours.beta, ref.weight, ref.bias):
            p.grad = None
    _close(ours.running_mean, ref.running_mean)
    _close(ours.running_var, ref.running_var)  # unbiased variance, as torch keeps it

    ours.eval(), ref.eval()
    x = torch.randn(shape, generator=g)
    before = ours.running_mean.clone()
    _close(ours(x), ref_call(x))
    _close(ours.running_mean, before)  # eval mode does not touch the buffers
    one = x[:1]  # eval mode handles a single example; training mode would need a batch
    _close(ours(one), ref_call(one))


def test_batchnorm_output_is_normalised_per_feature():
    x = torch.randn(64, 4) * torch.tensor([0.1, 1.0, 10.0, 100.0]) + 5
    y = L.BatchNorm1d(4)(x)
    _close(y.mean(0), torch.zeros(4), 1e-4)
    _close(y.var(0, unbiased=False), torch.ones(4), 1e-3)


def test_tanh_embedding_flatten_match_torch():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 9, generator=g, requires_grad=True)
    xr = x.detach().clone().requires_grad_(True)
    y, yr = L.Tanh()(x), nn.Tanh()(xr)
    _close(y, yr)
    y.sum().backward(), yr.sum().backward()
    _close(x.grad, xr.grad)
    _close(x.grad, 1 - y.detach() ** 2)  # tanh' = 1 - tanh^2

    emb = L.Embedding(27, 10, generator=g)
    ref = nn.Embedding(27, 10)
    with torch.no_grad():
        ref.weight.copy_(emb.weight)
    ix = torch.randint(0, 27, (5, 3), generator=g)
    _close(emb(ix), ref(ix))
    emb(ix).pow(2).sum().backward(), ref(ix).pow(2).sum().backward()
    _close(emb.weight.grad, ref.weight.grad)
    _close(L.Flatten()(emb(ix)), nn.Flatten()(ref(ix)))
    assert L.Flatten()(emb(ix)).shape == (5, 30)


def _torch_twin(model: L.Sequential) -> nn.Sequential:
    """The same network in torch.nn, holding copies of `model`'s parameters."""
    mods = []
    for layer in model:
        if isinstance(layer, L.Embedding):
            m = nn.Embedding(*layer.weight.shape)
            m.weight.data.copy_(layer.weight)
        elif isinstance(layer, L.Flatten):
            m = nn.Flatten()
        elif isinstance(layer, L.Linear):
            m = nn.Linear(*layer.weight.shape, bias=layer.bias is not None)
            m.weight.data.copy_(layer.weight.T)
            if layer.bias is not None:
                m.bias.data.copy_(layer.bias)
        elif isinstance(layer, L.BatchNorm1d):
            m = nn.BatchNorm1d(layer.gamma.numel(), eps=layer.eps, momentum=layer.momentum)
            m.weight.data.copy_(layer.gamma)
            m.bias.data.copy_(layer.beta)
        elif isinstance(layer, L.Tanh):
            m = nn.Tanh()
        else:
            raise TypeError(layer)
        mods.append(m)
    return nn.Sequential(*mods)


def test_deep_mlp_size_and_structure():
    cfg = DeepConfig(27)
    model = deep_mlp(cfg)
    V, E, H, T = cfg.vocab_size, cfg.n_embd, cfg.n_hidden, cfg.block_size
    expected = (V * E + E * T * H + 2 * H + (cfg.n_layers - 1) * (H * H + 2 * H) + H * V + 2 * V)
    assert model.n_params() == expected == sum(p.numel() for p in _torch_twin(model).parameters())
    assert model.n_params() == PART3_DEEP_PARAMS.value  # the lecture's count
    assert isinstance(model[-1], L.BatchNorm1d)
    _close(model[-1].gamma, torch.full((V,), cfg.last_scale))
    model.eval()
    assert not any(layer.training for layer in model)
    model.train()
    assert all(layer.training for layer in model)
    no_bn = deep_mlp(DeepConfig(27, batchnorm=False))
    assert not any(isinstance(layer, L.BatchNorm1d) for layer in no_bn)
    assert all(layer.bias is not None for layer in no_bn if isinstance(layer, L.Linear))


def test_sequential_trains_like_torch_nn():
    """Train the from-scratch net and its torch.nn twin with the shared loop: same losses, same
    weights, same running statistics, same evaluation."""
    g = torch.Generator().manual_seed(3)
    X = torch.randint(0, 27, (500, 3), generator=g)
    Y = torch.randint(0, 27, (500,), generator=g)
    ours = deep_mlp(DeepConfig(27, n_hidden=16, n_layers=2))
    ref = _torch_twin(ours)
    cfg = TrainConfig(steps=30, batch_size=32, schedule=StepDecay(0.1, 20, 0.01))
    _close(train(ours, X, Y, cfg), train(ref, X, Y, cfg), 1e-4)
    _close(ours[2].weight, ref[2].weight.T, 1e-4)
    _close(ours[3].running_var, ref[3].running_var, 1e-4)
    assert math.isclose(split_loss(ours, X, Y), split_loss(ref, X, Y), rel_tol=1e-4)
    assert not ours.training and not ours[3].training  # train() leaves the model in eval mode
    _close(ours(X[:1]), ref(X[:1]), 1e-4)  # eval mode: one example at a time works


def test_named_parameters_follow_torch_naming():
    model = deep_mlp(DeepConfig(27, n_hidden=8, n_layers=1))
    names = [n for n, _ in model.named_parameters()]
    ref = [n for n, _ in _torch_twin(model).named_parameters()]
    ours_as_torch = [n.replace("gamma", "weight").replace("beta", "bias") for n in names]
    assert ours_as_torch == ref


def test_kaiming_keeps_unit_std_through_a_deep_linear_stack():
    """randn / sqrt(fan_in) preserves the scale of a linear layer's input, layer after layer;
    without the scaling it grows by sqrt(fan_in) per layer."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2000, 200, generator=g)
    h = x
    for _ in range(30):
        h = L.Linear(200, 200, bias=False, generator=g)(h)
        assert 0.8 < h.std().item() < 1.25
    assert abs(h.std().item() - 1) < 0.2
    unscaled = x @ torch.randn(200, 200, generator=g)
    assert unscaled.std().item() > 10  # ~ sqrt(200) = 14


def test_forward_hook_sees_each_output_and_can_be_removed():
    seen = []
    layer = L.Tanh()
    remove = layer.register_forward_hook(lambda m, x, y: seen.append((m, y)))
    y = layer(torch.zeros(3))
    assert seen[0][0] is layer and seen[0][1] is y is layer.out
    remove()
    layer(torch.zeros(3))
    assert len(seen) == 1


def test_layers_without_a_generator_draw_different_weights():
    """Without a generator a layer draws from torch's global one, as torch.nn does: two layers
    of the same shape must not start identical (they did when each reseeded its own)."""
    torch.manual_seed(0)
    a, b = L.Linear(100, 100), L.Linear(100, 100)
    assert not torch.equal(a.weight, b.weight)
    e1, e2 = L.Embedding(27, 10), L.Embedding(27, 10)
    assert not torch.equal(e1.weight, e2.weight)


def test_parameter_names_are_derived_from_the_layers():
    from makemore.mlp import MLP, MLPConfig

    model = MLP(MLPConfig(27, batchnorm=True))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "2.weight", "3.gain", "3.bias", "5.weight", "5.bias"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert model.W1 is model.parameters()[1] and model.b1 is None
    assert [n for n, _ in model.named_buffers()] == ["3.running_mean", "3.running_std"]
