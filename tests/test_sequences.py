"""Padded word sequences, the per-character loss over a split, the training step, sampling."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from makemore.data import Vocab, context_windows
from makemore.recurrent import RNN, BoW, RecurrentConfig
from makemore.recurrent_manual import RecurrentStep
from makemore.sampling import sample
from makemore.sequences import IGNORE, WordModel, padded_words, trim_padding
from makemore.training import (
    AutogradStep,
    Constant,
    StepDecay,
    TrainConfig,
    split_loss,
    train,
    training_step,
)
from makemore.transformer import Transformer, TransformerConfig
from makemore.transformer_manual import TransformerStep

ALPHABET = Vocab.from_words(["abcdefghijklmnopqrstuvwxyz"])


def _tiny_transformer(vocab_size: int, block_size: int, seed: int = 0) -> Transformer:
    cfg = TransformerConfig(vocab_size=vocab_size, block_size=block_size, n_layer=2, n_head=2,
                            n_embd=16, seed=seed)
    return Transformer(cfg)


class Lookup(nn.Module):
    """A causal model whose logits at t depend on idx[:, t] alone: a bigram table."""

    def __init__(self, V: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.table = nn.Parameter(torch.randn(V, V, generator=g))

    def forward(self, idx):
        return self.table[idx]  # (B, T, V)


# -----------------------------------------------------------------------------
# the data


def test_padded_words_layout():
    X, Y = padded_words(["emma", "bo"], ALPHABET, block_size=8)
    assert X.dtype == Y.dtype == torch.long and X.shape == Y.shape == (2, 8)
    # e=5, m=13, a=1, b=2, o=15 ('.' is 0)
    assert X[0].tolist() == [0, 5, 13, 13, 1, 0, 0, 0]
    assert Y[0].tolist() == [5, 13, 13, 1, 0, -1, -1, -1]
    assert X[1].tolist() == [0, 2, 15, 0, 0, 0, 0, 0]
    assert Y[1].tolist() == [2, 15, 0, -1, -1, -1, -1, -1]
    assert IGNORE == -1


def test_padded_words_default_width_and_too_long(toy_words):
    vocab = Vocab.from_words(toy_words)
    X, Y = padded_words(toy_words, vocab)
    T = max(len(w) for w in toy_words) + 1
    assert X.shape == Y.shape == (len(toy_words), T)
    assert (Y[:, -1] != IGNORE).sum() == 1  # only the longest word reaches the last column
    with pytest.raises(ValueError, match="block_size"):
        padded_words(toy_words, vocab, block_size=T - 1)


def test_targets_are_the_context_windows_targets(toy_words):
    """The non-ignored targets are, word by word, exactly what the context windows predict."""
    vocab = Vocab.from_words(toy_words)
    X, Y = padded_words(toy_words, vocab, block_size=12)
    _, Ycw = context_windows(toy_words, vocab, block_size=3)
    assert Y[Y != IGNORE].tolist() == Ycw.tolist()  # row-major order = word by word
    # ... and each input row is '.' followed by the targets, shifted by one
    for x, y in zip(X, Y, strict=True):
        n = int((y != IGNORE).sum())
        assert x[0] == 0 and x[1:n].tolist() == y[:n - 1].tolist() and (x[n:] == 0).all()


def test_trim_padding_drops_only_ignored_columns():
    X, Y = padded_words(["ava", "bo", "emma"], ALPHABET, block_size=10)
    Xt, Yt = trim_padding(X, Y)
    assert Xt.shape == Yt.shape == (3, 5)  # "emma" + end needs 5 positions
    assert torch.equal(Xt, X[:, :5]) and torch.equal(Yt, Y[:, :5])
    assert (Y[:, 5:] == IGNORE).all()


def test_trim_padding_keeps_the_loss_of_a_causal_model(toy_words):
    vocab = Vocab.from_words(toy_words)
    X, Y = padded_words(toy_words[:4], vocab, block_size=16)
    model = _tiny_transformer(len(vocab), 16)
    Xt, Yt = trim_padding(X, Y)
    assert Xt.shape[1] < X.shape[1]
    torch.testing.assert_close(split_loss(model, Xt, Yt), split_loss(model, X, Y))


# -----------------------------------------------------------------------------
# the loss over a split: makemore.training.split_loss, on padded words


def test_split_loss_is_the_mean_over_characters(toy_words):
    """Against an independent loop: each word alone, unpadded, log-probabilities in float64.
    The mean runs over characters, so a long word weighs more than a short one."""
    vocab = Vocab.from_words(toy_words)
    model = _tiny_transformer(len(vocab), 12).eval()
    X, Y = padded_words(toy_words, vocab, block_size=12)
    nlls, word_means = [], []
    with torch.no_grad():
        for w in toy_words:
            ix = vocab.encode(w)
            x = torch.tensor([[0, *ix]])  # (1, n+1): '.' then the word, no padding
            logp = F.log_softmax(model(x)[0].double(), dim=-1)  # (n+1, V)
            word = [-logp[t, c].item() for t, c in enumerate([*ix, 0])]
            nlls += word
            word_means.append(sum(word) / len(word))
    expected = sum(nlls) / len(nlls)
    assert split_loss(model, X, Y) == pytest.approx(expected, abs=1e-6)
    # a mean of per-word means is another number: the oracle can tell them apart
    assert abs(expected - sum(word_means) / len(word_means)) > 1e-3


def test_split_loss_equals_the_context_window_loss(toy_words):
    """A bigram table scored on padded words and on the earlier chapters' context windows of
    the same words gives the same per-character loss."""
    vocab = Vocab.from_words(toy_words)
    model = Lookup(len(vocab))
    X, Y = padded_words(toy_words, vocab)
    Xcw, Ycw = context_windows(toy_words, vocab, block_size=1)
    with torch.no_grad():
        windows = F.cross_entropy(model.table[Xcw[:, -1]].double(), Ycw).item()
    assert split_loss(model, X, Y) == pytest.approx(windows, abs=1e-6)


# -----------------------------------------------------------------------------
# the training step


@pytest.mark.parametrize("kind", ["transformer", "rnn", "bow"])
def test_sequence_models_train_on_their_steps(kind):
    """The Transformer and the RNN train on their hand-written backward; the bag of words, and
    any of them on the autograd backend or with an l2 penalty, on the loop's autograd step,
    which asks the model to cut each minibatch to its longest word."""
    V, T = 11, 9
    small = RecurrentConfig(vocab_size=V, block_size=T, n_embd=8, n_embd2=8)
    model = {"transformer": lambda: _tiny_transformer(V, T), "rnn": lambda: RNN(small),
             "bow": lambda: BoW(small)}[kind]()
    assert isinstance(model, WordModel)
    expected = {"transformer": TransformerStep, "rnn": RecurrentStep, "bow": AutogradStep}[kind]
    assert isinstance(training_step(model, TrainConfig(optimizer="adamw")), expected)
    for cfg in (TrainConfig(backend="autograd"), TrainConfig(l2=0.1)):
        step = training_step(model, cfg)
        assert isinstance(step, AutogradStep) and step.prepare == trim_padding


def _untrimmed(model: WordModel) -> WordModel:
    model.prepare_batch = None  # the loop's plain step: every minibatch at the full width
    return model


def test_trimmed_steps_are_the_plain_steps(toy_words):
    """Without dropout, training on trimmed minibatches takes the steps of the plain autograd
    step on the full width (up to float rounding of the shorter matrices). Plain SGD: AdamW
    would blow the rounding noise of a gradient that is zero in exact arithmetic (the key
    bias: softmax ignores a shift shared by a whole row of scores) up to full-size steps."""
    vocab = Vocab.from_words(toy_words)
    X, Y = padded_words(toy_words, vocab, block_size=16)  # 7 columns of padding at least
    cfg = TrainConfig(steps=30, batch_size=4, schedule=StepDecay(0.5, 30, 0.01), seed=3)
    trimmed = _tiny_transformer(len(vocab), 16)
    plain = _untrimmed(_tiny_transformer(len(vocab), 16))
    l_trimmed, l_plain = train(trimmed, X, Y, cfg), train(plain, X, Y, cfg)
    torch.testing.assert_close(l_trimmed, l_plain, rtol=0, atol=1e-5)
    for a, b in zip(trimmed.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_a_trimmed_step_has_the_gradient_of_the_full_width():
    X, Y = padded_words(["ava", "bo", "emma"], ALPHABET, block_size=12)
    assert X.shape[1] > trim_padding(X, Y)[0].shape[1]
    grads = []
    for model in (_tiny_transformer(len(ALPHABET), 12).double(),
                  _untrimmed(_tiny_transformer(len(ALPHABET), 12).double())):
        loss = AutogradStep(model, TrainConfig(seed=0)).step(X, Y)
        grads.append((loss, [p.grad for p in model.parameters()]))
    torch.testing.assert_close(grads[0][0], grads[1][0])
    for a, b in zip(grads[0][1], grads[1][1], strict=True):
        torch.testing.assert_close(a, b)


def test_dropout_draws_from_its_own_seeded_stream(toy_words):
    """Same seed, same run, whatever the global random state; another seed, another run; the
    caller's global state is left as it was."""
    vocab = Vocab.from_words(toy_words)
    X, Y = padded_words(toy_words, vocab, block_size=12)
    cfg = dict(vocab_size=len(vocab), block_size=12, n_layer=1, n_head=2, n_embd=16,
               dropout=0.3)

    def run(seed, global_seed):
        torch.manual_seed(global_seed)
        model = Transformer(TransformerConfig(**cfg, seed=0))
        losses = train(model, X, Y, TrainConfig(steps=20, batch_size=4, optimizer="adamw",
                                                schedule=Constant(1e-2), seed=seed))
        return losses, torch.random.get_rng_state()

    (a, state_a), (b, _), (c, _) = run(5, 0), run(5, 1), run(6, 0)
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(0)
    assert torch.equal(state_a, torch.random.get_rng_state())  # global stream untouched


