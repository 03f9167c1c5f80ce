"""The Transformer on the manual path: every piece of the GPT with its backward pass written by
hand, and the training step that runs them with no autograd at all.

Part 4 of the lectures writes the backward pass of an MLP by hand, and `makemore.layers` keeps
that as the package's way to train its from-scratch stacks: each layer has `fwd` (the forward
pass into buffers allocated once, keeping what the backward needs) and `bwd` (the chain rule
written out, each parameter's gradient written into its `.grad`). This module gives the same
to the Transformer of `makemore.transformer`, piece by piece: the token and position
embeddings, LayerNorm, causal self-attention (the fused q/k/v projection, the scaled scores,
the softmax, the weighted sum of the values, the output projection), GELU, the MLP, the
residual connections of a Block, the final LayerNorm, the output layer and the cross-entropy
over the characters that count, and dropout wherever the model has it.

Why: for a model this small (32 names of at most 16 characters, 64 features) a step is a few
hundred small operations, and autograd's bookkeeping around each (a graph node, a new tensor
for every intermediate and every gradient) costs about as much as the arithmetic. Here every
operation writes into a buffer allocated once. And the step computes only what the loss needs:
each minibatch is cut to its longest word (`trim_padding`, as `AutogradStep`), and the padding
after each shorter word, a third of what is left, is left out as well (`kept_rows`): the pieces
work on the N rows kept, and only attention puts them back on the (B, T) grid of the words.
`bench/train_speed.py` measures the step against makemore.py's.

The nn.Module stays the model. Each class here wraps one module of `makemore.transformer`
(`ManualLayerNorm` a `LayerNorm`, `ManualAttention` a `CausalSelfAttention`, ...), reads its
parameters and writes their gradients into the parameters' own `.grad`, so the model's class,
its parameter names and its checkpoints are the same on either path, and the loop's optimiser
(SGD or AdamW, `makemore.training`) reads the gradients where it always does. The Transformer
offers the step through `Transformer.manual_step(cfg)`; `makemore.training.train` asks for it.

The chain rule, piece by piece (a row is a position kept, N of them):

- Linear, y = x W^T + b (nn.Linear's layout, W is (out, in)): dW = dy^T x, db = the column
  sums of dy, dx = dy W.
- LayerNorm, xhat = (x - mean) * rstd, y = xhat * w + b (statistics over the C features of a
  row): dw = the column sums of dy * xhat, db of dy, and with dxhat = dy * w,
  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
- GELU, tanh approximation: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), which
  is x * sigmoid(2u) (0.5 (1 + tanh(u)) = sigmoid(2u)); with s = sigmoid(2u),
  dx = dy * (s + x s (1 - s) 2 du/dx). Computed with sigmoid: the same function, and with the
  pinned torch's CPU kernels sigmoid is several times faster than tanh.
- Attention, per head: scores = q k^T / sqrt(hs) + mask (0 on the past, -inf on the future, so
  no masked_fill), att = softmax(scores), y = att v. Backward: datt = dy v^T, dv = att^T dy,
  dscores = att * (datt - rowsum(datt * att)) (the softmax's Jacobian, row by row), dq =
  dscores k / sqrt(hs), dk = dscores^T q / sqrt(hs).
- Residual add, x + f(x): the gradient of x is the gradient of the sum plus what flows back
  through f, added in place into one buffer that runs down the whole stack.
- Dropout, y = x * m / (1 - p) with m ~ Bernoulli(1 - p): dx = dy * m / (1 - p). The masks are
  drawn from the step's own generator, seeded with `cfg.seed` (not torch's global one, as
  `makemore.training.AutogradStep`): the same seed gives the same run, but not the masks the
  autograd path would draw. In eval mode dropout is off.
- Embeddings, x = wte[idx] + wpe[t]: each lookup sends its row of the gradient to its row of
  wte (index_add); wpe's row t gets the sum over the batch of position t's gradient.
- Cross-entropy over the targets that are not -1, mean over those n targets:
  dlogits = (softmax(logits) - onehot(y)) / n on the rows that count, 0 on the others.

No `*_backward` kernel of torch's is used: every backward above is these formulas in torch
ops (matrix products with mm, addmm, bmm, baddbmm and mv, elementwise arithmetic, sums, index
copies). The forward passes use torch's softmax and log-softmax.

References:
- https://github.com/karpathy/nn-zero-to-hero (lectures/makemore, part 4: backprop by hand)
- https://github.com/karpathy/makemore (makemore.py), https://github.com/karpathy/nanoGPT
- Ba, Kiros & Hinton, "Layer Normalization", 2016. https://arxiv.org/abs/1607.06450
- Hendrycks & Gimpel, "Gaussian Error Linear Units", 2016. https://arxiv.org/abs/1606.08415
"""

