"""The from-scratch ReLU (Chapter 3's rectifier) against torch.nn.ReLU and autograd.

Forward against torch.nn.ReLU; the hand-written backward against autograd in float64, alone
and inside a deep stack trained one step on the manual path; and the two facts Chapter 3 leans
on: He et al.'s gain sqrt(2) keeps the mean square of a ReLU stack's activations steady, and a
unit that is off for every example receives no gradient at all.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from makemore import layers as L
from makemore.mlp import DeepConfig, deep_mlp
from makemore.training import TrainConfig

DT = torch.float64


def test_relu_forward_matches_torch_nn():
    x = torch.randn(64, 7, generator=torch.Generator().manual_seed(0))
    x[0, 0] = 0.0  # the kink itself
    torch.testing.assert_close(L.ReLU()(x), torch.nn.ReLU()(x), rtol=0, atol=0)


def test_relu_backward_matches_autograd_float64():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 5, generator=g, dtype=DT)
    x[3, 2] = 0.0  # torch's convention at the kink: no gradient
    dout = torch.randn(16, 5, generator=g, dtype=DT)
    xr = x.clone().requires_grad_(True)
    (torch.nn.ReLU()(xr) * dout).sum().backward()

    relu = L.ReLU()
    relu.prepare(tuple(x.shape), x)
    with torch.no_grad():
        out = relu.fwd(x.clone())
        torch.testing.assert_close(out, torch.relu(x), rtol=0, atol=0)
        dx = relu.bwd(dout.clone())
    torch.testing.assert_close(dx, xr.grad, rtol=0, atol=0)


def test_relu_stack_step_matches_autograd_float64():
    """A deep ReLU stack (no BatchNorm, so Linear biases too): one manual training step gives
    autograd's loss and every parameter's gradient."""
    model = deep_mlp(DeepConfig(27, n_hidden=32, batchnorm=False, activation="relu",
                                    gain=math.sqrt(2))).to(dtype=DT)
    g = torch.Generator().manual_seed(2)
    X, Y = torch.randint(0, 27, (32, 3), generator=g), torch.randint(0, 27, (32,), generator=g)
    ref = copy.deepcopy(model)
    loss = F.cross_entropy(ref(X), Y)
    loss.backward()

    step = model.manual_step(TrainConfig(batch_size=32))
    assert step is not None  # ReLU has a hand-written backward: the stack trains without autograd
    ((x, t, tf),) = list(step.batches(X[None], Y[None]))
    with torch.no_grad():
        ours = step.step(x, t, tf)
    assert abs(ours.item() - loss.item()) < 1e-10
    for p, (name, q) in zip(model.parameters(), ref.named_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-8, atol=1e-11, msg=name)


def test_he_gain_keeps_the_mean_square_of_a_relu_stack():
    """E[relu(z)^2] = Var(z) / 2 for z ~ N(0, s^2): gain sqrt(2) over sqrt(fan_in) holds the
    mean square steady through depth, gain 1 halves it at every layer."""
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(4000, 200, generator=g)

    def mean_square_after(gain: float, depth: int = 10) -> float:
        x = x0
        for _ in range(depth):
            x = L.ReLU()(L.Linear(200, 200, bias=False, gain=gain, generator=g)(x))
        return (x**2).mean().item()

    with torch.no_grad():
        he, plain = mean_square_after(math.sqrt(2)), mean_square_after(1.0)
    assert 0.7 < he < 1.4  # about 1 (the first layer's output has mean square 1)
    assert 0.3 * 2**-10 < plain < 3 * 2**-10  # halved ten times


def test_a_unit_off_for_every_example_gets_no_gradient():
    """A dead ReLU: make one hidden unit's bias very negative; its incoming weights and bias get
    exactly zero gradient, whatever the batch."""
    torch.manual_seed(4)
    lin, relu, out = L.Linear(6, 5, bias_scale=0.1), L.ReLU(), L.Linear(5, 3)
    with torch.no_grad():
        lin.bias[2] = -100.0
    x = torch.randn(64, 6)
    loss = F.cross_entropy(out(relu(lin(x))), torch.randint(0, 3, (64,)))
    loss.backward()
    assert torch.all(lin.weight.grad[:, 2] == 0) and lin.bias.grad[2] == 0
    assert lin.weight.grad[:, [0, 1, 3, 4]].abs().sum() > 0  # the live units do learn