# -----------------------------------------------------------------------------
# sampling


def test_sampling_is_deterministic_for_a_seed(toy_words):
    vocab = Vocab.from_words(toy_words)
    model = _tiny_transformer(len(vocab), 9)
    a = sample(model, vocab, 12, generator=torch.Generator().manual_seed(7))
    b = sample(model, vocab, 12, generator=torch.Generator().manual_seed(7))
    c = sample(model, vocab, 12, generator=torch.Generator().manual_seed(8))
    assert a == b and a != c
    assert len(a) == 12
    assert all(len(w) <= 8 and set(w) <= set(vocab.itos[1:]) for w in a)


def test_greedy_top1_and_cold_temperature_agree(toy_words):
    """top_k=1 leaves one character to draw, a temperature near 0 all but one: both are the
    argmax, computed here by hand."""
    vocab = Vocab.from_words(toy_words)
    model = _tiny_transformer(len(vocab), 9).eval()
    idx = torch.zeros((3, 1), dtype=torch.long)
    with torch.no_grad():
        for _ in range(8):
            idx = torch.cat([idx, model(idx)[:, -1].argmax(-1, keepdim=True)], dim=1)
    greedy = [vocab.decode(row[1:row.index(0, 1)] if 0 in row[1:] else row[1:])
              for row in idx.tolist()]
    g = torch.Generator().manual_seed(0)
    assert sample(model, vocab, 3, generator=g, top_k=1) == greedy
    assert sample(model, vocab, 3, generator=g, temperature=1e-4) == greedy


