"""The training loop: the analytic backward against autograd, the lecture's minibatch sequence,
reproducibility, the loop's contract (modes, callback, grads, devices). Speed lives in bench/."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings

import pytest
import torch
import torch.nn.functional as F

from makemore import layers as L
from makemore.data import Vocab, context_windows
from makemore.lecture import SEED
from makemore.mlp import MLP, DeepConfig, MLPConfig, deep_mlp
from makemore.training import (
    AutogradStep,
    Clock,
    Constant,
    Shifted,
    StepDecay,
    Sweep,
    TrainConfig,
    WarmupCosine,
    WarmupLinear,
    minibatch_chunks,
    minibatch_indices,
    smooth_log10,
    split_loss,
    train,
    training_step,
)

KAIMING = MLPConfig(27).kaiming_tanh
VARIANTS = {
    "part2": MLPConfig(27),  # all-randn: saturated tanh, large logits
    "part3": MLPConfig(27, w1_scale=0.2, b1_scale=0.01, w2_scale=0.01, b2_scale=0.0),
    "bn": MLPConfig(27, batchnorm=True, w1_scale=KAIMING, w2_scale=0.01, b2_scale=0.0),
    "bn_eps": MLPConfig(27, batchnorm=True, bn_eps=1e-3, n_hidden=50),
}


def _model(cfg: MLPConfig, dtype=torch.float32) -> MLP:
    return MLP(cfg).to(dtype=dtype)  # parameters stay trainable leaves


def _batch(B: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 27, (B, 3), generator=g), torch.randint(0, 27, (B,), generator=g)


@pytest.fixture(scope="module")
def toy_data(toy_words) -> tuple[torch.Tensor, torch.Tensor]:
    return context_windows(toy_words, Vocab.from_words(toy_words), 3)


# -----------------------------------------------------------------------------
# the fast path: taken by default, the same steps as autograd


@pytest.mark.parametrize("variant", ["part3", "bn"])
def test_both_paths_take_the_same_steps(variant, toy_data):
    X, Y = toy_data
    cfg = TrainConfig(steps=60, batch_size=16, schedule=StepDecay(0.1, 40, 0.01), seed=7)
    fast, slow = _model(VARIANTS[variant]), _model(VARIANTS[variant])
    l_fast = train(fast, X, Y, cfg)
    l_slow = train(slow, X, Y, dataclasses.replace(cfg, backend="autograd"))
    torch.testing.assert_close(l_fast, l_slow, rtol=0, atol=1e-4)
    for a, b in zip(fast.parameters(), slow.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-4)
    for a, b in zip(fast.buffers(), slow.buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    assert abs(split_loss(fast, X, Y) - split_loss(slow, X, Y)) < 1e-4


def _no_autograd(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("autograd's backward ran")

    monkeypatch.setattr(torch.Tensor, "backward", refuse)
    monkeypatch.setattr(torch.autograd, "backward", refuse)


@pytest.mark.parametrize("which", ["mlp", "bn-mlp", "deep"])
def test_default_backend_runs_the_hand_written_backward(which, toy_data, monkeypatch):
    """So the speed cannot vanish silently: with backend "auto" the models that have a manual
    backward train without autograd (which is made to fail here), and "autograd" uses it."""
    X, Y = toy_data
    model = {"mlp": lambda: _model(VARIANTS["part3"]), "bn-mlp": lambda: _model(VARIANTS["bn"]),
             "deep": lambda: deep_mlp(DeepConfig(27, n_hidden=16))}[which]
    assert isinstance(training_step(model(), TrainConfig()), L.ManualStep)
    cfg = TrainConfig(steps=5, batch_size=8)
    _no_autograd(monkeypatch)
    assert torch.isfinite(train(model(), X, Y, cfg)).all()
    with pytest.raises(AssertionError, match="autograd"):
        train(model(), X, Y, dataclasses.replace(cfg, backend="autograd"))


def test_models_without_a_manual_step_train_on_autograd(toy_data):
    X, Y = toy_data
    net = torch.nn.Sequential(torch.nn.Embedding(27, 4), torch.nn.Flatten(),
                              torch.nn.Linear(12, 27))
    assert isinstance(training_step(net, TrainConfig()), AutogradStep)
    losses = train(net, X, Y, TrainConfig(steps=200, batch_size=16, schedule=Constant(0.5)))
    assert losses[-50:].mean() < losses[:50].mean()


# -----------------------------------------------------------------------------
# the minibatches are the lecture's


def test_minibatch_sequence_is_the_lectures_per_step_draws():
    n = 1000
    for B, steps in ((32, 2500), (4096, 40), (1, 7)):
        cfg = TrainConfig(steps=steps, batch_size=B, seed=SEED)
        g = torch.Generator().manual_seed(SEED)
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
    cfg = TrainConfig(steps=12, batch_size=8, schedule=StepDecay(0.5, 5, 0.05),
                      backend=backend)
    model = _model(VARIANTS["bn"])
    before = [p.detach().clone() for p in model.parameters()]
    calls = []

    def callback(step: int, lr: float, loss: torch.Tensor) -> None:
        assert model.training
        # p.grad is this step's gradient and the update has been applied: p = before - lr grad
        for p, b in zip(model.parameters(), before, strict=True):
            assert p.grad is not None and p.grad.shape == p.shape
            torch.testing.assert_close(p.detach(), b - lr * p.grad, rtol=0, atol=1e-6)
            b.copy_(p.detach())
        calls.append((step, lr, loss.item()))

    kept = []
    losses = train(model, X, Y, cfg, callback=lambda s, lr, loss: (
        callback(s, lr, loss), kept.append([p.grad for p in model.parameters()])))
    assert [(s, lr) for s, lr, _ in calls] == [(i, 0.5 if i < 5 else 0.05) for i in range(12)]
    assert [loss for _, _, loss in calls] == losses.tolist()  # the callback sees each loss
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


# -----------------------------------------------------------------------------
# the other recipes: full batch with a penalty, a sweep, AdamW with warm-up and decay


def test_schedules():
    assert [StepDecay(0.1, 2, 0.01).lr_at(s) for s in range(4)] == [0.1, 0.1, 0.01, 0.01]
    assert Sweep((1.0, 2.0)).lr_at(1) == 2.0
    w = WarmupCosine(lr=1.0, warmup=4, steps=14, final=0.1)
    assert [w.lr_at(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert w.lr_at(4) == pytest.approx(1.0) and w.lr_at(9) == pytest.approx(0.55)
    assert w.lr_at(14) == pytest.approx(0.1)
    cfg = TrainConfig(schedule=Sweep((3.0, 4.0)))
    assert cfg.lr_at(1) == 4.0


def test_warmup_linear_rises_then_falls_in_straight_lines():
    w = WarmupLinear(lr=2.0, warmup=4, steps=14, final=0.2)
    assert [w.lr_at(s) for s in range(4)] == [0.5, 1.0, 1.5, 2.0]
    decay = [w.lr_at(s) for s in range(4, 15)]  # 2.0 at the warm-up's end, 0.2 at `steps`
    assert decay[0] == pytest.approx(2.0) and decay[-1] == pytest.approx(0.2)
    assert all(b - a == pytest.approx(-0.18) for a, b in zip(decay, decay[1:], strict=False))
    plain = WarmupLinear(lr=1.0, warmup=0, steps=10)  # no warm-up: from lr straight to 0
    assert plain.lr_at(0) == 1.0 and plain.lr_at(5) == pytest.approx(0.5)


def test_full_batch_with_l2_is_plain_gradient_descent_on_the_penalised_loss(toy_data):
    X, Y = toy_data
    net = torch.nn.Sequential(torch.nn.Embedding(27, 4), torch.nn.Flatten(),
                              torch.nn.Linear(12, 27))
    ref = copy.deepcopy(net)
    cfg = TrainConfig(steps=5, batch_size=None, schedule=Constant(0.3), l2=0.1)
    losses = train(net, X, Y, cfg)
    expected = []
    for _ in range(5):  # the same steps, written out
        loss = F.cross_entropy(ref(X), Y) + 0.1 * sum((p**2).mean() for p in ref.parameters())
        ref.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in ref.parameters():
                p -= 0.3 * p.grad
        expected.append(loss.item())
    torch.testing.assert_close(losses, torch.tensor(expected), rtol=1e-6, atol=1e-6)
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_adamw_takes_torch_optims_steps(toy_data):
    X, Y = toy_data
    net = torch.nn.Sequential(torch.nn.Embedding(27, 4), torch.nn.Flatten(),
                              torch.nn.Linear(12, 27))
    ref = copy.deepcopy(net)
    sched = WarmupCosine(lr=0.01, warmup=3, steps=10)
    cfg = TrainConfig(steps=10, batch_size=8, optimizer="adamw", schedule=sched,
                      weight_decay=0.1, seed=4)
    losses = train(net, X, Y, cfg)
    opt = torch.optim.AdamW(ref.parameters(), lr=0.01, betas=cfg.betas, weight_decay=0.1)
    ix = minibatch_indices(len(X), cfg)
    for step in range(10):
        for group in opt.param_groups:
            group["lr"] = sched.lr_at(step)
        loss = F.cross_entropy(ref(X[ix[step]]), Y[ix[step]])
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert losses[step].item() == pytest.approx(loss.item(), rel=1e-6)
    for a, b in zip(net.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_sequence_targets_ignore_the_padding():
    """(B, T, V) logits and -1 targets: the loss is the mean over the positions that count."""
    class Table(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(27, 27))

        def forward(self, idx):
            return self.w[idx]  # (B, T, V)

    X = torch.tensor([[0, 1, 2], [0, 3, 0]])
    Y = torch.tensor([[1, 2, 0], [3, 0, -1]])
    model = Table()
    losses = train(model, X, Y, TrainConfig(steps=1, batch_size=None, schedule=Constant(1.0)))
    assert losses[0].item() == pytest.approx(math.log(27))
    assert split_loss(model, X, Y) < math.log(27)


def test_shifted_schedule_continues_where_the_first_segment_stopped():
    """A run cut in two (resumed, or evaluated between segments) follows one schedule."""
    whole = WarmupLinear(lr=1.0, warmup=3, steps=10)
    rest = Shifted(whole, 4)
    assert [rest.lr_at(s) for s in range(6)] == [whole.lr_at(4 + s) for s in range(6)]
    assert [WarmupLinear(1.0, 3, 10).lr_at(s) for s in (0, 2, 3, 10)] == [1 / 3, 1.0, 1.0, 0.0]


def test_the_clock_counts_training_and_leaves_the_callbacks_out(toy_data):
    """A callback that burns CPU (an evaluation, say) is not charged to the run's budget."""
    X, Y = toy_data

    def busy(step, lr, loss):
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    cfg = TrainConfig(steps=10, batch_size=8)
    quiet, looked_at = Clock(), Clock()
    t0 = time.process_time()
    train(_model(VARIANTS["part3"]), X, Y, cfg, clock=quiet)
    train(_model(VARIANTS["part3"]), X, Y, cfg, callback=busy, clock=looked_at)
    total = time.process_time() - t0
    assert quiet.steps == looked_at.steps == 10
    assert total > 0.2 > 10 * looked_at.seconds  # 0.2 s went to the callbacks
    assert looked_at.seconds < 5 * quiet.seconds + 0.01