from __future__ import annotations

import math

import torch
from torch import nn

from makemore.sequences import IGNORE, trim_padding

GELU_A = 0.044715  # the cubic term of GELU's tanh approximation
GELU_C = math.sqrt(2.0 / math.pi)


# -----------------------------------------------------------------------------
# buffers: allocated once, viewed at the size of each minibatch


class Scratch:
    """The named buffers of one piece. Each name has one flat storage, allocated (zeroed) at the
    largest size asked for; a minibatch of another size gets views of its first elements. So
    the memory does not move from step to step (it stays warm in the cache), nothing is
    allocated once the largest minibatch has been seen, and a buffer never holds a value that
    was not computed (attention relies on it: see `ManualAttention`)."""

    def __init__(self):
        self.store: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, like: torch.Tensor, *shape: int, dtype=None) -> torch.Tensor:
        n = math.prod(shape)
        s = self.store.get(name)
        if s is None or s.numel() < n:
            s = torch.zeros(n, dtype=dtype or like.dtype, device=like.device)
            self.store[name] = s
        return s[:n].view(shape)


class Piece:
    """What every piece of the manual path has (the vocabulary of `makemore.layers.Module`):
    `prepare(B, T, N, like)` selects the buffers for a minibatch of B words cut to T positions
    of which N rows are kept (`buffers` makes them, and the views of them the passes use, the
    first time each size is seen), `bind_grads()` takes the parameters' `.grad` tensors, `fwd`
    and `bwd`. Most pieces work on rows and their buffers depend on N only (`key`). A piece's
    children are prepared before it, so that it can view their buffers."""

    def __init__(self):
        self.scratch = Scratch()
        self._by_size: dict = {}

    def key(self, B: int, T: int, N: int):
        return N

    def prepare(self, B: int, T: int, N: int, like: torch.Tensor) -> None:
        for child in self.children():
            child.prepare(B, T, N, like)
        key = self.key(B, T, N)
        bufs = self._by_size.get(key)
        if bufs is None:
            bufs = self._by_size[key] = self.buffers(B, T, N, like)
        self.m = bufs

    def buffers(self, B: int, T: int, N: int, like: torch.Tensor) -> dict:
        return {}

    def children(self) -> list[Piece]:
        return []

    def bind_grads(self) -> None:
        for child in self.children():
            child.bind_grads()


def _grad(p: torch.Tensor | None) -> torch.Tensor | None:
    return None if p is None else p.grad


def _const(like: torch.Tensor, value: float) -> torch.Tensor:
    """A 0-dim tensor: multiplying by it costs no conversion of a Python number each time."""
    return torch.tensor(value, dtype=like.dtype, device=like.device)


# -----------------------------------------------------------------------------
# the pieces that work on rows: (N, features) in, (N, features) out


