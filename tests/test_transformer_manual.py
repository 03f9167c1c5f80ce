"""The Transformer's hand-written backward (makemore.transformer_manual) against autograd in
float64: piece by piece (train and eval mode, dropout with the same masks), the whole step for
several configurations, and 50 steps of training, which must take the autograd path's steps.
A wrong sign or a missing term shows up as a difference of order one; rounding in float64 stays
below 1e-9."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from random_weights import randomize
from torch import nn

from makemore import transformer_manual as tm
from makemore.data import Vocab
from makemore.sequences import IGNORE, padded_words
from makemore.training import AutogradStep, Constant, TrainConfig, train, training_step
from makemore.transformer import (
    Block,
    CausalSelfAttention,
    FeedForward,
    LayerNorm,
    NewGELU,
    Transformer,
    TransformerConfig,
)

DT = torch.float64
B, T, V = 4, 7, 11


def _config(**kw) -> TransformerConfig:
    return TransformerConfig(**{"vocab_size": V, "block_size": 9, "n_layer": 2, "n_head": 2,
                                "n_embd": 16, **kw})


def _targets(seed: int = 0) -> torch.Tensor:
    """(B, T) targets: words of different lengths (-1 after each), one -1 inside a word."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, V, (B, T), generator=g)
    for b, n in enumerate((7, 3, 5, 1)):
        y[b, n:] = IGNORE
    y[2, 1] = IGNORE  # a target left out in the middle: the positions after still count
    return y


def _close(got, want, what=""):
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12, msg=what)


class FixedMask(nn.Module):
    """A dropout whose mask is given: the reference path applies the manual path's masks."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.mask = mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask


def _on_grid(mask: torch.Tensor, rows: torch.Tensor, C: int) -> torch.Tensor:
    """A mask of the kept rows, (N, C), on the (B, T, C) grid (1 elsewhere)."""
    grid = torch.ones(B * T, C, dtype=mask.dtype)
    grid[rows] = mask
    return grid.view(B, T, C)


def _prepare(piece: tm.Piece, module: nn.Module, N: int) -> None:
    for p in module.parameters():
        p.grad = torch.zeros_like(p)
    piece.bind_grads()
    piece.prepare(B, T, N, torch.empty(0, dtype=DT))


def _grads(module: nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in module.parameters()]


def _reference_grads(module: nn.Module, out: torch.Tensor, dout: torch.Tensor):
    for p in module.parameters():
        p.grad = None
    (out * dout).sum().backward()
    return _grads(module)


# -----------------------------------------------------------------------------
# the pieces that work on rows


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    lin = randomize(nn.Linear(6, 5, bias=bias).double())
    ref = copy.deepcopy(lin)
    g = torch.Generator().manual_seed(1)
    x, dout = torch.randn(9, 6, generator=g, dtype=DT), torch.randn(9, 5, generator=g, dtype=DT)
    xr = x.clone().requires_grad_(True)
    out = ref(xr)
    want = _reference_grads(ref, out, dout)
    piece = tm.ManualLinear(lin)
    _prepare(piece, lin, 9)
    with torch.no_grad():
        _close(piece.fwd(x), out.detach())
        _close(piece.bwd(dout), xr.grad)
    for got, w in zip(_grads(lin), want, strict=True):
        _close(got, w)


@pytest.mark.parametrize("module", ["layernorm", "layernorm-nobias", "layernorm-fused", "gelu"])
def test_layernorm_and_gelu(module):
    C = 16
    made = {"layernorm": lambda: LayerNorm(C), "layernorm-nobias": lambda: LayerNorm(C, False),
            "layernorm-fused": lambda: LayerNorm(C, fused=True), "gelu": lambda: NewGELU()}
    mod = randomize(made[module]().double())
    ref = copy.deepcopy(mod)
    g = torch.Generator().manual_seed(2)
    x = 2 * torch.randn(9, C, generator=g, dtype=DT)
    dout = torch.randn(9, C, generator=g, dtype=DT)
    xr = x.clone().requires_grad_(True)
    out = ref(xr)
    want = _reference_grads(ref, out, dout)
    piece = tm.ManualGELU(C, x) if module == "gelu" else tm.ManualLayerNorm(mod)
    _prepare(piece, mod, 9)
    with torch.no_grad():
        _close(piece.fwd(x), out.detach())
        _close(piece.bwd(dout.clone()), xr.grad)
    for got, w in zip(_grads(mod), want, strict=True):
        _close(got, w)


def test_layernorm_backward_can_add_into_the_residual_gradient():
    ln = randomize(LayerNorm(16).double())
    piece = tm.ManualLayerNorm(ln)
    _prepare(piece, ln, 9)
    g = torch.Generator().manual_seed(3)
    x, dout = torch.randn(9, 16, generator=g, dtype=DT), torch.randn(9, 16, generator=g, dtype=DT)
    stream = torch.randn(9, 16, generator=g, dtype=DT)
    with torch.no_grad():
        piece.fwd(x)
        dx = piece.bwd(dout.clone()).clone()
        piece.fwd(x)
        _close(piece.bwd(dout.clone(), add_to=stream.clone()), stream + dx)


def test_dropout_masks_come_from_the_generator():
    drop = nn.Dropout(0.25).double()
    pieces = [tm.ManualDropout(drop, torch.Generator().manual_seed(5), lambda b, t, n: (n, 8))
              for _ in range(2)]
    g = torch.Generator().manual_seed(4)
    x, dy = torch.randn(50, 8, generator=g, dtype=DT), torch.randn(50, 8, generator=g, dtype=DT)
    with torch.no_grad():
        for piece in pieces:
            piece.prepare(1, 50, 50, x)
        y = pieces[0].fwd(x)
        mask = pieces[0].m["mask"]
        assert set(mask.unique().tolist()) == {0.0, 1 / 0.75}  # kept ones scaled up
        assert 0.1 < (mask == 0).double().mean() < 0.4
        _close(y, x * mask)
        _close(pieces[0].bwd(dy), dy * mask)
        assert torch.equal(pieces[1].fwd(x), y)  # the same seed, the same mask
        drop.eval()
        assert pieces[0].fwd(x) is x and pieces[0].bwd(dy) is dy


# -----------------------------------------------------------------------------
# attention, the MLP, the block: rows kept, masks shared


def _masks_of(piece: tm.Piece) -> list[tm.ManualDropout]:
    found = [piece] if isinstance(piece, tm.ManualDropout) else []
    for child in piece.children():
        found += _masks_of(child)
    return found


def _dropouts_of(module: nn.Module) -> list[tuple[nn.Module, str]]:
    """(parent, attribute) of every nn.Dropout, in the manual pieces' order."""
    return [(parent, name) for parent in module.modules()
            for name, child in parent.named_children() if isinstance(child, nn.Dropout)]


