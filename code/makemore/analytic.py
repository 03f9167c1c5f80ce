"""The MLP's forward and backward pass with the chain rule written out: the fast training path.

For a network as small as the Part 2/3 MLP (a 32 x 30 by 30 x 200 matrix product is the biggest
piece of work), autograd's bookkeeping costs more than the arithmetic: every operation records
a graph node, allocates its output and later its gradient. makemore Part 4 ("becoming a
backprop ninja") derives every gradient of this network by hand; this module is those formulas
turned into a training kernel. One step is about twenty torch calls into buffers allocated once,
no graph, and `makemore.training.train` uses it automatically for a `makemore.mlp.MLP`.

The gradients, with B the batch size, p = softmax(logits), y the one-hot targets:

    dlogits = (p - y) / B
    dW2 = h^T dlogits            db2 = sum_b dlogits          dh = dlogits W2^T
    dhpreact = dh * (1 - h^2)                                              (tanh)
    dW1 = embcat^T dhpre         db1 = sum_b dhpre            dembcat = dhpre W1^T
    dC[i] = sum of the rows of dembcat that looked up character i           (index_add_)

With the lecture's BatchNorm (xhat = (hpre - mean) / s, s = std + eps, std the unbiased batch
standard deviation; hpreact = gain * xhat + bias):

    dbias = sum_b dhpreact       dgain = sum_b dhpreact * xhat
    dhpre = gain / s * (dhpreact - dbias / B - xhat * dgain * s / (std * (B - 1)))

(the compact form of Part 4, where the lecture's variance is the unbiased one, no eps inside).

Two further savings, both the same math with different rounding:
- tanh(x) = 2 sigmoid(2x) - 1. torch's CPU tanh kernel is not vectorised, sigmoid is: on a
  32 x 200 batch sigmoid and the two cheap ops around it take a third of tanh's time.
- The cross-entropy gradient is one call to log-softmax's backward with the target gradient
  -y/B, drawn up front for many steps at once; the loss is the dot product of that same tensor
  with the log-probabilities.

tests/test_training.py checks every gradient against autograd in float64.

Reference: A. Karpathy, "Building makemore Part 4: Becoming a Backprop Ninja" (2022),
https://github.com/karpathy/nn-zero-to-hero/blob/master/lectures/makemore/makemore_part4_backprop.ipynb
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # makemore.mlp imports makemore.training, which imports this module
    from makemore.mlp import MLP

# -----------------------------------------------------------------------------
# which models this path can train


def supports(model: object) -> bool:
    """True for exactly `makemore.mlp.MLP` (a subclass could change the forward pass)."""
    from makemore.mlp import MLP

    return type(model) is MLP


# -----------------------------------------------------------------------------
# the kernel


class MLPKernel:
    """Forward and backward of an `MLP` for one batch size, into buffers allocated once.

    `step(x, t)` runs one minibatch in training mode: it fills `grads` (aligned with
    `model.parameters()`, and installed as each parameter's `.grad`), updates the BatchNorm
    running statistics, and returns the minibatch's mean cross-entropy as a 0-dim tensor
    (no host sync). `update(lr)` then takes the SGD step in place.
    """

    tanh_via_sigmoid: bool = True  # 2 sigmoid(2x) - 1 instead of torch.tanh (bench/ablation.py)

    def __init__(self, model: MLP, batch_size: int):
        cfg = model.cfg
        self.model = model
        self.bn = cfg.batchnorm
        self.eps = cfg.bn_eps
        self.momentum = cfg.bn_momentum
        B, T, E, H, V = batch_size, cfg.block_size, cfg.n_embd, cfg.n_hidden, cfg.vocab_size
        self.B, self.V = B, V
        # 0-dim tensors, not Python numbers: a number operand costs a conversion on every call
        self.two = torch.tensor(2.0, dtype=model.C.dtype, device=model.C.device)
        self.minus_one = torch.tensor(-1.0, dtype=model.C.dtype, device=model.C.device)
        if self.bn and B < 2:
            raise ValueError("BatchNorm's unbiased batch std needs a batch of at least 2")
        ref = model.C
        empty = lambda *shape: torch.empty(shape, dtype=ref.dtype, device=ref.device)  # noqa: E731

        # Parameters as detached aliases: updated in place, seen by the model, no autograd.
        self.params = [p.detach() for p in model.parameters()]
        self.grads = [torch.zeros_like(p) for p in self.params]
        for p, g in zip(model.parameters(), self.grads, strict=True):
            p.grad = g  # callbacks read p.grad, as after loss.backward()
        self.C, self.W1, self.W2, self.b2 = (
            model.C.detach(), model.W1.detach(), model.W2.detach(), model.b2.detach())
        self.W1T, self.W2T = self.W1.t(), self.W2.t()  # views: follow the in-place updates
        self.ones_row = torch.ones((1, B), dtype=ref.dtype, device=ref.device)
        self._bind_grads()

        # activations and their gradients
        self.emb = empty(B, T * E)  # (B, block_size * n_embd), the concatenated embeddings
        self.emb_rows = self.emb.view(B * T, E)  # (B * block_size, n_embd), one row per lookup
        self.embT = self.emb.t()
        self.pre = empty(B, H)  # the tanh's input (times 2 for the sigmoid route)
        self.h = empty(B, H)  # tanh output
        self.hT = self.h.t()
        self.logits = empty(B, V)
        self.logp = empty(B, V)  # log-softmax
        self.logp_flat = self.logp.view(-1)
        self.dlogits = empty(B, V)
        self.dh = empty(B, H)  # d loss / d h, then d loss / d (tanh input)
        self.tmp = empty(B, H)
        self.demb = empty(B, T * E)
        self.demb_rows = self.demb.view(B * T, E)
        if self.bn:
            self.bngain, self.bnbias = model.bngain.detach(), model.bnbias.detach()
            self.hpre = empty(B, H)  # embcat @ W1, then hpre - mean
            self.xhat = empty(B, H)  # the normalised preactivation
            self.mean, self.var, self.std = empty(1, H), empty(1, H), empty(1, H)
            self.scale = empty(1, H)
            self.mean_row = torch.full((1, B), 1.0 / B, dtype=ref.dtype, device=ref.device)
            self.var_row = torch.full((1, B), 1.0 / (B - 1), dtype=ref.dtype, device=ref.device)
            self.running = [model.bnmean_running, model.bnstd_running]
            self.batch_stats = [self.mean, self.std]
        else:
            self.b1 = model.b1.detach()

    def fresh_grads(self) -> None:
        """Give every parameter a new gradient tensor for the next step, as autograd does, so a
        callback may keep a step's `p.grad` (the kernel otherwise reuses one buffer each)."""
        self.grads = [torch.empty_like(g) for g in self.grads]
        for p, g in zip(self.model.parameters(), self.grads, strict=True):
            p.grad = g
        self._bind_grads()

    def _bind_grads(self) -> None:
        named = dict(zip(self._names(), self.grads, strict=True))
        self.gC, self.gW1, self.gW2 = named["C"], named["W1"], named["W2"]
        self.gb2 = named["b2"].view(1, -1)  # row views: bias gradients are ones_row @ d(out)
        if self.bn:
            self.ggain, self.gbias = named["bngain"], named["bnbias"]  # already (1, n_hidden)
        else:
            self.gb1 = named["b1"].view(1, -1)

    def _names(self) -> list[str]:
        if self.bn:
            return ["C", "W1", "W2", "b2", "bngain", "bnbias"]
        return ["C", "W1", "b1", "W2", "b2"]

    # -- targets
    def targets(self, Y: torch.Tensor) -> torch.Tensor:
        """(..., B) next-character indices -> (..., B, vocab) gradient of the mean loss with
        respect to the log-probabilities: -1/B at each target, 0 elsewhere."""
        t = torch.zeros((*Y.shape, self.V), dtype=self.C.dtype, device=self.C.device)
        return t.scatter_(-1, Y.unsqueeze(-1), -1.0 / Y.shape[-1])

    # -- one step
    def step(self, x: torch.Tensor, t: torch.Tensor, t_flat: torch.Tensor | None = None
             ) -> torch.Tensor:
        """x: (B * block_size,) context indices, flattened; t: (B, vocab) from `targets`
        (t_flat: the same, viewed as (B * vocab,), if the caller has it)."""
        # forward: embedding lookup, hidden layer, output layer
        torch.index_select(self.C, 0, x, out=self.emb_rows)  # (B * block_size, n_embd)
        k = 2 if self.tanh_via_sigmoid else 1
        if self.bn:
            self._batchnorm_forward(k)  # self.pre = k * (gain * xhat + bias)
        else:
            torch.addmm(self.b1, self.emb, self.W1, beta=k, alpha=k, out=self.pre)
        if self.tanh_via_sigmoid:
            h = torch.sigmoid(self.pre, out=self.h)
            torch.add(self.minus_one, h, alpha=2, out=h)  # tanh(hpreact) = 2 sigmoid(2 hpreact) - 1
        else:
            h = torch.tanh(self.pre, out=self.h)
        torch.addmm(self.b2, h, self.W2, out=self.logits)  # (B, vocab)
        torch._log_softmax(self.logits, 1, False, out=self.logp)
        t_flat = t.view(-1) if t_flat is None else t_flat
        loss = torch.dot(t_flat, self.logp_flat)  # mean negative log-likelihood

        # backward: cross-entropy, output layer, tanh
        torch._log_softmax_backward_data(t, self.logp, 1, self.logp.dtype, out=self.dlogits)
        torch.mm(self.hT, self.dlogits, out=self.gW2)
        torch.mm(self.ones_row, self.dlogits, out=self.gb2)  # sum over the batch
        dh = torch.mm(self.dlogits, self.W2T, out=self.dh)  # (B, n_hidden)
        torch.mul(dh, h, out=self.tmp)
        torch.addcmul(dh, self.tmp, h, value=-1, out=dh)  # dh * (1 - h^2)
        if self.bn:
            self._batchnorm_backward()  # dh becomes d loss / d hpre
        else:
            torch.mm(self.ones_row, dh, out=self.gb1)
        torch.mm(self.embT, dh, out=self.gW1)
        torch.mm(dh, self.W1T, out=self.demb)  # (B, block_size * n_embd)
        self.gC.zero_()
        self.gC.index_add_(0, x, self.demb_rows)  # each lookup sends its gradient to its row
        return loss

    def _batchnorm_forward(self, k: int) -> None:
        hpre = torch.mm(self.emb, self.W1, out=self.hpre)  # (B, n_hidden)
        torch.mm(self.mean_row, hpre, out=self.mean)  # (1, n_hidden); mm beats mean(0) here
        hpre.sub_(self.mean)  # centred
        torch.mul(hpre, hpre, out=self.xhat)
        torch.mm(self.var_row, self.xhat, out=self.var)  # unbiased, as tensor.std()
        torch.sqrt(self.var, out=self.std)
        s = self.std if self.eps == 0 else self.std + self.eps
        torch.div(hpre, s, out=self.xhat)
        torch.addcmul(self.bnbias, self.bngain, self.xhat, out=self.pre)
        if k != 1:
            self.pre.mul_(self.two)
        torch._foreach_lerp_(self.running, self.batch_stats, self.momentum)  # running stats

    def _batchnorm_backward(self) -> None:
        dh, xhat, B = self.dh, self.xhat, self.B
        torch.mm(self.ones_row, dh, out=self.gbias)  # (1, n_hidden)
        torch.mul(dh, xhat, out=self.tmp)
        torch.mm(self.ones_row, self.tmp, out=self.ggain)
        if self.eps == 0:
            c, s = self.ggain, self.std
        else:
            s = self.std + self.eps
            c = self.ggain * s / self.std
        torch.addcmul(dh, xhat, c, value=-1.0 / (B - 1), out=dh)
        dh.add_(self.gbias, alpha=-1.0 / B)
        dh.mul_(torch.div(self.bngain, s, out=self.scale))  # d loss / d hpre, (B, n_hidden)

    # -- the SGD step
    def update(self, lr: float) -> None:
        torch._foreach_add_(self.params, self.grads, alpha=-lr)


# -----------------------------------------------------------------------------
# one minibatch, for tests and the book


def loss_and_grads(model: MLP, X: torch.Tensor, Y: torch.Tensor) -> tuple[float, list]:
    """The minibatch (X (B, block_size), Y (B,)) loss and the analytic gradients of every
    parameter (in `model.parameters()` order), in training mode; BatchNorm running statistics
    are updated, as a training step's forward pass would."""
    kernel = MLPKernel(model, X.shape[0])
    loss = kernel.step(X.reshape(-1), kernel.targets(Y))
    return loss.item(), [g.clone() for g in kernel.grads]
