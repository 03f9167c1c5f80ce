"""makemore.py's RNN, GRU and bag-of-words models against torch.nn and independent formulas."""

from __future__ import annotations

import pytest
import torch
from random_weights import randomize
from torch import nn

from makemore.recurrent import RNN, BoW, CausalBoW, GRUCell, RecurrentConfig, RNNCell

E, H, B, T, V = 5, 6, 4, 7, 11  # n_embd, n_embd2, batch, time, vocab


def _cfg(**kw) -> RecurrentConfig:
    return RecurrentConfig(**{"vocab_size": V, "block_size": T, "n_embd": E, "n_embd2": H, **kw})


def _xh(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, E, generator=g, dtype=torch.float64),
            torch.randn(B, H, generator=g, dtype=torch.float64))


# -----------------------------------------------------------------------------
# cells


def test_rnn_cell_matches_torch_rnncell():
    ours = randomize(RNNCell(_cfg()).double())
    ref = nn.RNNCell(E, H, nonlinearity="tanh").double()
    W, b = ours.xh_to_h.weight, ours.xh_to_h.bias  # (H, E + H): [x part | h part]
    with torch.no_grad():
        ref.weight_ih.copy_(W[:, :E])
        ref.weight_hh.copy_(W[:, E:])
        ref.bias_ih.copy_(b)
        ref.bias_hh.zero_()
    x, h = _xh()
    torch.testing.assert_close(ours(x, h), ref(x, h))


def _gru_reference(cell: GRUCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """makemore.py's GRU equations, float64, each matrix split into its x and h halves (no
    concatenation), written independently of the module's forward."""
    def gate(lin, hh):
        W, b = lin.weight.double(), lin.bias.double()
        return x @ W[:, :E].T + hh @ W[:, E:].T + b

    r = 1 / (1 + torch.exp(-gate(cell.xh_to_r, h)))
    z = 1 / (1 + torch.exp(-gate(cell.xh_to_z, h)))
    hbar = torch.tanh(gate(cell.xh_to_hbar, r * h))
    return h + z * (hbar - h)  # = (1 - z) h + z hbar


def test_gru_cell_matches_its_equations_in_float64():
    """torch.nn.GRUCell computes a different function (reset gate after the matrix product),
    so the general oracle is an independent float64 implementation of makemore.py's equations."""
    cell = randomize(GRUCell(_cfg()).double())
    x, h = _xh()
    torch.testing.assert_close(cell(x, h), _gru_reference(cell, x, h))


def _torch_gru_with_mapped_weights(cell: GRUCell) -> nn.GRUCell:
    """nn.GRUCell with gates (r, z, n) taken from ours; z negated (torch's z means 'keep')."""
    ref = nn.GRUCell(E, H).double()
    parts = [(cell.xh_to_r, 1.0), (cell.xh_to_z, -1.0), (cell.xh_to_hbar, 1.0)]
    with torch.no_grad():
        ref.weight_ih.copy_(torch.cat([s * lin.weight[:, :E] for lin, s in parts]))
        ref.weight_hh.copy_(torch.cat([s * lin.weight[:, E:] for lin, s in parts]))
        ref.bias_ih.copy_(torch.cat([s * lin.bias for lin, s in parts]))
        ref.bias_hh.zero_()
    return ref


def test_gru_cell_equals_torch_grucell_when_the_reset_gate_is_open():
    """With r = 1 the two forms coincide: then ours is nn.GRUCell with weights mapped. With a
    working reset gate they differ, which is why the test above uses the equations instead."""
    cell = randomize(GRUCell(_cfg()).double())
    x, h = _xh()
    ref = _torch_gru_with_mapped_weights(cell)
    assert not torch.allclose(cell(x, h), ref(x, h))  # reset before vs after the product
    with torch.no_grad():
        cell.xh_to_r.weight.zero_()
        cell.xh_to_r.bias.fill_(100.0)  # sigmoid(100) == 1.0 in float64
    ref = _torch_gru_with_mapped_weights(cell)
    torch.testing.assert_close(cell(x, h), ref(x, h))


# -----------------------------------------------------------------------------
# the models


def test_rnn_model_is_embedding_then_torch_rnn_then_linear():
    model = randomize(RNN(_cfg(), "rnn").double())
    ref = nn.RNN(E, H, batch_first=True).double()
    W, b = model.cell.xh_to_h.weight, model.cell.xh_to_h.bias
    with torch.no_grad():
        ref.weight_ih_l0.copy_(W[:, :E])
        ref.weight_hh_l0.copy_(W[:, E:])
        ref.bias_ih_l0.copy_(b)
        ref.bias_hh_l0.zero_()
    idx = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))
    h0 = model.start.expand(B, -1).unsqueeze(0).contiguous()  # (1, B, H): the learned start
    out, _ = ref(model.wte(idx), h0)  # (B, T, H)
    torch.testing.assert_close(model(idx), model.lm_head(out))