def _apply_masks(ref: nn.Module, drops: list[tm.ManualDropout], rows: torch.Tensor) -> None:
    for (parent, name), piece in zip(_dropouts_of(ref), drops, strict=True):
        if piece.on:
            mask = piece.m["mask"]
            if piece.rows:
                mask = _on_grid(mask, rows, mask.shape[1])
            else:  # attention weights, (B * nh, T, T)
                mask = mask.view(B, -1, T, T)
            setattr(parent, name, FixedMask(mask))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kind,kw", [
    ("attention", {}), ("attention", {"bias": False}), ("attention", {"scale_attn": False}),
    ("mlp", {}), ("block", {}), ("block", {"bias": False}),
])
def test_pieces_match_autograd(kind, kw, training):
    config = _config(dropout=0.3, **kw)
    made = {"attention": (CausalSelfAttention, tm.ManualAttention),
            "mlp": (FeedForward, tm.ManualMLP), "block": (Block, tm.ManualBlock)}
    module_type, piece_type = made[kind]
    module = randomize(module_type(config).double()).train(training)
    ref = copy.deepcopy(module)
    piece = piece_type(module, torch.Generator().manual_seed(6))
    rows = tm.kept_rows(_targets())
    N, C = rows.numel(), config.n_embd
    g = torch.Generator().manual_seed(7)
    x = torch.randn(B, T, C, generator=g, dtype=DT)
    dout = torch.randn(N, C, generator=g, dtype=DT)
    _prepare(piece, module, N)
    with torch.no_grad():
        args = () if kind == "mlp" else (rows,)
        y = piece.fwd(x.view(-1, C)[rows], *args).clone()
        dx = piece.bwd(dout.clone()).clone()
    drops = _masks_of(piece)
    assert all(d.on == training for d in drops)
    _apply_masks(ref, drops, rows)
    xr = x.clone().requires_grad_(True)
    out = ref(xr).view(-1, C)[rows]  # the kept rows
    want = _reference_grads(ref, out, dout)
    _close(y, out.detach())
    _close(dx, xr.grad.view(-1, C)[rows])
    assert (xr.grad.view(-1, C)[_left_out(rows)] == 0).all()  # the padding: no gradient
    for got, w, (name, _) in zip(_grads(module), want, module.named_parameters(), strict=True):
        _close(got, w, name)


