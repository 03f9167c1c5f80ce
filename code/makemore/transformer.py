"""A character-level Transformer (GPT) written from scratch: the last model of makemore.py.

Every model so far predicts the next character from a fixed context: the previous character
(bigram), the previous few concatenated (MLP), a tree of them (WaveNet). Self-attention lets each
position look at *all* earlier positions and decide, from the data, which of them matter: each
position emits a query ("what am I looking for"), a key ("what do I contain") and a value ("what
I give if chosen"); the weights are softmax(q . k / sqrt(head_size)) over the past only, and the
output is the weighted sum of the values. A Transformer stacks blocks of attention (tokens talk
to each other) and a small MLP (each token thinks on its own), each inside a residual connection
with a LayerNorm in front (pre-norm, as GPT-2), and reads one prediction per position.

The pieces are written out, smallest first, so the chapter can show each one and the tests can
check each one against torch's own (nn.LayerNorm, F.scaled_dot_product_attention,
nn.MultiheadAttention): `LayerNorm`, `Head` (one attention head), `MultiHeadAttention` (heads
side by side), `CausalSelfAttention` (the same, with the heads' projections fused into one
matrix: what the model uses), `FeedForward` (the block's MLP), `Block`, `Transformer`. The
model is makemore.py's `Transformer` (itself minGPT's GPT-2) with the same defaults;
`TransformerConfig` adds switches the chapter's exercises need (no position embeddings, no
1/sqrt(head_size) scaling, dropout).

References:
- Vaswani et al., "Attention Is All You Need", 2017. https://arxiv.org/abs/1706.03762
- Radford et al., "Language Models are Unsupervised Multitask Learners" (GPT-2), 2019.
- Ba, Kiros & Hinton, "Layer Normalization", 2016. https://arxiv.org/abs/1607.06450
- Hendrycks & Gimpel, "Gaussian Error Linear Units", 2016. https://arxiv.org/abs/1606.08415
- https://github.com/karpathy/makemore (makemore.py), https://github.com/karpathy/nanoGPT,
  and the lecture "Let's build GPT: from scratch, in code, spelled out" (nn-zero-to-hero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from makemore.lecture import MAKEMORE_SEED, MAKEMORE_TRANSFORMER
from makemore.sequences import WordModel, causal_mask, seeded
from makemore.transformer_manual import TransformerStep

# -----------------------------------------------------------------------------
# configuration


@dataclass
class TransformerConfig:
    vocab_size: int = 27  # characters + the '.' token (names.txt: a-z and '.')
    block_size: int = 16  # longest input sequence: longest word + 1 (names.txt: 15 + 1)
    n_layer: int = MAKEMORE_TRANSFORMER["n_layer"]  # Blocks (makemore.py's default, as the
    #                                                 next two)
    n_head: int = MAKEMORE_TRANSFORMER["n_head"]  # heads per Block, head_size n_embd // n_head
    n_embd: int = MAKEMORE_TRANSFORMER["n_embd"]  # width of the residual stream
    dropout: float = 0.0  # makemore.py has none; it pays only in runs long enough to overfit
    bias: bool = True  # biases in the Linear layers and LayerNorms, as makemore.py and GPT-2
    pos_emb: bool = True  # False: no position embeddings (an exercise: attention alone is
    #                       blind to order, only the causal mask tells positions apart)
    scale_attn: bool = True  # False: drop the 1/sqrt(head_size) (an exercise: softmax saturates)
    init: str = "torch"  # "torch": PyTorch's default init, as makemore.py; "gpt2": N(0, 0.02)
    #                      with the residual projections scaled by 1/sqrt(2 n_layer), as nanoGPT
    fused: bool = False  # True: LayerNorm and GELU by F.layer_norm and F.gelu, the same functions
    #                      as the from-scratch ones (tested), in fewer and faster kernels
    seed: int = MAKEMORE_SEED  # draws the initial weights (makemore.py's default seed)

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not a multiple of n_head {self.n_head}")
        if self.init not in ("torch", "gpt2"):
            raise ValueError(f"init must be 'torch' or 'gpt2', not {self.init!r}")


# -----------------------------------------------------------------------------
# LayerNorm and GELU, from scratch


class LayerNorm(nn.Module):
    """Normalise each position's vector over its features, then scale and shift.

    BatchNorm (Part 3) normalises each feature over the batch, which couples the examples of a
    batch and needs running statistics for eval. LayerNorm normalises each example on its own
    (mean and biased variance over the last dimension), so training and eval compute the same
    thing. Same arithmetic as nn.LayerNorm; `fused=True` computes it with F.layer_norm, one
    kernel forward and one backward instead of a handful (the same function, faster).
    """

    def __init__(self, ndim: int, bias: bool = True, eps: float = 1e-5, fused: bool = False):
        super().__init__()
        self.eps, self.fused = eps, fused
        self.weight = nn.Parameter(torch.ones(ndim))  # gain, starts at 1
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None  # shift, starts at 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
        xc = x - x.mean(-1, keepdim=True)  # (..., ndim), zero mean
        var = (xc * xc).mean(-1, keepdim=True)  # (..., 1), the biased variance
        out = xc * torch.rsqrt(var + self.eps) * self.weight  # unit variance, then the gain
        return out + self.bias if self.bias is not None else out


class NewGELU(nn.Module):
    """GELU, tanh approximation, as in GPT-2 and makemore.py: a smooth ReLU that lets a little
    negative signal through. Equal to F.gelu(x, approximate="tanh"), which `fused=True` calls."""

    def __init__(self, fused: bool = False):
        super().__init__()
        self.fused = fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return F.gelu(x, approximate="tanh")
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


# -----------------------------------------------------------------------------
# attention: one head, many heads, many heads fused


class Head(nn.Module):
    """One head of causal self-attention, as in the lecture "Let's build GPT".

    Every position t emits a query, a key and a value (head_size each). Its output is the
    average of the values of positions 0..t weighted by softmax(q_t . k_s / sqrt(head_size)):
    the scaling keeps the scores at unit variance when q and k have unit variance, so the softmax
    starts diffuse instead of one-hot (`scale=False` turns it off for the exercise).
    """

    def __init__(self, n_embd: int, head_size: int, block_size: int, bias: bool = False,
                 scale: bool = True, dropout: float = 0.0):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=bias)
        self.query = nn.Linear(n_embd, head_size, bias=bias)
        self.value = nn.Linear(n_embd, head_size, bias=bias)
        self.scale = scale
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("tril", causal_mask(block_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape  # batch, time, n_embd
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        v = self.value(x)  # (B, T, hs)
        wei = q @ k.transpose(-2, -1)  # (B, T, hs) @ (B, hs, T) -> (B, T, T)
        if self.scale:
            wei = wei * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # no look at the future
        wei = F.softmax(wei, dim=-1)  # (B, T, T), each row sums to 1
        wei = self.dropout(wei)
        return wei @ v  # (B, T, T) @ (B, T, hs) -> (B, T, hs)


class MultiHeadAttention(nn.Module):
    """n_head Heads side by side, their outputs concatenated, then one projection back into
    the residual stream. Each head can attend to something different (the vowel before, the
    first letter, ...)."""

    def __init__(self, n_embd: int, n_head: int, block_size: int, bias: bool = False,
                 scale: bool = True, dropout: float = 0.0):
        super().__init__()
        head_size = n_embd // n_head
        self.heads = nn.ModuleList(
            Head(n_embd, head_size, block_size, bias=bias, scale=scale, dropout=dropout)
            for _ in range(n_head)
        )
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([h(x) for h in self.heads], dim=-1)  # (B, T, n_head * hs) = (B, T, C)
        return self.dropout(self.proj(out))


class CausalSelfAttention(nn.Module):
    """MultiHeadAttention with every head's query, key and value computed by one matrix.

    The same function as MultiHeadAttention (see `load_heads`): the weights of all heads are
    stacked into one (n_embd, 3 n_embd) Linear `c_attn`, and the heads become a batch dimension,
    so one matmul replaces 3 n_head small ones. makemore.py's (and GPT-2's) layer.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.scale = config.scale_attn
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)  # output
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        mask = causal_mask(config.block_size).view(1, 1, config.block_size, config.block_size)
        self.register_buffer("tril", mask, persistent=False)

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every head's queries, keys and values: 3 x (B, n_head, T, head_size)."""
        B, T, C = x.shape  # batch, time, n_embd
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs): heads become a batch dim
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        return q, k, v

    def weights(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """(B, nh, T, T) attention weights: row t is how much position t takes from each
        position s <= t (zero for s > t), each row summing to one."""
        T = q.shape[-2]
        att = q @ k.transpose(-2, -1)  # (B, nh, T, hs) @ (B, nh, hs, T) -> (B, nh, T, T)
        if self.scale:
            att = att * (1.0 / math.sqrt(q.shape[-1]))
        att = att.masked_fill(self.tril[:, :, :T, :T] == 0, float("-inf"))
        return F.softmax(att, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape  # batch, time, n_embd
        q, k, v = self.heads(x)  # 3 x (B, nh, T, hs)
        att = self.attn_dropout(self.weights(q, k))  # (B, nh, T, T)
        y = att @ v  # (B, nh, T, T) @ (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again: (B, T, C)
        return self.resid_dropout(self.c_proj(y))

    @torch.no_grad()
    def load_heads(self, mha: MultiHeadAttention) -> CausalSelfAttention:
        """Copy a MultiHeadAttention's weights into this layer's fused layout (in place).

        nn.Linear stores W as (out, in), so head h's query weight becomes rows h*hs:(h+1)*hs of
        the first n_embd rows of c_attn.weight; keys and values follow in the next two thirds.
        A missing bias on either side counts as zero. Afterwards both layers compute the same.
        """
        C = self.n_embd
        for part, name in enumerate(("query", "key", "value")):
            rows = slice(part * C, (part + 1) * C)
            self.c_attn.weight[rows] = torch.cat([getattr(h, name).weight for h in mha.heads])
            if self.c_attn.bias is not None:
                biases = [getattr(h, name).bias for h in mha.heads]
                self.c_attn.bias[rows] = torch.cat(
                    [b if b is not None else torch.zeros(h.key.out_features)
                     for b, h in zip(biases, mha.heads, strict=True)])
        self.c_proj.weight.copy_(mha.proj.weight)
        if self.c_proj.bias is not None:
            self.c_proj.bias.copy_(mha.proj.bias if mha.proj.bias is not None else 0.0)
        return self


# -----------------------------------------------------------------------------
# the block and the model


class FeedForward(nn.Module):
    """The block's MLP, per position: widen 4x, GELU, project back. Attention mixes positions;
    this thinks about each position on its own."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.act = NewGELU(fused=config.fused)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.c_fc(x))  # (B, T, 4 n_embd)
        return self.dropout(self.c_proj(h))  # (B, T, n_embd)


class Block(nn.Module):
    """Communication then computation, each added to the residual stream after a LayerNorm
    (pre-norm, as GPT-2: the residual path from input to output stays an identity, which keeps
    deep stacks trainable)."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias, fused=config.fused)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias, fused=config.fused)
        self.mlp = FeedForward(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))  # (B, T, C)
        x = x + self.mlp(self.ln_2(x))  # (B, T, C)
        return x


class Transformer(WordModel):
    """The GPT language model: embeddings, n_layer Blocks, a final LayerNorm, one Linear to the
    vocabulary. `forward(idx)` maps (B, T) character indices (T <= block_size) to (B, T, vocab)
    logits, the logits at t predicting the character after idx[:, :t+1].

    The weights are drawn from a generator seeded with `config.seed` (the global random state is
    left as it was), so the same config gives the same model.
    """

    def __init__(self, config: TransformerConfig | None = None):
        super().__init__()
        config = config or TransformerConfig()
        self.config = config
        self.block_size = config.block_size
        with seeded(config.seed):
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # token embeddings
            self.wpe = (nn.Embedding(config.block_size, config.n_embd)  # position embeddings
                        if config.pos_emb else None)
            self.drop = nn.Dropout(config.dropout)
            self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
            self.ln_f = LayerNorm(config.n_embd, bias=config.bias, fused=config.fused)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            if config.init == "gpt2":
                self._init_gpt2()

    @torch.no_grad()
    def _init_gpt2(self) -> None:
        """nanoGPT's init: N(0, 0.02) weights and zero biases, and the two projections that
        write into the residual stream scaled by 1/sqrt(2 n_layer), so that the stream's
        variance does not grow with depth."""
        for name, p in self.named_parameters():
            if p.ndim == 2:  # Linear and Embedding weights
                std = 0.02
                if name.endswith("c_proj.weight"):
                    std /= math.sqrt(2 * self.config.n_layer)
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def manual_step(self, cfg) -> TransformerStep | None:
        """How `makemore.training.train` steps this model: on its hand-written backward
        (`makemore.transformer_manual`), each minibatch cut to its longest word, dropout masks
        from a generator seeded with cfg.seed. None (the loop's autograd step) while a forward
        hook watches a module (the hook needs the module's forward), or for a recipe with an
        l2 penalty, which the step does not add."""
        if cfg.l2 or any(m._forward_hooks or m._forward_pre_hooks for m in self.modules()):
            return None
        return TransformerStep(self, cfg.seed)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T) indices -> (B, T, C): token embeddings plus position embeddings."""
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"sequence of length {T} is longer than block_size {self.block_size}")
        x = self.wte(idx)  # (B, T, C)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(T, device=idx.device))  # (B, T, C) + (T, C)
        return self.drop(x)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)  # (B, T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        x = self.ln_f(x)
        return self.lm_head(x)  # (B, T, vocab_size)

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """What every head attends to on `idx` (B, T): one (B, n_head, T, T) tensor of
        attention weights per layer, as the forward pass computes them (in eval mode)."""
        was = self.training
        self.eval()
        maps, x = [], self.embed(idx)
        for block in self.blocks:
            q, k, _ = block.attn.heads(block.ln_1(x))
            maps.append(block.attn.weights(q, k))  # (B, nh, T, T)
            x = block(x)
        self.train(was)
        return maps
