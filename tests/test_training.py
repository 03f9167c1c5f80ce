"""The training loop: the analytic backward against autograd, the lecture's minibatch sequence,
reproducibility, the loop's contract (modes, callback, grads, devices). Speed lives in bench/."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import pytest
import torch
import torch.nn.functional as F

from makemore import analytic
from makemore.data import Vocab, context_windows
from makemore.mlp import MLP, MLPConfig
from makemore.training import (
    TrainConfig,
    minibatch_chunks,
    minibatch_indices,
    smooth_log10,
    split_loss,
    train,
)

KAIMING = MLPConfig().kaiming_tanh
VARIANTS = {
    "part2": MLPConfig(),  # all-randn: saturated tanh, large logits
    "part3": MLPConfig(w1_scale=0.2, b1_scale=0.01, w2_scale=0.01, b2_scale=0.0),
    "bn": MLPConfig(batchnorm=True, w1_scale=KAIMING, w2_scale=0.01, b2_scale=0.0),
    "bn_eps": MLPConfig(batchnorm=True, bn_eps=1e-3, n_hidden=50),
}


def _model(cfg: MLPConfig, dtype=torch.float32) -> MLP:
    model = MLP(cfg)
    if dtype != torch.float32:
        model.to(dtype)  # MLP.to detaches: make the parameters trainable again
        for p in model.parameters():
            p.requires_grad_(True)
    return model


def _batch(B: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 27, (B, 3), generator=g), torch.randint(0, 27, (B,), generator=g)


@pytest.fixture(scope="module")
def toy_data(toy_words) -> tuple[torch.Tensor, torch.Tensor]:
    return context_windows(toy_words, Vocab.from_words(toy_words), 3)


# -----------------------------------------------------------------------------
# the analytic backward is the chain rule: same gradients as autograd


@pytest.mark.parametrize("via_sigmoid", [True, False])
@pytest.mark.parametrize("variant", VARIANTS)
def test_analytic_gradients_match_autograd_float64(variant, via_sigmoid, monkeypatch):
    monkeypatch.setattr(analytic.MLPKernel, "tanh_via_sigmoid", via_sigmoid)
    cfg = VARIANTS[variant]
    X, Y = _batch(32)
    ref, ours = _model(cfg, torch.float64), _model(cfg, torch.float64)
    loss = F.cross_entropy(ref(X), Y)  # training mode: batch statistics
    loss.backward()
    our_loss, grads = analytic.loss_and_grads(ours, X, Y)
    assert abs(our_loss - loss.item()) < 1e-10
    assert len(grads) == len(ref.parameters())
    for g, p in zip(grads, ref.parameters(), strict=True):
        assert g.shape == p.shape
        assert (g - p.grad).abs().max().item() < 1e-6
        assert torch.allclose(g, p.grad, rtol=1e-9, atol=1e-12)
    for a, b in zip(ours.buffers(), ref.buffers(), strict=True):  # running BatchNorm stats
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("variant", ["part3", "bn"])
def test_both_paths_take_the_same_steps(variant, toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=60, batch_size=16, lr=0.1, lr_decay_step=40, lr_final=0.01, seed=7)
    fast, slow = _model(VARIANTS[variant]), _model(VARIANTS[variant])
    l_fast = train(fast, X, Y, cfg)
    l_slow = train(slow, X, Y, dataclasses.replace(cfg, backend="autograd"))
    torch.testing.assert_close(l_fast, l_slow, rtol=0, atol=1e-4)
    for a, b in zip(fast.parameters(), slow.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-4)
    for a, b in zip(fast.buffers(), slow.buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    assert abs(split_loss(fast, X, Y) - split_loss(slow, X, Y)) < 1e-4


def test_analytic_path_is_used_only_for_the_plain_mlp():
    assert analytic.supports(MLP(MLPConfig()))

    class Variant(MLP):
        pass

    assert not analytic.supports(Variant(MLPConfig()))
    assert not analytic.supports(torch.nn.Linear(3, 3))


# -----------------------------------------------------------------------------
# the minibatches are the lecture's


def test_minibatch_sequence_is_the_lectures_per_step_draws():
    n = 1000
    for B, steps in ((32, 2500), (4096, 40), (1, 7)):
        cfg = TrainConfig(steps=steps, batch_size=B, seed=2147483647)
        g = torch.Generator().manual_seed(2147483647)
        lecture = torch.stack([torch.randint(0, n, (B,), generator=g) for _ in range(steps)])
        assert torch.equal(minibatch_indices(n, cfg), lecture)
        chunks = list(minibatch_chunks(n, cfg))
        assert [start for start, _ in chunks] == sorted({start for start, _ in chunks})
        assert torch.equal(torch.cat([ix for _, ix in chunks]), lecture)


class _Spy(torch.nn.Module):
    """Logits from one parameter row; remembers the example ids (X[:, 0]) of every batch."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1, 27))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        if self.training:
            self.seen.append(x[:, 0].clone())
        return self.w.expand(x.shape[0], -1)


