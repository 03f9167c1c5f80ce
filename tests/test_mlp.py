"""makemore.mlp: the Part 2 model, its dataset, loss, training, learning-rate finder and sampling.

Oracles: torch.nn layers for the forward pass, the closed-form counting solution for the best
loss a model can reach on a batch, ln(vocab size) for a model that predicts uniformly, and
contexts worked out by hand.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from makemore.data import Vocab, context_windows, make_splits
from makemore.lecture import PART2_MLP, PART2_PARAMS
from makemore.mlp import MLP, MLPConfig
from makemore.ngram import counting_loss, seen_cells
from makemore.sampling import sample
from makemore.training import StepDecay, TrainConfig, lr_finder, split_loss, split_losses, train


@pytest.fixture(scope="module")
def toy(toy_words):
    vocab = Vocab.from_words(toy_words)
    X, Y = context_windows(toy_words, vocab, 3)
    return vocab, X, Y


# ---------------------------------------------------------------------------- the model
def test_lecture_configuration_has_the_lecture_parameter_count():
    cfg = MLPConfig(vocab_size=27, **PART2_MLP)  # the lecture's network on names.txt
    V, E, H, B = cfg.vocab_size, cfg.n_embd, cfg.n_hidden, cfg.block_size
    closed_form = V * E + (B * E) * H + H + H * V + V  # C, W1, b1, W2, b2
    assert MLP(cfg).n_params() == closed_form == PART2_PARAMS.value


def test_vocab_size_has_no_silent_default():
    with pytest.raises(TypeError):
        MLPConfig()  # type: ignore[call-arg]


def test_forward_matches_torch_nn_layers(toy):
    vocab, X, _ = toy
    cfg = MLPConfig(vocab_size=len(vocab), n_embd=4, n_hidden=16)
    model = MLP(cfg)
    emb = nn.Embedding(len(vocab), cfg.n_embd)
    hidden = nn.Linear(cfg.fan_in, cfg.n_hidden)
    out = nn.Linear(cfg.n_hidden, len(vocab))
    with torch.no_grad():
        emb.weight.copy_(model.C)
        hidden.weight.copy_(model.W1.T)
        hidden.bias.copy_(model.b1)
        out.weight.copy_(model.W2.T)
        out.bias.copy_(model.b2)
        expected = out(torch.tanh(hidden(emb(X).flatten(1))))
        torch.testing.assert_close(model(X), expected)


def test_embedding_lookup_is_a_one_hot_matmul(toy):
    vocab, X, _ = toy
    model = MLP(MLPConfig(vocab_size=len(vocab), n_embd=5))
    C = model.C.detach()
    torch.testing.assert_close(C[X], F.one_hot(X, len(vocab)).float() @ C)


# ---------------------------------------------------------------------------- the dataset
def test_context_windows_of_a_toy_word_by_hand():
    vocab = Vocab.from_words(["emma"])  # itos: . a e m
    X, Y = context_windows(["emma"], vocab, 3)
    e, m, a = vocab.stoi["e"], vocab.stoi["m"], vocab.stoi["a"]
    assert X.tolist() == [[0, 0, 0], [0, 0, e], [0, e, m], [e, m, m], [m, m, a]]
    assert Y.tolist() == [e, m, m, a, 0]
    assert [vocab.decode(row) for row in X.tolist()] == ["...", "..e", ".em", "emm", "mma"]


def test_wider_windows_end_with_the_narrower_ones(toy_words):
    vocab = Vocab.from_words(toy_words)
    X5, Y5 = context_windows(toy_words, vocab, 5)
    for n in (1, 2, 3):
        Xn, Yn = context_windows(toy_words, vocab, n)
        assert torch.equal(X5[:, -n:], Xn) and torch.equal(Y5, Yn)


# ---------------------------------------------------------------------------- the loss
def test_zero_logit_model_starts_at_ln_vocab_size(toy):
    vocab, X, Y = toy
    cfg = MLPConfig(vocab_size=len(vocab), w2_scale=0.0, b2_scale=0.0)  # logits all zero
    model = MLP(cfg)
    assert split_loss(model, X, Y) == pytest.approx(math.log(len(vocab)), abs=1e-6)
    _, losses = lr_finder(MLP(cfg), X, Y, torch.linspace(-3, -1, 5))
    assert losses[0].item() == pytest.approx(math.log(len(vocab)), abs=1e-6)


def test_counting_loss_matches_the_dense_table(toy):
    vocab, X, Y = toy
    V = len(vocab)
    for n in (1, 2):
        Xn = X[:, -n:]
        rows = Xn[:, 0] if n == 1 else Xn[:, 0] * V + Xn[:, 1]
        N = torch.zeros((V**n, V), dtype=torch.float64)
        N.index_put_((rows, Y), torch.ones(len(Y), dtype=torch.float64), accumulate=True)
        for smoothing in (1.0, 0.5):
            P = (N + smoothing) / (N + smoothing).sum(1, keepdim=True)
            expected = -P[rows, Y].log().mean().item()
            assert counting_loss(Xn, Y, Xn, Y, V, smoothing) == pytest.approx(expected, rel=1e-12)
        assert seen_cells(Xn, Y, V) == int((N > 0).sum())


# ---------------------------------------------------------------------------- training
def test_training_reaches_the_counting_optimum_of_one_small_batch(toy):
    """Trained on one batch, the loss falls to the best any model can do on it: the counting
    solution without smoothing (contexts with several continuations cannot reach zero)."""
    vocab, X, Y = toy
    cfg = MLPConfig(vocab_size=len(vocab), block_size=3, n_embd=10, n_hidden=64, w2_scale=0.1,
                    b2_scale=0.0)
    model = MLP(cfg)
    n = X.shape[0]
    train(model, X, Y, TrainConfig(steps=1500, batch_size=n, schedule=StepDecay(0.5, 1000, 0.2)))
    best = counting_loss(X, Y, X, Y, len(vocab), smoothing=0.0)
    loss = split_loss(model, X, Y)
    assert best - 1e-4 <= loss < best + 0.05


def test_training_overfits_a_batch_of_distinct_contexts_to_near_zero(toy):
    vocab, X, Y = toy
    keys = X[:, 0] * 10_000 + X[:, 1] * 100 + X[:, 2]
    _, first = torch.unique(keys, return_inverse=True)
    keep = torch.zeros(X.shape[0], dtype=torch.bool)
    seen: set[int] = set()
    for i, k in enumerate(first.tolist()):  # the first example of each distinct context
        if k not in seen:
            seen.add(k)
            keep[i] = True
    Xu, Yu = X[keep][:32], Y[keep][:32]
    assert counting_loss(Xu, Yu, Xu, Yu, len(vocab), smoothing=0.0) == pytest.approx(0.0)
    model = MLP(MLPConfig(vocab_size=len(vocab), n_hidden=64, w2_scale=0.1, b2_scale=0.0))
    train(model, Xu, Yu, TrainConfig(steps=1500, batch_size=Xu.shape[0],
                                     schedule=StepDecay(0.5, 1500, 0.01)))
    assert split_loss(model, Xu, Yu) < 0.05


@pytest.mark.parametrize("backend", ["auto", "autograd"])
def test_seeded_training_is_reproducible_bit_for_bit(toy, backend):
    if not hasattr(TrainConfig, "backend") and backend != "auto":
        pytest.skip("TrainConfig has no backend choice")
    vocab, X, Y = toy
    cfg = MLPConfig(vocab_size=len(vocab), n_hidden=32)
    extra = {"backend": backend} if hasattr(TrainConfig, "backend") else {}
    tcfg = TrainConfig(steps=300, batch_size=8, schedule=StepDecay(0.1, 200, 0.01), **extra)
    runs = []
    for _ in range(2):
        model = MLP(cfg)
        losses = train(model, X, Y, tcfg)
        runs.append((losses, [p.detach().clone() for p in model.parameters()]))
    (l1, p1), (l2, p2) = runs
    assert torch.equal(l1, l2)
    assert all(torch.equal(a, b) for a, b in zip(p1, p2, strict=True))
    other = MLP(cfg)
    assert not torch.equal(train(other, X, Y, TrainConfig(**{**tcfg.__dict__, "seed": 1})), l1)


def test_lr_finder_is_seeded_and_steps_once_per_exponent(toy):
    vocab, X, Y = toy
    cfg = MLPConfig(vocab_size=len(vocab), n_hidden=32)
    exps = torch.linspace(-3, 0, 50)
    tcfg = TrainConfig(seed=7, batch_size=8)
    e1, l1 = lr_finder(MLP(cfg), X, Y, exps, tcfg)
    e2, l2 = lr_finder(MLP(cfg), X, Y, exps, tcfg)
    assert torch.equal(l1, l2) and l1.shape == (50,)
    torch.testing.assert_close(e1, exps.double())
    # the first loss is the untrained model's loss on the first seeded minibatch
    g = torch.Generator().manual_seed(7)
    ix = torch.randint(0, X.shape[0], (50, 8), generator=g)[0]
    assert l1[0].item() == pytest.approx(F.cross_entropy(MLP(cfg)(X[ix]), Y[ix]).item(), rel=1e-6)


def test_split_losses_leave_the_test_split_alone(toy_words):
    splits = make_splits(toy_words * 3, block_size=3)
    model = MLP(MLPConfig(vocab_size=len(splits.vocab)))
    losses = split_losses(model, splits)
    assert set(losses) == {"train", "dev"}
    assert losses["dev"] == pytest.approx(split_loss(model, splits.Xdev, splits.Ydev))


# ---------------------------------------------------------------------------- sampling
class Speller:
    """A context model that is not an MLP: it spells `word`, then says '.' forever."""

    block_size = 3

    def __init__(self, vocab: Vocab, word: str):
        self.V = len(vocab)
        X, Y = context_windows([word], vocab, self.block_size)
        self.next = {tuple(x): y for x, y in zip(X.tolist(), Y.tolist(), strict=True)}
        self.training = True

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        logits = torch.full((X.shape[0], self.V), float("-inf"))
        for i, x in enumerate(X.tolist()):
            logits[i, self.next.get(tuple(x), 0)] = 0.0
        return logits

    def eval(self):
        self.training = False

    def train(self, mode: bool = True):
        self.training = mode


def test_sampling_stops_at_the_first_dot(toy):
    vocab, _, _ = toy
    speller = Speller(vocab, "emma")
    assert sample(speller, vocab, 5, torch.Generator().manual_seed(0)) == ["emma"] * 5
    assert speller.training  # put back in the mode it was in


def test_sampling_caps_a_word_that_never_ends(toy):
    vocab, _, _ = toy

    class Chatter(Speller):
        def __call__(self, X):
            logits = torch.zeros((X.shape[0], self.V))
            logits[:, 0] = float("-inf")  # never '.'
            return logits

    words = sample(Chatter(vocab, "a"), vocab, 4, torch.Generator().manual_seed(0), max_len=9)
    assert [len(w) for w in words] == [9] * 4 and all("." not in w for w in words)


def test_sampling_an_mlp_is_seeded_and_has_no_dots(toy):
    vocab, _, _ = toy
    model = MLP(MLPConfig(vocab_size=len(vocab), n_hidden=32))
    a = sample(model, vocab, 20, torch.Generator().manual_seed(3))
    b = sample(model, vocab, 20, torch.Generator().manual_seed(3))
    assert a == b and len(a) == 20
    assert all("." not in w and len(w) <= 50 for w in a)
    assert all(set(w) <= set(vocab.itos) for w in a)
    with pytest.raises(ValueError):
        sample(model, vocab, 1, temperature=0.0)
