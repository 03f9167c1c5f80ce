"""Chapter 4 (backprop ninja): its network on the package's manual path, and the two one-line
backward formulas it derives, against autograd in float64.

The chapter trains the lecture's exercise 4 with `makemore.training.train`, whose fast path is
the layers' hand-written backward: a Linear *with* a bias feeding a Bessel-corrected
BatchNorm1d (eps inside the square root), which no other chapter's stack has. A wrong sign or a
missing factor (n / (n - 1)) shows up as a difference of order 1e-3 or more; rounding in float64
stays below 1e-10.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from makemore import layers as L
from makemore import lecture
from makemore.training import TrainConfig

DT = torch.float64


def _part4_stack(n_hidden: int = 16, vocab: int = 27) -> L.Sequential:
    """The lecture's Part 4 network as a stack (small), its scales from makemore.lecture."""
    g = torch.Generator().manual_seed(lecture.SEED)
    net, init = lecture.PART4_NET, lecture.PART4_INIT
    fan_in = net["n_embd"] * net["block_size"]
    emb = L.Embedding(vocab, net["n_embd"], generator=g)
    lin1 = L.Linear(fan_in, n_hidden, generator=g,
                    weight_scale=lecture.TANH_GAIN / math.sqrt(fan_in),
                    bias_scale=init["b1_scale"])
    lin2 = L.Linear(n_hidden, vocab, generator=g, weight_scale=init["w2_scale"],
                    bias_scale=init["b2_scale"])
    bn = L.BatchNorm1d(n_hidden, eps=lecture.PART4_BN_EPS, unbiased=True,
                       momentum=lecture.PART3_BN_MOMENTUM)
    with torch.no_grad():  # non-trivial gain and bias, so no missing factor can hide
        bn.gamma.add_(torch.randn(n_hidden, generator=g) * init["bn_scale"])
        bn.beta.add_(torch.randn(n_hidden, generator=g) * init["bn_scale"])
    return L.Sequential([emb, L.Flatten(), lin1, bn, L.Tanh(), lin2]).to(dtype=DT)


def _batch(n: int = 32, vocab: int = 27):
    g = torch.Generator().manual_seed(1)
    T = lecture.PART4_NET["block_size"]
    return torch.randint(0, vocab, (n, T), generator=g), torch.randint(0, vocab, (n,), generator=g)


def test_part4_stack_step_matches_autograd_float64():
    model = _part4_stack()
    X, Y = _batch()
    ref = copy.deepcopy(model)
    loss = F.cross_entropy(ref(X), Y)  # training mode: the batch's Bessel-corrected statistics
    loss.backward()
    step = model.manual_step(TrainConfig(batch_size=X.shape[0]))
    assert step is not None  # every layer has a hand-written backward
    ((x, t, tf),) = list(step.batches(X[None], Y[None]))
    with torch.no_grad():
        ours = step.step(x, t, tf).item()
    assert abs(ours - loss.item()) < 1e-10
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-8, atol=1e-12, msg=name)
    for (name, a), (_, b) in zip(model.named_buffers(), ref.named_buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=name)
    # the bias before BatchNorm: its gradient is zero up to rounding, on both paths
    assert model[2].bias.grad.abs().max() < 1e-12
    assert model[2].weight.grad.abs().max() > 1e-3


def test_cross_entropy_backward_is_softmax_minus_onehot_over_n():
    g = torch.Generator().manual_seed(2)
    n, V = 32, 27
    logits = (2 * torch.randn(n, V, generator=g, dtype=DT)).requires_grad_()
    Y = torch.randint(0, V, (n,), generator=g)
    F.cross_entropy(logits, Y).backward()
    dlogits = F.softmax(logits.detach(), 1)
    dlogits[range(n), Y] -= 1
    dlogits /= n
    torch.testing.assert_close(dlogits, logits.grad, rtol=0, atol=1e-15)
    assert dlogits.sum(1).abs().max() < 1e-15  # each row sums to zero


def _bn_backward(x, dout, gamma, eps, factor):
    """The one-formula BatchNorm backward of Chapter 4, with `factor` = n / (n - 1) for the
    Bessel-corrected variance and 1 for the biased one."""
    n = x.shape[0]
    var = x.var(0, unbiased=factor != 1)
    s = (var + eps) ** -0.5
    xhat = (x - x.mean(0)) * s
    return gamma * s / n * (n * dout - dout.sum(0) - factor * xhat * (dout * xhat).sum(0))


def test_batchnorm_one_formula_matches_autograd_for_both_variances():
    g = torch.Generator().manual_seed(3)
    n, C, eps = 32, 8, lecture.PART4_BN_EPS
    x = (3 * torch.randn(n, C, generator=g, dtype=DT) + 1).requires_grad_()
    gamma = 1 + 0.3 * torch.randn(C, generator=g, dtype=DT)
    beta = 0.3 * torch.randn(C, generator=g, dtype=DT)
    dout = torch.randn(n, C, generator=g, dtype=DT)
    for unbiased, factor in ((True, n / (n - 1)), (False, 1.0)):
        x.grad = None
        xhat = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=unbiased) + eps)
        (gamma * xhat + beta).backward(dout)
        with torch.no_grad():
            ours = _bn_backward(x, dout, gamma, eps, factor)
            other = _bn_backward(x, dout, gamma, eps, 1.0 if unbiased else n / (n - 1))
        torch.testing.assert_close(ours, x.grad, rtol=1e-10, atol=1e-13)
        assert (other - x.grad).abs().max() > 1e-6  # the other variance's factor is wrong