class Fixed(WordModel):
    """A sequence model whose next-character logits are always `logits`."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits, self.block_size = logits, 4

    def forward(self, idx):
        return self.logits.expand(idx.shape[0], idx.shape[1], len(self.logits))


def test_top_k_only_draws_from_the_k_most_likely():
    """A fixed next-character distribution: with top_k=2 only its two most likely come out."""
    vocab = Vocab(itos=tuple(".abcde"))
    model = Fixed(torch.tensor([-9.0, 3.0, 2.9, 1.0, 0.5, 0.2]))
    words = sample(model, vocab, 200, generator=torch.Generator().manual_seed(0), top_k=2)
    assert {w[0] for w in words} == {"a", "b"}
    words = sample(model, vocab, 200, generator=torch.Generator().manual_seed(0))
    assert len({w[0] for w in words}) > 2


# -----------------------------------------------------------------------------
# every sequence model can use the whole prefix


def _prefix_floor(words: list[str]) -> float:
    """The lowest per-character loss any model can reach on `words`: -log of the empirical
    probability of each next character given the whole prefix before it."""
    following: dict[str, Counter] = defaultdict(Counter)
    for w in words:
        for t, c in enumerate(w + "."):
            following[w[:t]][c] += 1
    nll = [-math.log(following[w[:t]][c] / sum(following[w[:t]].values()))
           for w in words for t, c in enumerate(w + ".")]
    return sum(nll) / len(nll)


@pytest.mark.parametrize("kind", ["transformer", "rnn", "gru", "bow"])
def test_sequence_models_learn_down_to_the_prefix_floor(toy_words, kind):
    """Trained on ten names, each model's loss approaches the floor set by the whole prefix
    (a bigram table stays far above it): they all read more than the last character."""
    vocab = Vocab.from_words(toy_words)
    X, Y = padded_words(toy_words, vocab)
    V, T = len(vocab), X.shape[1]
    small = RecurrentConfig(vocab_size=V, block_size=T, n_embd=16, n_embd2=32)
    model = {
        "transformer": lambda: Transformer(TransformerConfig(vocab_size=V, block_size=T,
                                                             n_layer=2, n_head=2, n_embd=32)),
        "rnn": lambda: RNN(small, "rnn"),
        "gru": lambda: RNN(small, "gru"),
        "bow": lambda: BoW(small),
    }[kind]()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(100):
        logits = model(X)
        loss = F.cross_entropy(logits.flatten(0, 1), Y.flatten(), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
    floor = _prefix_floor(toy_words)
    bigram = Lookup(V)
    counts = torch.zeros(V, V)
    counts.index_put_((X[Y != IGNORE], Y[Y != IGNORE]), torch.ones(()), accumulate=True)
    with torch.no_grad():
        bigram.table.copy_(counts.add(1e-9).log())  # the best bigram: its own frequencies
    assert split_loss(bigram, X, Y) > floor + 0.3
    assert split_loss(model, X, Y) < floor + 0.05