def _left_out(rows: torch.Tensor) -> torch.Tensor:
    keep = torch.zeros(B * T, dtype=torch.bool)
    keep[rows] = True
    return (~keep).nonzero().squeeze(1)


def test_kept_rows_are_each_words_prefix_rounded_up():
    y = _targets()
    rows = tm.kept_rows(y)
    keep = torch.zeros(B * T, dtype=torch.bool)
    keep[rows] = True
    keep = keep.view(B, T)
    counted = y != IGNORE
    assert (keep | ~counted).all()  # every target is kept
    assert rows.numel() % tm.ROWS_MULTIPLE == 0 or rows.numel() == B * T
    for b in range(B):  # a prefix of each word, at least up to its last target
        n = int(keep[b].sum())
        assert keep[b, :n].all() and n >= int(counted[b].nonzero().max()) + 1
    assert tm.kept_rows(y, multiple=1).numel() == 7 + 3 + 5 + 1


def test_cross_entropy():
    y = _targets()
    rows = tm.kept_rows(y)
    logits = torch.randn(rows.numel(), V, generator=torch.Generator().manual_seed(8), dtype=DT)
    ce = tm.ManualCrossEntropy(V)
    ce.prepare(B, T, rows.numel(), logits)
    with torch.no_grad():
        ce.targets(y.view(-1)[rows])
        loss, dlogits = ce.fwd(logits), ce.bwd()
    lr = logits.clone().requires_grad_(True)
    want = F.cross_entropy(lr, y.view(-1)[rows], ignore_index=IGNORE)  # the same n targets
    want.backward()
    _close(loss, want.detach())
    _close(dlogits, lr.grad)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_embedding(training):
    model = randomize(Transformer(_config(dropout=0.3, seed=1)).double()).train(training)
    rows = tm.kept_rows(_targets())
    N, C = rows.numel(), model.config.n_embd
    g = torch.Generator().manual_seed(9)
    idx = torch.randint(0, V, (B, T), generator=g)
    dout = torch.randn(N, C, generator=g, dtype=DT)
    emb = tm.ManualEmbedding(model, torch.Generator().manual_seed(10))
    _prepare(emb, model, N)
    with torch.no_grad():
        x = emb.fwd(idx.view(-1)[rows], rows % T).clone()
        emb.bwd(dout)
    got = [model.wte.weight.grad.clone(), model.wpe.weight.grad.clone()]
    if training:
        model.drop = FixedMask(_on_grid(emb.drop.m["mask"], rows, C))
    model.wte.weight.grad = model.wpe.weight.grad = None
    out = model.embed(idx).view(-1, C)[rows]
    (out * dout).sum().backward()
    want = [model.wte.weight.grad, model.wpe.weight.grad]
    _close(x, out.detach())
    for name, p, w in zip(("wte", "wpe"), got, want, strict=True):
        _close(p, w, name)


# -----------------------------------------------------------------------------
# the whole step


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 9) indices and targets: T = 7 columns with targets, 2 of padding to trim."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, V, (B, 9), generator=g)
    y = torch.full((B, 9), IGNORE)
    y[:, :T] = _targets(seed)
    return x, y


