"""Backpropagation through time written by hand (makemore.recurrent_manual) against autograd
in float64: each cell over a whole minibatch, the whole step, and 50 steps of training, which
must take the autograd path's steps."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from random_weights import randomize

from makemore.data import Vocab
from makemore.recurrent import RNN, BoW, RecurrentConfig
from makemore.recurrent_manual import ManualGRUCell, ManualRNNCell, RecurrentStep
from makemore.sequences import IGNORE, padded_words, trim_padding
from makemore.training import AutogradStep, Constant, TrainConfig, train, training_step

DT = torch.float64
B, T, V = 4, 7, 11
CELLS = ["rnn", "gru"]


def _model(cell: str, seed: int = 0) -> RNN:
    config = RecurrentConfig(vocab_size=V, block_size=9, n_embd=6, n_embd2=5, seed=seed)
    return randomize(RNN(config, cell).double(), seed=seed + 1)


def _close(got, want, what=""):
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12, msg=what)


@pytest.mark.parametrize("cell", CELLS)
def test_cell_over_all_positions(cell):
    model = _model(cell)
    ref = copy.deepcopy(model)
    g = torch.Generator().manual_seed(2)
    E, H = 6, 5
    emb = torch.randn(T, B, E, generator=g, dtype=DT)  # time-major: position t of every word
    dh = torch.randn(T * B, H, generator=g, dtype=DT)
    piece = (ManualGRUCell if cell == "gru" else ManualRNNCell)(model)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    piece.bind_grads()
    piece.prepare(B, T, B * T, emb)
    with torch.no_grad():
        hidden = piece.fwd(emb).clone()
        demb = piece.bwd(dh.clone())
    er = emb.clone().requires_grad_(True)
    h, hiddens = ref.start.expand(B, -1), []
    for t in range(T):  # the model's own loop, one cell call per position
        h = ref.cell(er[t], h)
        hiddens.append(h)
    want = torch.stack(hiddens).view(T * B, H)
    (want * dh).sum().backward()
    _close(hidden, want.detach())
    _close(demb, er.grad.view(T * B, E))
    for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        if name != "wte.weight" and not name.startswith("lm_head"):
            _close(p.grad, q.grad, name)


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randint(0, V, (B, 9), generator=g), torch.randint(0, V, (B, 9), generator=g)
    for b, n in enumerate((7, 3, 5, 1)):
        y[b, n:] = IGNORE  # words of different lengths: two columns of padding to trim
    y[2, 1] = IGNORE  # a target left out inside a word
    return x, y


@pytest.mark.parametrize("cell", CELLS)
def test_step_matches_autograd(cell):
    model = _model(cell)
    ref = copy.deepcopy(model)
    x, y = _batch()
    step = model.manual_step(TrainConfig())
    assert isinstance(step, RecurrentStep)
    with torch.no_grad():
        loss = step.step(x, y)
    xt, yt = trim_padding(x, y)
    assert xt.shape[1] == T
    want = F.cross_entropy(ref(x).reshape(-1, V), y.reshape(-1), ignore_index=IGNORE)
    want.backward()  # the full width: trimming changes nothing
    assert abs(loss.item() - want.item()) < 1e-12
    for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        _close(p.grad, q.grad, name)


@pytest.mark.parametrize("cell", CELLS)
def test_fifty_steps_of_adamw_are_the_autograd_paths(cell):
    words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "ella", "ada",
             "bo", "charlotte", "luna", "zoe", "eve"]
    vocab = Vocab.from_words(words)
    X, Y = padded_words(words, vocab, block_size=12)
    cfg = TrainConfig(steps=50, batch_size=5, optimizer="adamw", schedule=Constant(1e-2),
                      weight_decay=0.1, seed=5)
    losses = {}
    for backend in ("auto", "autograd"):
        model = RNN(RecurrentConfig(vocab_size=len(vocab), block_size=12, n_embd=8, n_embd2=8,
                                    seed=6), cell).double()
        path = training_step(model, TrainConfig(backend=backend))
        assert isinstance(path, RecurrentStep if backend == "auto" else AutogradStep)
        seen: list[float] = []
        callback = lambda step, lr, loss, seen=seen: seen.append(loss.item())  # noqa: E731
        callback.reads_grads = False
        train(model, X, Y, TrainConfig(**{**cfg.__dict__, "backend": backend}), callback)
        losses[backend] = torch.tensor(seen, dtype=DT)
    torch.testing.assert_close(losses["auto"], losses["autograd"], rtol=1e-9, atol=0)
    assert losses["auto"][-1] < losses["auto"][0] - 0.5  # it did train


def test_which_models_and_recipes_get_the_manual_step():
    small = RecurrentConfig(vocab_size=V, block_size=9, n_embd=6, n_embd2=5)
    for cell in CELLS:
        model = RNN(small, cell)
        assert isinstance(training_step(model, TrainConfig(optimizer="adamw")), RecurrentStep)
        assert isinstance(training_step(model, TrainConfig(l2=0.1)), AutogradStep)
        handle = model.cell.register_forward_hook(lambda *a: None)  # someone is watching
        assert isinstance(training_step(model, TrainConfig()), AutogradStep)
        handle.remove()
    assert isinstance(training_step(BoW(small), TrainConfig()), AutogradStep)
