"""The from-scratch Transformer against torch's own pieces, and the properties it must have."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from random_weights import randomize
from torch import nn

from makemore.sequences import causal_mask
from makemore.transformer import (
    CausalSelfAttention,
    Head,
    LayerNorm,
    MultiHeadAttention,
    NewGELU,
    Transformer,
    TransformerConfig,
)

B, T, C, NH = 3, 7, 16, 4


def _x(seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, C, generator=g, dtype=dtype)


def _small_config(**kw) -> TransformerConfig:
    return TransformerConfig(**{"vocab_size": 11, "block_size": 9, "n_layer": 2, "n_head": 2,
                                "n_embd": 16, **kw})


# -----------------------------------------------------------------------------
# LayerNorm and GELU


@pytest.mark.parametrize("bias", [True, False])
def test_layernorm_matches_torch_forward_and_backward(bias):
    ours = randomize(LayerNorm(C, bias=bias).double())
    ref = nn.LayerNorm(C, bias=bias).double()
    with torch.no_grad():
        ref.weight.copy_(ours.weight)
        if bias:
            ref.bias.copy_(ours.bias)
    x1, x2 = _x().requires_grad_(), _x().requires_grad_()
    y, yr = ours(x1), ref(x2)
    torch.testing.assert_close(y, yr)
    torch.testing.assert_close(y, F.layer_norm(x1, (C,), ref.weight, ref.bias))
    w = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)
    (y * w).sum().backward()
    (yr * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    if bias:
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad)


def test_layernorm_normalises_each_position_on_its_own():
    y = LayerNorm(C).double()(_x() * 5 + 3)
    torch.testing.assert_close(y.mean(-1), torch.zeros(B, T, dtype=y.dtype))
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(B, T, dtype=y.dtype),
                               atol=1e-4, rtol=1e-4)  # eps = 1e-5 keeps it a hair below 1


@pytest.mark.parametrize("fused", [False, True])
def test_newgelu_is_torch_tanh_gelu(fused):
    x1, x2 = _x().requires_grad_(), _x().requires_grad_()
    y, yr = NewGELU(fused=fused)(x1), F.gelu(x2, approximate="tanh")
    torch.testing.assert_close(y, yr)
    y.sum().backward()
    yr.sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)


def test_fused_layernorm_is_the_same_function():
    ours, fused = randomize(LayerNorm(C).double()), randomize(LayerNorm(C, fused=True).double())
    x1, x2 = _x().requires_grad_(), _x().requires_grad_()
    y, yf = ours(x1), fused(x2)
    torch.testing.assert_close(y, yf)
    y.pow(2).sum().backward()
    yf.pow(2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, fused.weight.grad)


def test_fused_transformer_is_the_same_model():
    a = Transformer(_small_config(seed=2)).double()
    b = Transformer(_small_config(fused=True, seed=2)).double()
    idx = torch.randint(0, 11, (3, 9), generator=torch.Generator().manual_seed(0))
    ya, yb = a(idx), b(idx)
    torch.testing.assert_close(ya, yb)
    ya.logsumexp(-1).sum().backward()
    yb.logsumexp(-1).sum().backward()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa.grad, pb.grad)


# -----------------------------------------------------------------------------
# attention


def _sdpa_head(head: Head, x: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    q, k, v = head.query(x), head.key(x), head.value(x)  # (B, T, hs)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)


@pytest.mark.parametrize("bias", [False, True])
def test_head_matches_scaled_dot_product_attention(bias):
    head = randomize(Head(C, 4, block_size=T, bias=bias).double())
    x = _x()
    torch.testing.assert_close(head(x), _sdpa_head(head, x))


def test_head_without_scaling_is_attention_with_scale_one():
    head = randomize(Head(C, 4, block_size=T, scale=False).double())
    x = _x()
    torch.testing.assert_close(head(x), _sdpa_head(head, x, scale=1.0))
    head.scale = True
    assert not torch.allclose(head(x), _sdpa_head(head, x, scale=1.0))


def test_multihead_is_heads_side_by_side_then_projection():
    mha = randomize(MultiHeadAttention(C, NH, block_size=T, bias=True).double())
    x = _x()
    heads = torch.cat([_sdpa_head(h, x) for h in mha.heads], dim=-1)  # (B, T, C)
    torch.testing.assert_close(mha(x), mha.proj(heads))


@pytest.mark.parametrize("bias", [True, False])
def test_fused_attention_equals_multihead_with_the_same_weights(bias):
    cfg = TransformerConfig(block_size=T, n_head=NH, n_embd=C, bias=bias)
    mha = randomize(MultiHeadAttention(C, NH, block_size=T, bias=bias).double())
    fused = CausalSelfAttention(cfg).double().load_heads(mha)
    x = _x()
    torch.testing.assert_close(fused(x), mha(x))


def test_fused_attention_matches_torch_multiheadattention():
    cfg = TransformerConfig(block_size=T, n_head=NH, n_embd=C)
    ours = randomize(CausalSelfAttention(cfg).double())
    ref = nn.MultiheadAttention(C, NH, batch_first=True).double()
    with torch.no_grad():  # torch packs q, k, v the same way: rows [q; k; v] of in_proj
        ref.in_proj_weight.copy_(ours.c_attn.weight)
        ref.in_proj_bias.copy_(ours.c_attn.bias)
        ref.out_proj.weight.copy_(ours.c_proj.weight)
        ref.out_proj.bias.copy_(ours.c_proj.bias)
    x1, x2 = _x().requires_grad_(), _x().requires_grad_()
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # True = masked
    y = ours(x1)
    yr, _ = ref(x2, x2, x2, attn_mask=future, need_weights=False)
    torch.testing.assert_close(y, yr)
    y.pow(2).sum().backward()
    yr.pow(2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.c_attn.weight.grad, ref.in_proj_weight.grad)


# -----------------------------------------------------------------------------
# the model


def test_default_model_is_makemore_py_sized():
    m = Transformer()
    cfg = m.config
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.block_size) == (4, 4, 64, 16)
    n, V, Tb = 64, 27, 16
    block = 2 * 2 * n + (n * 3 * n + 3 * n) + (n * n + n) + (n * 4 * n + 4 * n) + (4 * n * n + n)
    expected = V * n + Tb * n + 4 * block + 2 * n + n * V  # wte, wpe, blocks, ln_f, lm_head
    assert m.n_params() == expected == 204_544
    assert m.block_size == 16
    assert m(torch.zeros(2, 16, dtype=torch.long)).shape == (2, 16, 27)


@pytest.mark.parametrize("kw", [{}, {"pos_emb": False}, {"scale_attn": False},
                                {"init": "gpt2"}, {"bias": False}])
def test_transformer_is_causal(kw):
    """Changing the token at position t changes no logits before t (and does change t's)."""
    model = Transformer(_small_config(**kw, seed=1)).eval()
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 11, (4, 9), generator=g)
    with torch.no_grad():
        base = model(idx)
        for t in (0, 3, 8):
            idx2 = idx.clone()
            idx2[:, t] = (idx2[:, t] + 1) % 11
            out = model(idx2)
            assert torch.equal(out[:, :t], base[:, :t])
            assert not torch.allclose(out[:, t], base[:, t])


