"""makemore.bigram: the counting model, the neural bigram, evaluation and sampling.

Oracles: Python's Counter and math.log for counts and likelihoods, torch.nn.functional for the
loss, -ln(1/V) for the uniform model, and the closed-form counting solution for what gradient
descent must converge to.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from makemore.bigram import (
    NeuralBigram,
    count_matrix,
    counting_probs,
    neural_loss,
    nll,
    row_entropy,
    sample,
)
from makemore.data import Vocab, bigram_pairs
from makemore.lecture import SEED
from makemore.training import Constant, TrainConfig, train


def pair_counter(words: list[str]) -> Counter:
    """Bigram counts the plain-Python way: the oracle for count_matrix."""
    c: Counter = Counter()
    for w in words:
        chs = ["."] + list(w) + ["."]
        c.update(zip(chs, chs[1:], strict=False))
    return c


@pytest.fixture(scope="module")
def toy(toy_words):
    vocab = Vocab.from_words(toy_words)
    xs, ys = bigram_pairs(toy_words, vocab)
    return toy_words, vocab, xs, ys


# ---------------------------------------------------------------------------- counting
def test_counts_sum_to_the_number_of_bigrams_and_match_a_counter(toy):
    words, vocab, xs, ys = toy
    N = count_matrix(xs, ys, len(vocab))
    assert N.sum().item() == sum(len(w) + 1 for w in words)
    stoi = vocab.stoi
    for (a, b), n in pair_counter(words).items():
        assert N[stoi[a], stoi[b]].item() == n
    assert N.sum().item() == sum(pair_counter(words).values())  # nothing counted elsewhere


@pytest.mark.parametrize("smoothing", [0.0, 1.0, 10.0])
def test_rows_sum_to_one(toy, smoothing):
    _, vocab, xs, ys = toy
    P = counting_probs(count_matrix(xs, ys, len(vocab)), smoothing)
    seen_rows = P.isfinite().all(1)  # with no smoothing a never-seen row would be 0/0
    assert seen_rows.all()  # every toy character starts some bigram
    torch.testing.assert_close(P.sum(1), torch.ones(len(vocab)))


def test_huge_smoothing_is_uniform(toy):
    _, vocab, xs, ys = toy
    V = len(vocab)
    P = counting_probs(count_matrix(xs, ys, V), 1e9)
    torch.testing.assert_close(P, torch.full((V, V), 1 / V))
    torch.testing.assert_close(row_entropy(P), torch.full((V,), math.log(V)))


def test_nll_equals_a_hand_computation(toy):
    words, vocab, xs, ys = toy
    V, alpha = len(vocab), 1.0
    pairs = pair_counter(words)
    row_total = Counter()
    for (a, _), n in pairs.items():
        row_total[a] += n
    # average of -log((count + alpha) / (row total + V * alpha)) over every bigram occurrence
    total = sum(-n * math.log((n + alpha) / (row_total[a] + V * alpha))
                for (a, _), n in pairs.items())
    expected = total / sum(pairs.values())
    assert nll(counting_probs(count_matrix(xs, ys, V), alpha), xs, ys) == pytest.approx(
        expected, rel=1e-6)


def test_unseen_bigram_has_infinite_loss_only_without_smoothing(toy):
    _, vocab, xs, ys = toy
    N = count_matrix(xs, ys, len(vocab))
    a, b = (N == 0).nonzero()[0].tolist()  # some bigram the toy corpus never contains
    x, y = torch.tensor([a]), torch.tensor([b])
    assert nll(counting_probs(N, 0.0), x, y) == math.inf
    assert math.isfinite(nll(counting_probs(N, 1.0), x, y))


def test_counting_nll_on_names_matches_an_independent_computation(names_words):
    """The chapter's headline number, recomputed in float64 from Python counts."""
    vocab = Vocab.from_words(names_words)
    V = len(vocab)
    pairs = pair_counter(names_words)
    row_total = Counter()
    for (a, _), n in pairs.items():
        row_total[a] += n
    n_bigrams = sum(pairs.values())
    expected = sum(-n * math.log((n + 1) / (row_total[a] + V)) for (a, _), n in pairs.items())
    expected /= n_bigrams
    xs, ys = bigram_pairs(names_words, vocab)
    assert len(xs) == n_bigrams
    assert nll(counting_probs(count_matrix(xs, ys, V), 1.0), xs, ys) == pytest.approx(
        expected, abs=1e-4)  # float32 table and mean against float64 sums


# ---------------------------------------------------------------------------- the neural bigram
def test_one_hot_matmul_is_row_lookup(toy):
    _, vocab, xs, _ = toy
    model = NeuralBigram(len(vocab), seed=0)
    W = model.W.detach()
    assert torch.equal(F.one_hot(xs, len(vocab)).float() @ W, W[xs])
    assert torch.equal(model(xs), model.W[xs])


def test_neural_loss_and_gradient_equal_cross_entropy(toy):
    _, vocab, xs, ys = toy
    reg = 0.3
    W1 = torch.randn(len(vocab), len(vocab), generator=torch.Generator().manual_seed(1),
                     requires_grad=True)
    W2 = W1.detach().clone().requires_grad_(True)
    ours = neural_loss(W1, xs, ys, reg)
    ref = F.cross_entropy(F.one_hot(xs, len(vocab)).float() @ W2, ys) + reg * (W2**2).mean()
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(W1.grad, W2.grad)


def test_zero_weights_give_the_uniform_loss(toy):
    _, vocab, xs, ys = toy
    V = len(vocab)
    assert neural_loss(torch.zeros(V, V), xs, ys, reg=5.0).item() == pytest.approx(
        -math.log(1 / V), rel=1e-6)