def test_train_feeds_the_lectures_minibatches():
    n, B, steps = 500, 8, 30
    X = torch.arange(n).unsqueeze(1).repeat(1, 3)  # example i's context is (i, i, i)
    Y = torch.arange(n) % 27
    spy = _Spy()
    train(spy, X, Y, TrainConfig(steps=steps, batch_size=B, seed=5))
    g = torch.Generator().manual_seed(5)
    expected = [torch.randint(0, n, (B,), generator=g) for _ in range(steps)]
    assert len(spy.seen) == steps
    for got, want in zip(spy.seen, expected, strict=True):
        assert torch.equal(got, want)


# -----------------------------------------------------------------------------
# the loop's contract


@pytest.mark.parametrize("backend", ["auto", "autograd"])
def test_same_seed_gives_bit_identical_losses(backend, toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=50, batch_size=16, backend=backend)
    runs = [train(_model(VARIANTS["bn"]), X, Y, cfg) for _ in range(2)]
    assert torch.equal(runs[0], runs[1])
    other = train(_model(VARIANTS["bn"]), X, Y, dataclasses.replace(cfg, seed=1))
    assert not torch.equal(runs[0], other)


@pytest.mark.parametrize("backend", ["auto", "autograd"])
def test_modes_losses_and_callback(backend, toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=12, batch_size=8, lr=0.5, lr_decay_step=5, lr_final=0.05,
                      backend=backend)
    model = _model(VARIANTS["bn"])
    before = [p.detach().clone() for p in model.parameters()]
    calls = []

    def callback(step: int, lr: float) -> None:
        assert model.training
        # p.grad is this step's gradient and the update has been applied: p = before - lr grad
        for p, b in zip(model.parameters(), before, strict=True):
            assert p.grad is not None and p.grad.shape == p.shape
            torch.testing.assert_close(p.detach(), b - lr * p.grad, rtol=0, atol=1e-6)
            b.copy_(p.detach())
        calls.append((step, lr))

    kept = []
    losses = train(model, X, Y, cfg, callback=lambda s, lr: (callback(s, lr), kept.append(
        [p.grad for p in model.parameters()])))
    assert calls == [(i, 0.5 if i < 5 else 0.05) for i in range(12)]
    # a kept p.grad is that step's gradient, not a buffer the next step overwrites
    assert all(a is not b for a, b in zip(kept[0], kept[1], strict=True))
    assert not torch.equal(kept[0][1], kept[1][1])
    assert losses.shape == (12,) and losses.device.type == "cpu"
    assert torch.isfinite(losses).all()
    assert not model.training


def test_first_loss_is_the_minibatch_cross_entropy(toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=1, batch_size=16, seed=3)
    model = _model(VARIANTS["part2"])
    ref = copy.deepcopy(model)
    ix = minibatch_indices(len(X), cfg)[0]
    expected = F.cross_entropy(ref(X[ix]), Y[ix]).item()
    assert abs(train(model, X, Y, cfg)[0].item() - expected) < 1e-4


def test_bad_backend_is_refused(toy_data):
    with pytest.raises(ValueError, match="backend"):
        train(_model(VARIANTS["part3"]), *toy_data, TrainConfig(steps=1, backend="magic"))


def test_smooth_log10_averages_windows():
    losses = torch.tensor([10.0, 1000.0, 100.0, 100.0, 5.0])
    assert torch.allclose(smooth_log10(losses, window=2), torch.tensor([2.0, 2.0]))


# -----------------------------------------------------------------------------
# devices


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback without CUDA")
def test_cuda_asked_without_cuda_trains_on_cpu_with_a_warning(toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=5, batch_size=8)
    with pytest.warns(RuntimeWarning, match="CUDA"):
        got = train(_model(VARIANTS["part3"]), X, Y, dataclasses.replace(cfg, device="cuda"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = train(_model(VARIANTS["part3"]), X, Y, cfg)
    assert torch.equal(got, want)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("variant", ["part3", "bn"])
def test_cuda_trains_like_cpu(variant, toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=30, batch_size=16)
    cpu = train(_model(VARIANTS[variant]), X, Y, cfg)
    model = _model(VARIANTS[variant])
    gpu = train(model, X, Y, dataclasses.replace(cfg, device="cuda"))
    assert gpu.device.type == "cpu" and model.C.device.type == "cuda"
    torch.testing.assert_close(cpu, gpu, rtol=0, atol=1e-3)
    assert abs(split_loss(model, X, Y) - split_loss(model, X.cuda(), Y.cuda())) < 1e-6


def test_float64_model_trains_on_both_paths(toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=20, batch_size=16)
    fast = train(_model(VARIANTS["bn"], torch.float64), X, Y, cfg)
    slow = train(_model(VARIANTS["bn"], torch.float64), X, Y,
                 dataclasses.replace(cfg, backend="autograd"))
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-6)