class ManualLinear(Piece):
    """An nn.Linear on rows: (N, in) -> (N, out)."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.weight, self.bias = linear.weight, linear.bias  # W is (out, in)
        self.WT = self.weight.t()  # a view: follows the optimiser's in-place updates
        self._dy = None

    def buffers(self, B, T, N, like):
        out, fan_in = self.weight.shape
        return {"y": self.scratch("y", like, N, out), "dx": self.scratch("dx", like, N, fan_in)}

    def bind_grads(self) -> None:
        self.gW, self.gb = self.weight.grad, _grad(self.bias)

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        self.x = x  # (N, in), the piece before's buffer: kept for dW
        if self.bias is None:
            return torch.mm(x, self.WT, out=self.m["y"])
        return torch.addmm(self.bias, x, self.WT, out=self.m["y"])  # (N, out)

    def bwd(self, dy: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        if dy is not self._dy:  # the same buffer step after step: its transpose made once
            self._dy, self._dyT = dy, dy.t()
        torch.mm(self._dyT, self.x, out=self.gW)  # dW = dy^T x, (out, in)
        if self.gb is not None:
            torch.sum(dy, 0, out=self.gb)  # db = the sum over the rows
        if not need_dx:
            return None
        return torch.mm(dy, self.weight, out=self.m["dx"])  # dx = dy W, (N, in)


class ManualDropout(Piece):
    """An nn.Dropout on a tensor of `shape(B, T, N)`: y = x * m / (1 - p), the mask drawn from
    `generator` (m = 1 where a uniform draw is at least p: with the pinned torch, uniform_ and
    a comparison take half the time of bernoulli_). Off (y = x, dx = dy) in eval mode or with
    p = 0. Neither pass writes into its input."""

    def __init__(self, dropout: nn.Dropout, generator: torch.Generator, shape, rows=True):
        super().__init__()
        self.module, self.generator, self.shape, self.rows = dropout, generator, shape, rows
        self.on = False

    def key(self, B, T, N):
        return N if self.rows else (B, T)

    def buffers(self, B, T, N, like):
        shape, s = self.shape(B, T, N), self.scratch
        return {"mask": s("mask", like, *shape), "y": s("y", like, *shape),
                "dx": s("dx", like, *shape)}

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        p = self.module.p
        self.on = self.module.training and p > 0
        if not self.on:
            return x
        mask = self.m["mask"].uniform_(generator=self.generator)  # u ~ U[0, 1)
        torch.ge(mask, p, out=mask).mul_(1.0 / (1.0 - p))  # kept where u >= p: 1 / (1 - p)
        return torch.mul(x, mask, out=self.m["y"])

    def bwd(self, dy: torch.Tensor) -> torch.Tensor:
        return torch.mul(dy, self.m["mask"], out=self.m["dx"]) if self.on else dy


class ManualLayerNorm(Piece):
    """A `transformer.LayerNorm` on rows: (N, C) -> (N, C)."""

    def __init__(self, ln: nn.Module):
        super().__init__()
        self.weight, self.bias, self.eps = ln.weight, ln.bias, ln.eps
        self.C = self.weight.numel()
        self.eps_t = _const(self.weight, self.eps)

    def buffers(self, B, T, N, like):
        C, s = self.C, self.scratch
        m = {"y": s("y", like, N, C), "xhat": s("xhat", like, N, C), "tmp": s("tmp", like, N, C),
             "rstd": s("rstd", like, N, 1), "s1": s("s1", like, N), "s2": s("s2", like, N)}
        m["s1_col"], m["s2_col"] = m["s1"].view(N, 1), m["s2"].view(N, 1)
        return m

    def bind_grads(self) -> None:
        self.gw, self.gb = self.weight.grad, _grad(self.bias)

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        m, C = self.m, self.C
        xhat, tmp, rstd, total = m["xhat"], m["tmp"], m["rstd"], m["s1_col"]
        torch.sub(x, torch.sum(x, 1, keepdim=True, out=total), alpha=1.0 / C, out=xhat)
        torch.sum(torch.mul(xhat, xhat, out=tmp), 1, keepdim=True, out=rstd)  # C var
        torch.add(self.eps_t, rstd, alpha=1.0 / C, out=rstd).rsqrt_()  # 1 / sqrt(var + eps)
        xhat.mul_(rstd)  # (N, C), zero mean and unit variance per row
        if self.bias is None:
            return torch.mul(xhat, self.weight, out=m["y"])
        return torch.addcmul(self.bias, xhat, self.weight, out=m["y"])

    def bwd(self, dy: torch.Tensor, add_to: torch.Tensor | None = None) -> torch.Tensor:
        """d loss / d input, written over `dy`, or added into `add_to` (the residual stream's
        gradient) and that returned."""
        m, C, w = self.m, self.C, self.weight
        xhat, tmp = m["xhat"], m["tmp"]
        torch.mul(dy, xhat, out=tmp)
        torch.sum(tmp, 0, out=self.gw)  # dw = sum of dy * xhat over the rows
        if self.gb is not None:
            torch.sum(dy, 0, out=self.gb)  # db = sum of dy
        # with dxhat = dy * w: C mean(dxhat) = dy @ w and C mean(dxhat * xhat) = tmp @ w
        torch.mv(dy, w, out=m["s1"])
        torch.mv(tmp, w, out=m["s2"])
        # dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
        dy.mul_(w).addcmul_(xhat, m["s2_col"], value=-1.0 / C).sub_(m["s1_col"], alpha=1.0 / C)
        if add_to is None:
            return dy.mul_(m["rstd"])
        return add_to.addcmul_(dy, m["rstd"])


class ManualGELU(Piece):
    """`transformer.NewGELU` (the tanh approximation) on (N, width) rows, as x * sigmoid(2u)."""

    def __init__(self, width: int, like: torch.Tensor):
        super().__init__()
        self.width, self.two_c = width, _const(like, 2.0 * GELU_C)

    def buffers(self, B, T, N, like):
        W, s = self.width, self.scratch
        return {"y": s("y", like, N, W), "x2": s("x2", like, N, W), "s": s("s", like, N, W),
                "t": s("t", like, N, W)}

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        m = self.m
        self.x = x  # the c_fc output, kept
        x2, s = m["x2"], m["s"]
        torch.mul(x, x, out=x2)
        torch.addcmul(x, x, x2, value=GELU_A, out=s).mul_(self.two_c)  # 2u = 2c (x + a x^3)
        s.sigmoid_()  # s = sigmoid(2u) = 0.5 (1 + tanh(u))
        return torch.mul(x, s, out=m["y"])

    def bwd(self, dy: torch.Tensor, need_dx: bool = True) -> torch.Tensor:
        """In place in `dy`: dx = dy * (s + x s (1 - s) d(2u)/dx), d(2u)/dx = 2c + 6ac x^2."""
        m = self.m
        s, t, x2 = m["s"], m["t"], m["x2"]
        torch.addcmul(s, s, s, value=-1.0, out=t).mul_(self.x)  # t = x s (1 - s)
        grad = torch.addcmul(s, t, x2, value=6.0 * GELU_A * GELU_C, out=x2)  # s + 6ac t x^2
        return dy.mul_(grad.add_(t, alpha=2.0 * GELU_C))  # ... + 2c t


class ManualMLP(Piece):
    """A `transformer.FeedForward` (the block's MLP) on rows: c_fc, GELU, c_proj, dropout."""

    def __init__(self, mlp: nn.Module, generator: torch.Generator):
        super().__init__()
        self.c_fc, self.c_proj = ManualLinear(mlp.c_fc), ManualLinear(mlp.c_proj)
        self.act = ManualGELU(mlp.c_fc.weight.shape[0], mlp.c_fc.weight)
        C = mlp.c_proj.weight.shape[0]
        self.drop = ManualDropout(mlp.dropout, generator, lambda B, T, N: (N, C))

    def children(self):
        return [self.c_fc, self.act, self.c_proj, self.drop]

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop.fwd(self.c_proj.fwd(self.act.fwd(self.c_fc.fwd(x))))

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor:
        """Leaves `dout` as it was."""
        dh = self.c_proj.bwd(self.drop.bwd(dout))  # (N, 4C)
        return self.c_fc.bwd(self.act.bwd(dh), need_dx)


# -----------------------------------------------------------------------------
# attention: the rows back on the (B, T) grid, the heads as a batch


class ManualAttention(Piece):
    """A `transformer.CausalSelfAttention` on the kept rows: (N, C) -> (N, C).

    The rows are the positions of a (B, T) minibatch the step keeps (`rows`, indices into its
    B * T positions, see `kept_rows`): each word's positions up to its last target. The rest,
    the padding after each word, is left out of every piece that works on rows: for a causal
    model it changes nothing but the work, since a kept position attends only to positions
    before it, which are kept too. Attention puts the kept rows back on the (B, T) grid. There
    q, k and v of the left-out positions hold stale but finite values (`Scratch` zeroes memory
    when it allocates it, and only finite values are written into it), which no kept position
    looks at (the causal mask gives them weight 0); their outputs are never read, and their
    gradient is set to 0, so that nothing flows back from them.
    """

    def __init__(self, attn: nn.Module, generator: torch.Generator):
        super().__init__()
        self.nh, self.C = attn.n_head, attn.n_embd
        self.hs = self.C // self.nh
        self.scale = 1.0 / math.sqrt(self.hs) if attn.scale else 1.0
        self.c_attn, self.c_proj = ManualLinear(attn.c_attn), ManualLinear(attn.c_proj)
        self.attn_drop = ManualDropout(attn.attn_dropout, generator,
                                       lambda B, T, N: (B * self.nh, T, T), rows=False)
        self.resid_drop = ManualDropout(attn.resid_dropout, generator,
                                        lambda B, T, N: (N, self.C))
        self.grid = _AttentionGrid(self)

    def children(self):
        return [self.c_attn, self.attn_drop, self.c_proj, self.resid_drop, self.grid]

    def buffers(self, B, T, N, like):
        return {"y": self.scratch("y", like, N, self.C),
                "dqkv": self.scratch("dqkv", like, N, 3 * self.C)}

    def fwd(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        m, g = self.m, self.grid.m
        self.rows = rows  # (N,) kept
        qkv = self.c_attn.fwd(x)  # (N, 3C), each row q | k | v, each of those head by head
        g["qkv"].index_copy_(0, rows, qkv)  # (B * T, 3C): the rows on the grid
        g["heads_in"].copy_(g["qkv_as_heads"])  # (3, B, nh, T, hs): the heads side by side
        scores = torch.baddbmm(g["mask"], g["q"], g["kT"], alpha=self.scale,
                               out=g["scores"])  # (B * nh, T, T): mask + q k^T / sqrt(hs)
        att = self.grid.softmax(scores, g)  # rows sum to 1
        self.a = self.attn_drop.fwd(att)  # (B * nh, T, T), what multiplies the values
        torch.bmm(self.a, g["v"], out=g["yh"])  # (B * nh, T, hs)
        g["y_in"].copy_(g["yh_as_rows"])  # (B * T, C): the heads side by side again
        y = torch.index_select(g["y"], 0, rows, out=m["y"])  # (N, C), the kept rows
        return self.resid_drop.fwd(self.c_proj.fwd(y))

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor:
        """Leaves `dout` as it was (it is the residual stream's gradient)."""
        m, g = self.m, self.grid.m
        dy = self.c_proj.bwd(self.resid_drop.bwd(dout))  # (N, C)
        g["dy"].zero_().index_copy_(0, self.rows, dy)  # (B * T, C), 0 on the padding
        dyh = g["dyh"]  # (B * nh, T, hs)
        g["dyh_in"].copy_(g["dy_as_heads"])
        da = torch.bmm(dyh, g["vT"], out=g["datt"])  # d(att after dropout) = dy v^T
        torch.bmm(self.a.transpose(1, 2), dyh, out=g["dv"])  # dv = att^T dy
        datt, att = self.attn_drop.bwd(da), g["att"]
        # softmax: dscores = att * (datt - rowsum(datt * att))
        rowsum = torch.sum(torch.mul(datt, att, out=g["tmp"]), -1, keepdim=True,
                           out=g["rowsum"])  # (B * nh, T, 1)
        dscores = datt.sub_(rowsum).mul_(att)
        # scores = q k^T / sqrt(hs): dq = dscores k / sqrt(hs), dk = dscores^T q / sqrt(hs)
        torch.baddbmm(g["dq"], dscores, g["k"], beta=0.0, alpha=self.scale, out=g["dq"])
        torch.baddbmm(g["dk"], dscores.transpose(1, 2), g["q"], beta=0.0, alpha=self.scale,
                      out=g["dk"])
        g["dqkv_in"].copy_(g["dheads_as_rows"])  # (B * T, 3C) <- (3, B, nh, T, hs)
        dqkv = torch.index_select(g["dqkv"], 0, self.rows, out=m["dqkv"])  # (N, 3C)
        return self.c_attn.bwd(dqkv, need_dx)


class _AttentionGrid(Piece):
    """ManualAttention's buffers on the (B, T) grid (they depend on B and T, not on N).

    The softmax over a row of T scores runs on rows padded to a multiple of `PAD` with -inf
    (weight 0): with the pinned torch's CPU kernel a softmax over rows of 15 takes some ten
    times longer than over rows of 16, and a minibatch cut to its longest word rarely has T a
    multiple of 16. The weights are the same up to rounding (the padded kernel sums in
    another order)."""

    PAD = 16

    def __init__(self, attn: ManualAttention):
        super().__init__()
        self.nh, self.hs, self.C = attn.nh, attn.hs, attn.C

    def key(self, B, T, N):
        return (B, T)

    def softmax(self, scores: torch.Tensor, g: dict) -> torch.Tensor:
        """softmax(scores) over the last dimension, into g["att"]: (B * nh, T, T)."""
        if "scores_pad" not in g:  # T is a multiple of PAD already
            return torch._softmax(scores, -1, False, out=g["att"])
        T = scores.shape[-1]
        g["scores_pad"][..., :T].copy_(scores)
        g["scores_pad"][..., T:].fill_(float("-inf"))  # the storage is shared: every step
        torch._softmax(g["scores_pad"], -1, False, out=g["att_pad"])
        return g["att"].copy_(g["att_pad"][..., :T])

    def buffers(self, B, T, N, like):
        s, nh, hs, C = self.scratch, self.nh, self.hs, self.C
        BH = B * nh
        future = torch.ones(T, T, dtype=torch.bool, device=like.device).triu(1)
        m = {
            "mask": torch.zeros(T, T, dtype=like.dtype, device=like.device).masked_fill(
                future, float("-inf")),  # (T, T): 0 on the past, -inf on the future
            "qkv": s("qkv", like, B * T, 3 * C), "heads": s("heads", like, 3, BH, T, hs),
            "scores": s("scores", like, BH, T, T), "att": s("att", like, BH, T, T),
            "yh": s("yh", like, BH, T, hs), "y": s("y", like, B * T, C),
            "dy": s("dy", like, B * T, C), "dyh": s("dyh", like, BH, T, hs),
            "datt": s("datt", like, BH, T, T), "tmp": s("tmp", like, BH, T, T),
            "rowsum": s("rowsum", like, BH, T, 1), "dheads": s("dheads", like, 3, BH, T, hs),
            "dqkv": s("dqkv", like, B * T, 3 * C),
        }
        Tp = -(-T // self.PAD) * self.PAD  # T rounded up to a multiple of PAD
        if Tp != T:
            m["scores_pad"] = s("scores_pad", like, BH, T, Tp)
            m["att_pad"] = s("att_pad", like, BH, T, Tp)
        # the views that move the heads: (B, T, 3, nh, hs) rows <-> (3, B, nh, T, hs) heads
        m["heads_in"] = m["heads"].view(3, B, nh, T, hs)
        m["qkv_as_heads"] = m["qkv"].view(B, T, 3, nh, hs).permute(2, 0, 3, 1, 4)
        m["q"], m["k"], m["v"] = m["heads"].unbind(0)  # each (B * nh, T, hs)
        m["kT"], m["vT"] = m["k"].transpose(1, 2), m["v"].transpose(1, 2)
        m["dq"], m["dk"], m["dv"] = m["dheads"].unbind(0)
        m["dqkv_in"] = m["dqkv"].view(B, T, 3, nh, hs)
        m["dheads_as_rows"] = m["dheads"].view(3, B, nh, T, hs).permute(1, 3, 0, 2, 4)
        m["y_in"] = m["y"].view(B, T, nh, hs)  # (B, T, nh, hs) <- (B, nh, T, hs)
        m["yh_as_rows"] = m["yh"].view(B, nh, T, hs).transpose(1, 2)
        m["dyh_in"] = m["dyh"].view(B, nh, T, hs)
        m["dy_as_heads"] = m["dy"].view(B, T, nh, hs).transpose(1, 2)
        return m


# -----------------------------------------------------------------------------
# the block, the embeddings and the loss


class ManualBlock(Piece):
    """A `transformer.Block`: x + attn(ln_1(x)), then + mlp(ln_2(.))."""

    def __init__(self, block: nn.Module, generator: torch.Generator):
        super().__init__()
        self.ln_1, self.ln_2 = ManualLayerNorm(block.ln_1), ManualLayerNorm(block.ln_2)
        self.attn = ManualAttention(block.attn, generator)
        self.mlp = ManualMLP(block.mlp, generator)
        self.C = block.ln_1.weight.numel()

    def children(self):
        return [self.ln_1, self.attn, self.ln_2, self.mlp]

    def buffers(self, B, T, N, like):
        return {"x1": self.scratch("x1", like, N, self.C),
                "x2": self.scratch("x2", like, N, self.C)}

    def fwd(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        x1 = torch.add(x, self.attn.fwd(self.ln_1.fwd(x), rows), out=self.m["x1"])  # (N, C)
        return torch.add(x1, self.mlp.fwd(self.ln_2.fwd(x1)), out=self.m["x2"])

    def bwd(self, dx: torch.Tensor, need_dx: bool = True) -> torch.Tensor:
        """The residual stream's gradient, in place: in comes d loss / d output, out goes
        d loss / d input (each branch's gradient added to what passes straight through)."""
        self.ln_2.bwd(self.mlp.bwd(dx), add_to=dx)  # d loss / d x1
        return self.ln_1.bwd(self.attn.bwd(dx), add_to=dx)  # d loss / d x


class ManualEmbedding(Piece):
    """`Transformer.embed` on the kept rows: wte[token] + wpe[position], then dropout."""

    def __init__(self, model: nn.Module, generator: torch.Generator):
        super().__init__()
        self.wte = model.wte.weight
        self.wpe = None if model.wpe is None else model.wpe.weight
        self.C = self.wte.shape[1]
        self.drop = ManualDropout(model.drop, generator, lambda B, T, N: (N, self.C))

    def children(self):
        return [self.drop]

    def buffers(self, B, T, N, like):
        return {"x": self.scratch("x", like, N, self.C), "p": self.scratch("p", like, N, self.C)}

    def bind_grads(self) -> None:
        self.gwte, self.gwpe = self.wte.grad, _grad(self.wpe)
        super().bind_grads()

    def fwd(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """(N,) tokens at (N,) positions -> (N, C)."""
        m = self.m
        self.tokens, self.positions = tokens, positions
        x = torch.index_select(self.wte, 0, tokens, out=m["x"])  # (N, C)
        if self.wpe is not None:
            x.add_(torch.index_select(self.wpe, 0, positions, out=m["p"]))
        return self.drop.fwd(x)

    def bwd(self, dx: torch.Tensor, need_dx: bool = False) -> None:
        dx = self.drop.bwd(dx)  # (N, C)
        self.gwte.zero_().index_add_(0, self.tokens, dx)  # each lookup's gradient to its row
        if self.gwpe is not None:
            self.gwpe.zero_().index_add_(0, self.positions, dx)  # and to its position's
        return None


class ManualCrossEntropy(Piece):
    """The mean negative log-likelihood of the targets that are not -1, from (N, V) logits.

    `targets(y)` turns the (N,) targets into `t`, onehot(y) / n on the n rows with a target
    and 0 on the others, and `w`, 1 / n or 0 per row: then the loss is -sum(t * logp), and the
    gradient of the logits is softmax * w - t."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.V = vocab_size

    def buffers(self, B, T, N, like):
        V, s = self.V, self.scratch
        m = {"logp": s("logp", like, N, V), "dlogits": s("dlogits", like, N, V),
             "t": s("t", like, N, V), "w": s("w", like, N, 1),
             "index": s("index", like, N, 1, dtype=torch.long)}
        m["t_flat"], m["logp_flat"] = m["t"].view(-1), m["logp"].view(-1)
        return m

    def targets(self, y: torch.Tensor) -> None:
        m = self.m
        y = y.view(-1, 1)  # (N, 1)
        w = m["w"].copy_(y != IGNORE)  # 1 where a target counts
        w.div_(w.sum())  # 1 / n there
        torch.clamp(y, min=0, out=m["index"])  # any index on the rows without a target
        m["t"].zero_().scatter_(1, m["index"], w)  # (N, V): w at the target

    def fwd(self, logits: torch.Tensor) -> torch.Tensor:
        torch._log_softmax(logits, 1, False, out=self.m["logp"])  # (N, V)
        return -torch.dot(self.m["t_flat"], self.m["logp_flat"])

    def bwd(self) -> torch.Tensor:
        m = self.m
        dlogits = torch.exp(m["logp"], out=m["dlogits"])  # softmax
        return dlogits.mul_(m["w"]).sub_(m["t"])  # (softmax - onehot) / n on counted rows


# -----------------------------------------------------------------------------
# the training step


ROWS_MULTIPLE = 8  # the rows kept are rounded up to a multiple of this (see kept_rows)


def kept_rows(y: torch.Tensor, multiple: int = ROWS_MULTIPLE) -> torch.Tensor:
    """The positions of a (B, T) minibatch the step computes, as (N,) indices into its B * T
    positions: each word's positions up to its last target. The padding after a word is left
    out: for a causal model it changes nothing but the work, since no position with a target
    attends to a later one. Then N is rounded up to a multiple of `multiple` (or to B * T) with
    the first padding positions in order, which extend some words by a position or two, carry
    no loss and get no gradient, so that the step meets few different N (the buffers' views
    are made once per size). With `makemore.sequences.padded_words` data the rows kept are
    the rows with a target, and those few."""
    B, T = y.shape
    counted = (y != IGNORE).long()  # (B, T)
    upto = (counted * torch.arange(1, T + 1, device=y.device)).amax(1, keepdim=True)  # (B, 1)
    keep = (torch.arange(T, device=y.device) < upto).view(-1)  # (B * T,): t <= last target's
    extra = -int(keep.sum()) % multiple  # how many padding positions to add
    if extra:
        padding = ~keep
        keep |= padding & (padding.cumsum(0) <= extra)  # the first ones, word by word
    return keep.nonzero().squeeze(1)


class TransformerStep:
    """One training step of a `transformer.Transformer` on the manual path (the Step protocol
    of `makemore.training`): what `makemore.training.AutogradStep` does, without autograd.

    `step(x, y)` cuts the minibatch to its longest word (`trim_padding`, as AutogradStep),
    keeps each word's positions up to its last target (`kept_rows`: the padding after each word
    is left out), runs every piece's `fwd`, the cross-entropy, and every piece's `bwd` in
    reverse, leaves each parameter's gradient in its `.grad`, and returns the loss as a 0-dim
    tensor. Dropout draws its masks from a generator of the step's own, seeded with `seed`
    (`cfg.seed` in the loop), so the same seed gives the same run; with dropout 0 the step
    takes the autograd path's steps (a test trains both ways in float64).
    """

    grad_enabled = False  # the loop runs `step` with autograd off

    def __init__(self, model: nn.Module, seed: int):
        self.model = model
        self.params = list(model.parameters())
        like = self.params[0]
        self.generator = torch.Generator(device=like.device).manual_seed(seed)
        g = self.generator
        self.embed = ManualEmbedding(model, g)
        self.blocks = [ManualBlock(block, g) for block in model.blocks]
        self.ln_f = ManualLayerNorm(model.ln_f)
        self.lm_head = ManualLinear(model.lm_head)
        self.loss = ManualCrossEntropy(model.lm_head.weight.shape[0])
        self.pieces: list[Piece] = [self.embed, *self.blocks, self.ln_f, self.lm_head, self.loss]
        for p in self.params:
            p.grad = torch.zeros_like(p)
        self.bind_grads()
        self.size = None

    @property
    def rng_state(self) -> torch.Tensor:
        """The dropout masks' generator, where it stands (a resumed run continues from it)."""
        return self.generator.get_state()

    @rng_state.setter
    def rng_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)

    def bind_grads(self) -> None:
        for piece in self.pieces:
            piece.bind_grads()

    def fresh_grads(self) -> None:
        """A new `.grad` tensor per parameter, as autograd gives, so a callback may keep one."""
        for p in self.params:
            p.grad = torch.empty_like(p)  # every step writes all of it
        self.bind_grads()

    def prepare(self, B: int, T: int, N: int) -> None:
        if (B, T, N) != self.size:
            self.size = (B, T, N)
            for piece in self.pieces:
                piece.prepare(B, T, N, self.params[0])

    def batches(self, Xc: torch.Tensor, Yc: torch.Tensor):
        B, T = Xc.shape[1:]
        self.prepare(B, T, B * T)  # the largest first: smaller minibatches view its memory
        return zip(Xc.unbind(0), Yc.unbind(0), strict=True)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss of (B, T) indices x and targets y, keeping what the backward needs."""
        x, y = trim_padding(x, y)  # (B, T') with T' <= T
        B, T = x.shape
        rows = kept_rows(y)  # (N,) positions
        self.prepare(B, T, rows.numel())
        h = self.embed.fwd(x.reshape(-1)[rows], rows % T)  # (N, C)
        for block in self.blocks:
            h = block.fwd(h, rows)  # (N, C)
        logits = self.lm_head.fwd(self.ln_f.fwd(h))  # (N, V)
        self.loss.targets(y.reshape(-1)[rows])
        return self.loss.fwd(logits)

    def backward(self) -> None:
        d = self.lm_head.bwd(self.loss.bwd())  # (N, C)
        d = self.ln_f.bwd(d)  # the residual stream's gradient, one buffer from here down
        for block in reversed(self.blocks):
            d = block.bwd(d)
        self.embed.bwd(d)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.forward(x, y)
        self.backward()
        return loss
