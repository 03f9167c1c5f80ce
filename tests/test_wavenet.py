"""makemore.wavenet and the BatchNorm bug of Part 5, against their oracles: torch.nn for the
containers and the whole network, the lecture's own formulas for the bug, autograd in float64
for the hand-written backward, and the network itself, window by window, for the convolution
view."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from makemore import layers as L
from makemore import lecture
from makemore.data import Vocab
from makemore.sampling import sample
from makemore.training import Constant, Drops, TrainConfig, train
from makemore.wavenet import WaveNetConfig, causal_conv, wavenet
from makemore.zoo import WAVENET_BOOK_RECIPE

DT = torch.float64
V = 27


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> None:
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


# -----------------------------------------------------------------------------
# the builder


def test_parameter_counts_are_the_lectures():
    assert wavenet(WaveNetConfig(V)).n_params() == lecture.PART5_PARAMS.value
    # the flat network at block 3 is Part 3's BatchNorm MLP, in the torch-like layers
    flat3 = WaveNetConfig(V, block_size=3, n_embd=10, n_hidden=200, n_levels=1)
    assert wavenet(flat3).n_params() == lecture.PART3_BN_PARAMS.value


def test_structure_follows_the_config():
    model = wavenet(WaveNetConfig(V, block_size=16, n_levels=4, n_embd=5, n_hidden=7))
    kinds = [type(layer) for layer in model]
    assert kinds == [L.Embedding] + [L.FlattenConsecutive, L.Linear, L.BatchNorm1d,
                                     L.Tanh] * 4 + [L.Linear]
    assert model.block_size == 16
    assert all(layer.n == 2 for layer in model if isinstance(layer, L.FlattenConsecutive))
    flat = wavenet(WaveNetConfig(V, n_levels=1))
    assert flat[1].n == 8 and flat[2].weight.shape == (8 * 24, 128)
    x = torch.randint(0, V, (5, 16))
    assert model(x).shape == (5, V)


@pytest.mark.parametrize("fields", [dict(block_size=8, n_levels=2), dict(n_hidden=0),
                                    dict(block_size=6, n_levels=2)])
def test_impossible_configs_are_refused(fields):
    with pytest.raises(ValueError):
        WaveNetConfig(V, **fields)


def test_weights_come_from_the_seed_and_the_output_starts_quiet():
    a, b = wavenet(WaveNetConfig(V)), wavenet(WaveNetConfig(V))
    c = wavenet(WaveNetConfig(V, seed=1))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[2].weight, c[2].weight)
    # randn / sqrt(fan_in) everywhere, and the output layer a tenth of that
    hidden, out = a[6].weight, a[-1].weight
    assert abs(hidden.std().item() * 256 ** 0.5 - 1) < 0.05
    assert abs(out.std().item() * 128 ** 0.5 - 0.1) < 0.01
    assert torch.equal(a[-1].bias, torch.zeros(V))


def test_the_books_recipe_is_the_lectures_with_earlier_drops():
    drops = Drops(0.1, ((5, 0.01), (8, 0.001)))
    assert [drops.lr_at(s) for s in (0, 4, 5, 7, 8, 100)] == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    cfg = TrainConfig(**WAVENET_BOOK_RECIPE)
    lec = TrainConfig.from_lecture(lecture.PART5_RECIPE)
    assert cfg.batch_size == lec.batch_size and cfg.lr_at(0) == lec.lr_at(0)
    first_drop = cfg.schedule.drops[0][0]
    assert cfg.lr_at(first_drop) == lec.schedule.final < cfg.lr_at(first_drop - 1)
    assert first_drop < lec.schedule.decay_step and cfg.steps < lec.steps


# -----------------------------------------------------------------------------
# the containers against torch.nn


class _TorchFlattenConsecutive(nn.Module):
    """n neighbours side by side, written as explicit concatenation."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        groups = [torch.cat([x[:, j * self.n + i] for i in range(self.n)], dim=-1)
                  for j in range(T // self.n)]  # (B, n * C) each
        out = torch.stack(groups, dim=1)  # (B, T / n, n * C)
        return out[:, 0] if out.shape[1] == 1 else out


class _TorchBatchNorm(nn.BatchNorm1d):
    """torch.nn.BatchNorm1d wants channels in the middle for 3-D input."""

    def forward(self, x):
        return super().forward(x) if x.ndim == 2 else super().forward(
            x.transpose(1, 2)).transpose(1, 2)


def _torch_twin(model: L.Sequential) -> nn.Sequential:
    mods = []
    for layer in model:
        if isinstance(layer, L.Embedding):
            m = nn.Embedding(*layer.weight.shape)
            m.weight.data.copy_(layer.weight)
        elif isinstance(layer, L.FlattenConsecutive):
            m = _TorchFlattenConsecutive(layer.n)
        elif isinstance(layer, L.Linear):
            m = nn.Linear(*layer.weight.shape, bias=layer.bias is not None)
            m.weight.data.copy_(layer.weight.T)
            if layer.bias is not None:
                m.bias.data.copy_(layer.bias)
        elif isinstance(layer, L.BatchNorm1d):
            m = _TorchBatchNorm(layer.gamma.numel(), eps=layer.eps, momentum=layer.momentum)
            m.weight.data.copy_(layer.gamma)
            m.bias.data.copy_(layer.beta)
        elif isinstance(layer, L.Tanh):
            m = nn.Tanh()
        else:
            raise TypeError(layer)
        mods.append(m)
    return nn.Sequential(*mods)


def test_flatten_consecutive_is_concatenation_of_neighbours():
    x = torch.randn(3, 8, 5, requires_grad=True)
    xr = x.detach().clone().requires_grad_(True)
    for n in (2, 4, 8):
        y, yr = L.FlattenConsecutive(n)(x), _TorchFlattenConsecutive(n)(xr)
        assert torch.equal(y, yr)
    w = torch.randn(3, 5 * 8)
    (L.FlattenConsecutive(8)(x) * w).sum().backward()
    (_TorchFlattenConsecutive(8)(xr) * w).sum().backward()
    assert torch.equal(x.grad, xr.grad)


def test_the_network_trains_like_its_torch_nn_twin():
    """Forward, every gradient and the running statistics of a few training steps, then eval,
    against torch.nn layers holding the same weights. torch.nn normalises with the biased
    variance: our BatchNorm is switched to it for the comparison."""
    model = wavenet(WaveNetConfig(V, n_embd=6, n_hidden=10))
    for layer in model:
        if isinstance(layer, L.BatchNorm1d):
            layer.unbiased = False
    twin = _torch_twin(model)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        X = torch.randint(0, V, (16, 8), generator=g)
        Y = torch.randint(0, V, (16,), generator=g)
        for p in [*model.parameters(), *twin.parameters()]:
            p.grad = None
        loss, loss_ref = F.cross_entropy(model(X), Y), F.cross_entropy(twin(X), Y)
        _close(loss, loss_ref)
        loss.backward()
        loss_ref.backward()
        for layer, m in zip(model, twin, strict=True):
            if isinstance(layer, L.Linear):
                _close(layer.weight.grad, m.weight.grad.T, 1e-4)
            elif isinstance(layer, (L.Embedding, L.BatchNorm1d)):
                ours = [layer.weight] if isinstance(layer, L.Embedding) else [layer.gamma,
                                                                              layer.beta]
                refs = [m.weight] if isinstance(layer, L.Embedding) else [m.weight, m.bias]
                for p, q in zip(ours, refs, strict=True):
                    _close(p.grad, q.grad, 1e-4)
            if isinstance(layer, L.BatchNorm1d):
                _close(layer.running_mean, m.running_mean)
                _close(layer.running_var, m.running_var)
    model.eval(), twin.eval()
    X = torch.randint(0, V, (4, 8), generator=g)
    _close(model(X), twin(X))


def test_the_lectures_batchnorm_normalises_with_the_unbiased_variance():
    """`x.var(dim)` in the lecture's layer is Bessel-corrected: so is the builder's."""
    bn = wavenet(WaveNetConfig(V))[3]
    x = torch.randn(32, 4, 128) * 2 + 1
    xhat = (x - x.mean((0, 1), keepdim=True)) / torch.sqrt(x.var((0, 1), keepdim=True) + 1e-5)
    _close(bn(x), xhat)


# -----------------------------------------------------------------------------
# the bug: statistics over dim 0 only


def _lecture_buggy_batchnorm(x, running_mean, running_var, momentum=0.1, eps=1e-5):
    """The lecture's layer before the fix, for 3-D input: `x.mean(0)`, `x.var(0)`."""
    xmean, xvar = x.mean(0, keepdim=True), x.var(0, keepdim=True)  # (1, T, C)
    out = (x - xmean) / torch.sqrt(xvar + eps)  # gamma 1, beta 0
    running_mean = (1 - momentum) * running_mean + momentum * xmean
    running_var = (1 - momentum) * running_var + momentum * xvar
    return out, running_mean, running_var


def test_the_bug_keeps_statistics_per_position_as_the_lecture_did():
    T, C = 4, 6
    ours = L.BatchNorm1d(C, unbiased=True, dims="batch", positions=T)
    assert ours.running_mean.shape == (T, C) and ours.running_var.shape == (T, C)
    rm, rv = torch.zeros(C), torch.ones(C)  # the lecture's buffers start (C,), become (1, T, C)
    g = torch.Generator().manual_seed(0)
    shift = torch.randn(T, C, generator=g) * 3  # every position its own mean
    for _ in range(3):
        x = torch.randn(32, T, C, generator=g) + shift
        want, rm, rv = _lecture_buggy_batchnorm(x, rm, rv)
        _close(ours(x), want)
    assert rm.shape == (1, T, C)
    _close(ours.running_mean, rm[0])
    _close(ours.running_var, rv[0])
    # each (position, channel) is normalised on its own: the fixed layer would not do that
    y = ours(torch.randn(32, T, C, generator=g) + shift)
    _close(y.mean(0), torch.zeros(T, C), 1e-5)
    fixed = L.BatchNorm1d(C, unbiased=True)(torch.randn(32, T, C, generator=g) + shift)
    assert fixed.mean(0).abs().max() > 0.5
    ours.eval()
    x = torch.randn(5, T, C, generator=g)
    _close(ours(x), (x - ours.running_mean) / torch.sqrt(ours.running_var + 1e-5))


def test_the_bug_needs_its_positions():
    with pytest.raises(ValueError, match="positions"):
        L.BatchNorm1d(6, dims="batch")
    with pytest.raises(ValueError, match="dims"):
        L.BatchNorm1d(6, dims="time")
    bn = L.BatchNorm1d(6, dims="batch", positions=4)
    with pytest.raises(ValueError, match=r"\(B, 4, 6\)"):
        bn(torch.randn(8, 2, 6))
    assert "positions=4" in repr(bn)


def test_the_builder_puts_the_bug_where_the_input_is_3d():
    model = wavenet(WaveNetConfig(V, batchnorm_bug=True))
    bns = [layer for layer in model if isinstance(layer, L.BatchNorm1d)]
    assert [tuple(b.running_mean.shape) for b in bns] == [(4, 128), (2, 128), (128,)]
    assert [b.dims for b in bns] == ["batch", "batch", "batch_time"]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("unbiased", [False, True], ids=["biased", "unbiased"])
def test_the_bugs_backward_matches_autograd(training, unbiased):
    T, C = 3, 5
    layer = L.BatchNorm1d(C, unbiased=unbiased, dims="batch", positions=T).to(dtype=DT)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # nothing hides behind a 1 or a 0
        layer.gamma.add_(0.3 * torch.randn(C, generator=g, dtype=DT))
        layer.beta.add_(0.3 * torch.randn(C, generator=g, dtype=DT))
        layer.running_mean.add_(0.2 * torch.randn(T, C, generator=g, dtype=DT))
        layer.running_var.add_(0.2 * torch.randn(T, C, generator=g, dtype=DT)).abs_()
    layer.train(training)
    x = torch.randn(8, T, C, generator=g, dtype=DT) + torch.randn(T, C, generator=g, dtype=DT)
    ref = copy.deepcopy(layer)
    xr = x.clone().requires_grad_(True)
    out = ref.forward(xr)
    dout = torch.randn(out.shape, generator=g, dtype=DT)
    (out * dout).sum().backward()

    layer.gamma.grad, layer.beta.grad = torch.zeros_like(layer.gamma), torch.zeros_like(
        layer.beta)
    layer.prepare(tuple(x.shape), x)
    with torch.no_grad():
        torch.testing.assert_close(layer.fwd(x.clone()), out.detach(), rtol=1e-10, atol=1e-12)
        dx = layer.bwd(dout.clone())
    torch.testing.assert_close(dx, xr.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(layer.gamma.grad, ref.gamma.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(layer.beta.grad, ref.beta.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(layer.running_mean, ref.running_mean, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(layer.running_var, ref.running_var, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bug", [False, True], ids=["fixed", "bug"])
def test_a_training_step_on_the_manual_step_matches_autograd(bug):
    model = wavenet(WaveNetConfig(V, n_embd=6, n_hidden=12, batchnorm_bug=bug)).to(dtype=DT)
    ref = copy.deepcopy(model)
    g = torch.Generator().manual_seed(2)
    X, Y = torch.randint(0, V, (32, 8), generator=g), torch.randint(0, V, (32,), generator=g)
    step = model.manual_step(TrainConfig(batch_size=32))
    assert step is not None
    ((x, t, tf),) = list(step.batches(X[None], Y[None]))
    with torch.no_grad():
        loss = step.step(x, t, tf)
    loss_ref = F.cross_entropy(ref(X), Y)
    loss_ref.backward()
    assert abs(loss.item() - loss_ref.item()) < 1e-10
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-8, atol=1e-11)
    for a, b in zip(model.buffers(), ref.buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_training_lowers_the_loss_and_sampling_works(toy_words):
    model = wavenet(WaveNetConfig(V, n_embd=4, n_hidden=8))
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randint(0, V, (64, 8), generator=g), torch.randint(0, 5, (64,), generator=g)
    losses = train(model, X, Y, TrainConfig(steps=300, batch_size=16, schedule=Constant(0.1)))
    assert losses[-50:].mean() < losses[:50].mean() - 0.5
    vocab = Vocab.from_words(toy_words)
    words = sample(wavenet(WaveNetConfig(len(vocab))), vocab, 6, torch.Generator().manual_seed(1))
    assert len(words) == 6 and all(set(w) <= set(vocab.itos[1:]) for w in words)


# -----------------------------------------------------------------------------
# the convolution view


def _trained_eval_model(**fields) -> L.Sequential:
    model = wavenet(WaveNetConfig(V, n_embd=6, n_hidden=12, **fields))
    g = torch.Generator().manual_seed(3)
    X, Y = torch.randint(0, V, (256, model.block_size), generator=g), torch.randint(
        0, V, (256,), generator=g)
    train(model, X, Y, TrainConfig(steps=50, batch_size=32))  # running statistics move
    return model.eval()


@pytest.mark.parametrize("fields", [dict(), dict(n_levels=1), dict(block_size=16, n_levels=4),
                                    dict(block_size=9, n_levels=2)],
                         ids=["wavenet", "flat", "four-levels", "groups-of-3"])
def test_the_convolution_equals_the_network_at_every_window(fields):
    model = _trained_eval_model(**fields)
    T = model.block_size
    seq = torch.randint(0, V, (3, T + 11), generator=torch.Generator().manual_seed(4))
    conv = causal_conv(model, seq)  # (3, 12, V)
    assert conv.shape == (3, 12, V)
    with torch.no_grad():
        windows = torch.stack([model(seq[:, t:t + T]) for t in range(12)], dim=1)
    _close(conv, windows)


def test_the_convolution_is_a_dilated_conv1d():
    """The first two levels written with torch's conv1d (kernel 2, dilation 1 then 2)."""
    model = _trained_eval_model()
    seq = torch.randint(0, V, (2, 20), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        h = model[0](seq).transpose(1, 2)  # (B, C, L)
        for k, dilation in ((1, 1), (5, 2), (9, 4)):
            W = model[k + 1].weight  # (2 C, H): the two taps' rows stacked
            C = W.shape[0] // 2
            kernel = torch.stack([W[:C], W[C:]], dim=-1).permute(1, 0, 2)  # (H, C, 2)
            h = F.conv1d(h, kernel, dilation=dilation)
            h = model[k + 3](model[k + 2](h.transpose(1, 2))).transpose(1, 2)  # BN, tanh
        logits = model[-1](h.transpose(1, 2))
    _close(causal_conv(model, seq), logits)


def test_the_bug_makes_the_network_no_convolution():
    model = _trained_eval_model(batchnorm_bug=True)
    with pytest.raises(ValueError):
        causal_conv(model, torch.zeros(1, 12, dtype=torch.long))
    with pytest.raises(ValueError, match="shorter"):
        causal_conv(_trained_eval_model(), torch.zeros(1, 7, dtype=torch.long))