def test_gru_model_unrolls_the_equations():
    model = randomize(RNN(_cfg(), "gru").double())
    idx = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))
    emb = model.wte(idx)
    h = model.start.expand(B, -1)
    expected = []
    for t in range(T):
        h = _gru_reference(model.cell, emb[:, t], h)
        expected.append(model.lm_head(h))
    torch.testing.assert_close(model(idx), torch.stack(expected, 1))


def test_causal_bow_is_the_running_mean():
    x = torch.randn(B, T, E, generator=torch.Generator().manual_seed(0))
    counts = torch.arange(1, T + 1, dtype=x.dtype).view(1, T, 1)
    torch.testing.assert_close(CausalBoW(_cfg())(x), x.cumsum(1) / counts)
    torch.testing.assert_close(CausalBoW(_cfg())(x[:, :3]), x[:, :3].cumsum(1) / counts[:, :3])


def test_bow_model_forward_by_hand():
    model = randomize(BoW(_cfg()).double())
    idx = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))
    blk = model.context_block
    x = model.wte(idx) + model.wpe.weight[:T]
    x = x + x.cumsum(1) / torch.arange(1, T + 1, dtype=x.dtype).view(1, T, 1)
    x = x + blk.c_proj(torch.tanh(blk.c_fc(x)))
    torch.testing.assert_close(model(idx), model.lm_head(x))


@pytest.mark.parametrize("make", [lambda: RNN(_cfg(), "rnn"), lambda: RNN(_cfg(), "gru"),
                                  lambda: BoW(_cfg())], ids=["rnn", "gru", "bow"])
def test_models_are_causal(make):
    model = make().eval()
    idx = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        base = model(idx)
        assert base.shape == (B, T, V)
        for t in (0, 3, T - 1):
            idx2 = idx.clone()
            idx2[:, t] = (idx2[:, t] + 1) % V
            out = model(idx2)
            assert torch.equal(out[:, :t], base[:, :t])
            assert not torch.allclose(out[:, t], base[:, t])


def test_default_sizes_are_makemore_py_s():
    """n_embd = n_embd2 = 64 on 27 characters, block_size 16; parameter counts by formula."""
    n, n2, V27 = 64, 64, 27
    rnn = RNN(cell_type="rnn")
    gru = RNN(cell_type="gru")
    bow = BoW()
    common = n2 + V27 * n + (n2 * V27 + V27)  # start, wte, lm_head
    assert rnn.n_params() == common + (n + n2) * n2 + n2
    assert gru.n_params() == common + 3 * ((n + n2) * n2 + n2)
    assert bow.n_params() == V27 * n + 16 * n + (n * n2 + n2) + (n2 * n + n) + (n * V27 + V27)
    with pytest.raises(ValueError, match="cell_type"):
        RNN(cell_type="lstm")


def test_seeded_construction_is_reproducible():
    a, b = RNN(_cfg(seed=3), "gru"), RNN(_cfg(seed=3), "gru")
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.wte.weight, RNN(_cfg(seed=4), "gru").wte.weight)