def test_transformer_on_a_prefix_gives_the_prefix_logits():
    model = Transformer(_small_config(seed=1)).eval()
    idx = torch.randint(0, 11, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model(idx[:, :5]), model(idx)[:, :5])
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 10, dtype=torch.long))


def test_without_position_embeddings_the_past_is_a_bag():
    """No wpe, one layer: the last position's logits do not change when the earlier tokens are
    shuffled (attention sees a set of keys). With more layers the earlier positions' own
    prefixes change, so the invariance is for one layer only."""
    model = Transformer(_small_config(pos_emb=False, n_layer=1, seed=1)).double().eval()
    assert model.wpe is None
    idx = torch.randint(1, 11, (2, 9), generator=torch.Generator().manual_seed(0))
    perm = torch.tensor([5, 2, 7, 0, 1, 6, 3, 4, 8])  # last position stays in place
    with torch.no_grad():
        torch.testing.assert_close(model(idx[:, perm])[:, -1], model(idx)[:, -1])
    with_pos = Transformer(_small_config(n_layer=1, seed=1)).double().eval()
    with torch.no_grad():
        assert not torch.allclose(with_pos(idx[:, perm])[:, -1], with_pos(idx)[:, -1])


def test_seeded_construction_is_reproducible_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b = Transformer(_small_config(seed=5)), Transformer(_small_config(seed=5))
    c = Transformer(_small_config(seed=6))
    assert torch.equal(torch.random.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.wte.weight, c.wte.weight)


def test_gpt2_init_scales_the_residual_projections():
    model = Transformer(TransformerConfig(init="gpt2", seed=0))
    fc = torch.cat([b.mlp.c_fc.weight.flatten() for b in model.blocks])
    proj = torch.cat([b.mlp.c_proj.weight.flatten() for b in model.blocks])
    assert fc.std().item() == pytest.approx(0.02, rel=0.05)
    assert proj.std().item() == pytest.approx(0.02 / math.sqrt(2 * 4), rel=0.05)
    assert all((b.attn.c_attn.bias == 0).all() for b in model.blocks)


def test_dropout_is_random_in_training_and_off_in_eval():
    model = Transformer(_small_config(dropout=0.2, seed=1))
    idx = torch.randint(0, 11, (2, 9), generator=torch.Generator().manual_seed(0))
    model.train()
    assert not torch.equal(model(idx), model(idx))
    model.eval()
    assert torch.equal(model(idx), model(idx))


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="multiple"):
        TransformerConfig(n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="init"):
        TransformerConfig(init="xavier")
    assert causal_mask(3).tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]


def test_attention_maps_are_the_weights_the_forward_pass_uses():
    """Rows sum to one, nothing is taken from the future, and the maps times the values are
    each layer's attention output."""
    model = randomize(Transformer(_small_config(seed=1))).double().eval()
    idx = torch.randint(0, 11, (3, 9), generator=torch.Generator().manual_seed(0))
    maps = model.attention_maps(idx)
    assert len(maps) == 2 and maps[0].shape == (3, 2, 9, 9)
    x = model.embed(idx)
    for block, att in zip(model.blocks, maps, strict=True):
        torch.testing.assert_close(att.sum(-1), torch.ones(3, 2, 9, dtype=att.dtype))
        assert (att.triu(1) == 0).all()
        h = block.ln_1(x)
        _, _, v = block.attn.heads(h)
        y = (att @ v).transpose(1, 2).reshape(3, 9, -1)  # (B, T, C)
        with torch.no_grad():
            torch.testing.assert_close(block.attn.c_proj(y), block.attn(h))
            x = block(x)
    model.train()
    model.attention_maps(idx)
    assert model.training  # the mode is put back