def bigram_config(steps: int, lr: float = 50.0, reg: float = 0.01) -> TrainConfig:
    """Full-batch gradient descent with the lecture's weight penalty."""
    return TrainConfig(steps=steps, batch_size=None, schedule=Constant(lr), l2=reg)


def train_neural(xs, ys, cfg: TrainConfig, V: int, backend: str = "auto"):
    model = NeuralBigram(V, SEED)
    cfg = TrainConfig(**{**cfg.__dict__, "backend": backend})
    return model, train(model, xs, ys, cfg)


@pytest.mark.parametrize("backend", ["auto", "autograd"])
def test_inline_training_loop_agrees_with_the_package(toy, backend):
    """The chapter's one-hot loop, written out, takes the same steps as the package's loop,
    on the bigram's fused loss (auto) and on plain cross-entropy (autograd)."""
    _, vocab, xs, ys = toy
    V, cfg = len(vocab), bigram_config(steps=20, lr=5.0, reg=0.01)
    W = torch.randn((V, V), generator=torch.Generator().manual_seed(SEED), requires_grad=True)
    xenc = F.one_hot(xs, num_classes=V).float()
    inline = []
    for _ in range(cfg.steps):
        counts = (xenc @ W).exp()
        probs = counts / counts.sum(1, keepdim=True)
        loss = -probs[torch.arange(len(ys)), ys].log().mean() + cfg.l2 * (W**2).mean()
        W.grad = None
        loss.backward()
        W.data += -cfg.lr * W.grad
        inline.append(loss.item())
    model, losses = train_neural(xs, ys, cfg, V, backend)
    assert losses.shape == (cfg.steps,)
    torch.testing.assert_close(losses, torch.tensor(inline))
    torch.testing.assert_close(model.W.detach(), W.detach())


def test_neural_bigram_converges_to_the_counting_solution(toy):
    """No weight decay and no smoothing: both are the maximum-likelihood table."""
    _, vocab, xs, ys = toy
    V = len(vocab)
    P_mle = counting_probs(count_matrix(xs, ys, V), 0.0)
    # lr 20: the toy rows are few and peaked, and the lecture's 50 overshoots on them
    model, losses = train_neural(xs, ys, bigram_config(steps=1000, lr=20.0, reg=0.0), V)
    assert losses[-1] < losses[0]
    assert (model.probs() - P_mle).abs().max().item() < 0.01
    assert nll(model.probs(), xs, ys) == pytest.approx(nll(P_mle, xs, ys), abs=5e-3)


def test_strong_weight_decay_gives_near_uniform_rows(toy):
    _, vocab, xs, ys = toy
    V = len(vocab)
    # the penalty reg * mean(W**2) alone would scale W by (1 - lr * 2 reg / V**2) per step:
    # pick lr so that factor is 0 (stable, and fast)
    reg = 100.0
    lr = V * V / (2 * reg)
    model, _ = train_neural(xs, ys, bigram_config(steps=100, lr=lr, reg=reg), V)
    P = model.probs()
    assert (P - 1 / V).abs().max().item() < 0.01
    assert row_entropy(P).min().item() > 0.99 * math.log(V)


def test_training_is_deterministic(toy):
    _, vocab, xs, ys = toy
    cfg = bigram_config(steps=5)
    m1, l1 = train_neural(xs, ys, cfg, len(vocab))
    m2, l2 = train_neural(xs, ys, cfg, len(vocab))
    assert torch.equal(l1, l2) and torch.equal(m1.W, m2.W)


def test_the_model_s_loss_is_the_fused_cross_entropy(toy):
    """train() differentiates the bigram's own loss: the cross-entropy, fused."""
    _, vocab, xs, ys = toy
    model = NeuralBigram(len(vocab), SEED)
    torch.testing.assert_close(model.loss(xs, ys), F.cross_entropy(model.W[xs], ys))
    windows = xs[:, None]  # (N, 1): the same characters as windows of one
    torch.testing.assert_close(model(windows), model(xs))


# ---------------------------------------------------------------------------- sampling
def test_seeded_sampling_is_reproducible(toy):
    _, vocab, xs, ys = toy
    P = counting_probs(count_matrix(xs, ys, len(vocab)))
    a = sample(P, vocab, 20, torch.Generator().manual_seed(3))
    b = sample(P, vocab, 20, torch.Generator().manual_seed(3))
    assert a == b and len(a) == 20
    assert sample(P, vocab, 20, torch.Generator().manual_seed(4)) != a


def test_sampling_follows_a_deterministic_table():
    vocab = Vocab(itos=(".", "a", "b"))
    P = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # . -> a -> b -> .
    assert sample(P, vocab, 3, torch.Generator().manual_seed(0)) == ["ab"] * 3


def test_sampling_a_model_equals_sampling_its_table(toy):
    _, vocab, _, _ = toy
    model = NeuralBigram(len(vocab), seed=7)
    words = sample(model, vocab, 10, torch.Generator().manual_seed(SEED))
    assert words == sample(model.probs(), vocab, 10, torch.Generator().manual_seed(SEED))


def test_first_letters_follow_the_table(toy):
    """Many samples: the share of each first letter approaches row '.' of the table."""
    _, vocab, xs, ys = toy
    P = counting_probs(count_matrix(xs, ys, len(vocab)))
    words = sample(P, vocab, 3000, torch.Generator().manual_seed(0), max_len=1)
    first = Counter(w[:1] or "." for w in words)
    for ix, ch in enumerate(vocab.itos):
        assert first[ch] / len(words) == pytest.approx(P[0, ix].item(), abs=0.03)