CONFIGS = {"default": {}, "no-bias": {"bias": False}, "no-pos-emb": {"pos_emb": False},
           "no-scale": {"scale_attn": False}, "gpt2-init": {"init": "gpt2"},
           "fused": {"fused": True}, "dropout": {"dropout": 0.2}}


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_step_matches_autograd(name, training):
    model = randomize(Transformer(_config(**CONFIGS[name], seed=2)).double(), seed=3)
    model.train(training)
    ref = copy.deepcopy(model)
    x, y = _batch()
    step = model.manual_step(TrainConfig(seed=4))
    assert isinstance(step, tm.TransformerStep)
    with torch.no_grad():
        loss = step.step(x, y)
    rows = tm.kept_rows(y[:, :T])
    drops = [d for piece in step.pieces for d in _masks_of(piece)]
    assert sum(d.on for d in drops) == (3 * 2 + 1 if training and name == "dropout" else 0)
    _apply_masks(ref, drops, rows)
    want = F.cross_entropy(ref(x[:, :T]).reshape(-1, V), y[:, :T].reshape(-1),
                           ignore_index=IGNORE)  # the trimmed width: dropout masks fit it
    want.backward()
    assert abs(loss.item() - want.item()) < 1e-12
    for (pname, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        _close(p.grad, q.grad, pname)


@pytest.mark.parametrize("width", [15, 16, 17])
def test_attention_rows_of_any_width_match_autograd(width):
    """The softmax runs on rows padded to a multiple of 16 (15 and 17: padded; 16: not)."""
    model = randomize(Transformer(_config(block_size=width, seed=2)).double(), seed=3)
    ref = copy.deepcopy(model)
    g = torch.Generator().manual_seed(width)
    x = torch.randint(0, V, (B, width), generator=g)
    y = torch.randint(0, V, (B, width), generator=g)  # no padding: every row is width long
    with torch.no_grad():
        loss = model.manual_step(TrainConfig()).step(x, y)
    want = F.cross_entropy(ref(x).reshape(-1, V), y.reshape(-1))
    want.backward()
    assert abs(loss.item() - want.item()) < 1e-12
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        _close(p.grad, q.grad)


def test_trimming_and_leaving_out_the_padding_change_nothing():
    """Without dropout the step's gradient is the full padded width's."""
    model = randomize(Transformer(_config(seed=2)).double(), seed=3)
    ref = copy.deepcopy(model)
    x, y = _batch(1)
    with torch.no_grad():
        loss = model.manual_step(TrainConfig()).step(x, y)
    want = F.cross_entropy(ref(x).reshape(-1, V), y.reshape(-1), ignore_index=IGNORE)
    want.backward()
    assert abs(loss.item() - want.item()) < 1e-12
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        _close(p.grad, q.grad)


def _words() -> tuple[torch.Tensor, torch.Tensor, int]:
    words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "ella", "ada",
             "bo", "charlotte", "luna", "zoe", "eve"]
    vocab = Vocab.from_words(words)
    X, Y = padded_words(words, vocab, block_size=12)  # some padding left after each trim
    return X, Y, len(vocab)


def test_fifty_steps_of_adamw_are_the_autograd_paths():
    X, Y, vocab_size = _words()
    cfg = TrainConfig(steps=50, batch_size=5, optimizer="adamw", schedule=Constant(1e-2),
                      weight_decay=0.1, seed=5)
    losses = {}
    for backend in ("auto", "autograd"):
        model = Transformer(TransformerConfig(vocab_size=vocab_size, block_size=12, n_layer=2,
                                              n_head=2, n_embd=16, seed=6)).double()
        seen: list[float] = []
        callback = lambda step, lr, loss, seen=seen: seen.append(loss.item())  # noqa: E731
        callback.reads_grads = False
        path = training_step(model, TrainConfig(backend=backend))
        assert isinstance(path, tm.TransformerStep if backend == "auto" else AutogradStep)
        train(model, X, Y, TrainConfig(**{**cfg.__dict__, "backend": backend}), callback)
        losses[backend] = torch.tensor(seen, dtype=DT)
    torch.testing.assert_close(losses["auto"], losses["autograd"], rtol=1e-9, atol=0)
    assert losses["auto"][-1] < losses["auto"][0] - 0.5  # it did train


def test_a_callback_that_keeps_gradients_gets_fresh_ones():
    X, Y, vocab_size = _words()
    cfg = TrainConfig(steps=3, batch_size=4, optimizer="adamw", schedule=Constant(1e-2),
                      seed=1)
    kept = []
    model = Transformer(TransformerConfig(vocab_size=vocab_size, block_size=12, n_layer=1,
                                          n_head=2, n_embd=8, seed=0))
    train(model, X, Y, cfg, lambda s, lr, loss: kept.append(model.wte.weight.grad))
    assert len({id(g) for g in kept}) == 3 and not torch.equal(kept[0], kept[1])


def test_which_recipes_get_the_manual_step():
    model = Transformer(_config(seed=0))
    assert isinstance(training_step(model, TrainConfig(optimizer="adamw")), tm.TransformerStep)
    assert isinstance(training_step(model, TrainConfig()), tm.TransformerStep)  # SGD too
    assert isinstance(training_step(model, TrainConfig(l2=0.1)), AutogradStep)
    assert isinstance(training_step(model, TrainConfig(backend="autograd")), AutogradStep)
    handle = model.blocks[0].register_forward_hook(lambda *a: None)  # someone is watching
    assert isinstance(training_step(model, TrainConfig()), AutogradStep)
    handle.remove()
