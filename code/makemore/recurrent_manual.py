"""makemore.py's recurrent models (the RNN and the GRU of `makemore.recurrent`) on a
hand-written backward: backpropagation through time, written out.

`makemore.transformer_manual` trains the Transformer without autograd; the same treatment pays
more here. A recurrent step runs its cell once per position, each time on a (32, 64) state, so
a step is a long chain of tiny operations, and autograd's bookkeeping (a graph node and new
tensors for each, the `cat` of every cell call and its backward) costs several times the
arithmetic. Measured before this module was written, a first sketch already took 1.5x (RNN)
and 1.2x (GRU) fewer CPU seconds per step than `AutogradStep`; written as below (buffers
allocated once, the input's share of every cell's product computed for all positions in one
matrix product, the weight gradients of all positions in one product after the loop) it takes
about half of AutogradStep's, and a third to a quarter of makemore.py's own step
(`bench/train_speed.py --models rnn,gru` measures it, one thread).

Layout: time-major. A (B, T) minibatch is cut to its longest word (`trim_padding`) and read
as T rows of B words, so that position t of every word is one contiguous (B, .) block. The
buffer `xh` (T + 1, B, E + H) holds, for each t, the rows [x_t | h_{t-1}] the cell reads, as
makemore.py's `torch.cat([xt, hprev])`, and the cell writes h_t straight into the next
block's second part: all hidden states are then one strided (T * B, H) view for the output
layer, and all cell inputs one (T * B, E + H) matrix for the weight gradient.

The chain rule (a is a pre-activation; W = [W_x | W_h] acts on [x | h]):

- RNN cell, h_t = tanh(a_t), a_t = W [x_t | h_{t-1}] + b. Backward from the last position to
  the first: dh_t = (d loss / d h_t from the output layer) + da_{t+1} W_h, da_t = dh_t
  (1 - h_t^2); then dW = sum_t da_t^T [x_t | h_{t-1}], db = sum_t da_t, dx_t = da_t W_x, and
  the learned start state gets sum over the batch of da_0 W_h.
- GRU cell (makemore.py's, see `recurrent.GRUCell`), r = sigmoid(a_r), z = sigmoid(a_z) on
  [x | h], hbar = tanh(a_hbar) on [x | r h], h' = h + z (hbar - h). Backward per position:
  dhbar = dh' z, dz = dh' (hbar - h), da_hbar = dhbar (1 - hbar^2), d(r h) = da_hbar W_hbar,h,
  dr = d(r h) h, da_r = dr r (1 - r), da_z = dz z (1 - z), and the gradient that goes on to
  h is dh' (1 - z) + d(r h) r + [da_r | da_z] [W_r,h ; W_z,h].
- Embedding, output layer and cross-entropy: as in `makemore.transformer_manual`, whose
  `ManualLinear` and `ManualCrossEntropy` this module uses.

No `*_backward` kernel of torch's is used. The two steps take the same steps as autograd's (a
test trains both ways in float64); `RNN.manual_step` offers the step to the loop.

References:
- Werbos, "Backpropagation Through Time: What It Does and How to Do It", 1990.
- Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder", 2014 (the GRU).
- https://github.com/karpathy/makemore (makemore.py: RNNCell, GRUCell, RNN)
"""

from __future__ import annotations

import torch
from torch import nn

from makemore.sequences import trim_padding
from makemore.transformer_manual import ManualCrossEntropy, ManualLinear, Piece, Scratch

# -----------------------------------------------------------------------------
# the cells: the recurrence over T positions of B words, forward and backward


class ManualRecurrence(Piece):
    """What the two cells share: the [x_t | h_{t-1}] buffer, the learned start state, the
    input's share of the pre-activations for all positions at once, and the views per t."""

    gates = 1  # pre-activations computed from [x | h] per position: 1 (RNN) or 3 (GRU)

    def __init__(self, model: nn.Module, weights: list[torch.Tensor], biases: list[torch.Tensor]):
        super().__init__()
        self.start = model.start  # (1, H), the learned h_{-1}
        self.weights, self.biases = weights, biases  # each (H, E + H), (H,)
        self.H = self.start.shape[1]
        self.E = weights[0].shape[1] - self.H

    def key(self, B, T, N):
        return (B, T)

    def stacked(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The gates' weights on top of each other, (gates H, E + H), and their biases: one
        product serves every gate (the parameters change every step: copied each step)."""
        if len(self.weights) == 1:
            return self.weights[0], self.biases[0]
        W, b = self.m["W"], self.m["b"]
        torch.cat(self.weights, out=W)
        torch.cat(self.biases, out=b)
        return W, b

    def buffers(self, B, T, N, like):
        s, E, H, G = self.scratch, self.E, self.H, self.gates
        m = {"xh": s("xh", like, T + 1, B, E + H), "xp": s("xp", like, T, B, G * H),
             "da": s("da", like, T, B, G * H), "W": s("W", like, G * H, E + H),
             "b": s("b", like, G * H), "dstart": s("dstart", like, B, H),
             "dx": s("dx", like, T * B, E)}
        xh = m["xh"]
        m["x"] = xh[:T, :, :E]  # (T, B, E): the embeddings go here
        m["xh_rows"] = xh[:T].view(T * B, E + H)  # every cell input, one row each
        m["h"] = xh[1:, :, E:]  # (T, B, H): h_t, strided
        m["h_rows"] = m["h"].view(T * B, H)  # every hidden state: the output layer's input
        m["h_in"] = xh[:T, :, E:].unbind(0)  # h_{t-1} for t = 0 .. T - 1
        m["xp_t"], m["da_t"] = m["xp"].unbind(0), m["da"].unbind(0)
        m["da_rows"] = m["da"].view(T * B, G * H)
        return m

    def fwd(self, emb: torch.Tensor) -> torch.Tensor:
        """(T, B, E) embeddings -> (T * B, H) hidden states, time-major rows."""
        m = self.m
        m["x"].copy_(emb)
        m["h_in"][0].copy_(self.start.expand_as(m["h_in"][0]))  # h_{-1}
        W, b = self.stacked()
        E = self.E
        self.Wx, self.Wh = W[:, :E], W[:, E:]  # (G H, E), (G H, H)
        torch.addmm(b, m["xh_rows"][:, :E], self.Wx.t(), out=m["xp"].view(-1, W.shape[0]))
        self.recur()
        return m["h_rows"]

    def bwd(self, dh: torch.Tensor) -> torch.Tensor:
        """(T * B, H) d loss / d h_t from the output layer -> (T * B, E) d loss / d x_t; the
        cell's and the start state's gradients go into their `.grad`. Overwrites `dh`."""
        m = self.m
        T, B = m["xp"].shape[:2]
        self.recur_back(dh.view(T, B, self.H).unbind(0))
        da = m["da_rows"]  # (T * B, G H)
        H = self.H
        for g, (W, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            self.weight_grad(g, da[:, g * H:(g + 1) * H], W.grad, bias.grad)
        self.start.grad.copy_(m["dstart"].sum(0, keepdim=True))  # every word starts from it
        return torch.mm(da, self.Wx, out=m["dx"])  # dx_t = sum over the gates of da_t W_x

    def weight_grad(self, g: int, da: torch.Tensor, gW: torch.Tensor, gb: torch.Tensor):
        torch.mm(da.t(), self.m["xh_rows"], out=gW)  # dW = sum over t of da_t^T [x_t | h_{t-1}]
        torch.sum(da, 0, out=gb)


class ManualRNNCell(ManualRecurrence):
    """`recurrent.RNNCell` over all positions: h_t = tanh(W [x_t | h_{t-1}] + b)."""

    gates = 1

    def __init__(self, model: nn.Module):
        lin = model.cell.xh_to_h
        super().__init__(model, [lin.weight], [lin.bias])

    def buffers(self, B, T, N, like):
        m = super().buffers(B, T, N, like)
        m["h2"] = self.scratch("h2", like, T, B, self.H)  # h^2: tanh' = 1 - h^2
        m["h2_t"] = m["h2"].unbind(0)
        m["h_t"] = m["h"].unbind(0)
        return m

    def recur(self) -> None:
        m, WhT = self.m, self.Wh.t()
        for xp, h_prev, h in zip(m["xp_t"], m["h_in"], m["h_t"], strict=True):
            torch.addmm(xp, h_prev, WhT, out=h).tanh_()  # (B, H), into [x_{t+1} | h_t]

    def recur_back(self, dh: tuple[torch.Tensor, ...]) -> None:
        m, Wh = self.m, self.Wh
        torch.mul(m["h"], m["h"], out=m["h2"])  # every position's at once
        da, h2 = m["da_t"], m["h2_t"]
        for t in reversed(range(len(dh))):
            if t + 1 < len(dh):
                torch.addmm(dh[t], da[t + 1], Wh, out=dh[t])  # + what h_t did to a_{t+1}
            torch.addcmul(dh[t], dh[t], h2[t], value=-1.0, out=da[t])  # da = dh (1 - h^2)
        torch.mm(da[0], Wh, out=m["dstart"])  # what h_{-1} did to a_0


class ManualGRUCell(ManualRecurrence):
    """`recurrent.GRUCell` over all positions (gates r, z, then the candidate hbar)."""

    gates = 3

    def __init__(self, model: nn.Module):
        c = model.cell
        lins = [c.xh_to_r, c.xh_to_z, c.xh_to_hbar]
        super().__init__(model, [lin.weight for lin in lins], [lin.bias for lin in lins])

    def buffers(self, B, T, N, like):
        m = super().buffers(B, T, N, like)
        s, E, H = self.scratch, self.E, self.H
        m["rz"] = s("rz", like, T, B, 2 * H)  # the gates r | z
        m["hbar"] = s("hbar", like, T, B, H)  # the candidates, then hbar^2
        m["diff"] = s("diff", like, T, B, H)  # hbar - h_{t-1}
        m["xrh"] = s("xrh", like, T, B, E + H)  # [x_t | r_t h_{t-1}]: what hbar reads
        m["dhbar"], m["drh"] = s("dhbar", like, B, H), s("drh", like, B, H)
        m["xrh_rows"] = m["xrh"].view(T * B, E + H)
        for name in ("rz", "hbar", "diff"):
            m[name + "_t"] = m[name].unbind(0)
        m["rh_t"] = m["xrh"][:, :, E:].unbind(0)
        m["h_t"] = m["h"].unbind(0)
        return m

    def recur(self) -> None:
        m, H = self.m, self.H
        m["xrh"][:, :, :self.E].copy_(m["x"])
        WrzT, WhbT = self.Wh[:2 * H].t(), self.Wh[2 * H:].t()  # (H, 2H), (H, H)
        for xp, h_prev, h, rz, hbar, diff, rh in zip(
                m["xp_t"], m["h_in"], m["h_t"], m["rz_t"], m["hbar_t"], m["diff_t"], m["rh_t"],
                strict=True):
            torch.addmm(xp[:, :2 * H], h_prev, WrzT, out=rz).sigmoid_()  # r | z, (B, 2H)
            torch.mul(rz[:, :H], h_prev, out=rh)  # r h, into [x | r h]
            torch.addmm(xp[:, 2 * H:], rh, WhbT, out=hbar).tanh_()  # the candidate
            torch.sub(hbar, h_prev, out=diff)
            torch.addcmul(h_prev, rz[:, H:], diff, out=h)  # h + z (hbar - h)

    def recur_back(self, dh: tuple[torch.Tensor, ...]) -> None:
        m, H = self.m, self.H
        dhbar, drh = m["dhbar"], m["drh"]
        Wrz, Whb = self.Wh[:2 * H], self.Wh[2 * H:]  # (2H, H), (H, H)
        # for every position at once: the gates' derivatives r (1 - r) | z (1 - z), in the
        # place of da_r | da_z (each is multiplied by dr, dz below), and hbar^2 in hbar's
        torch.addcmul(m["rz"], m["rz"], m["rz"], value=-1.0, out=m["da"][..., :2 * H])
        m["hbar"].mul_(m["hbar"])
        for t in reversed(range(len(dh))):
            g, h2, diff, da = m["rz_t"][t], m["hbar_t"][t], m["diff_t"][t], m["da_t"][t]
            h_prev, r, z = m["h_in"][t], g[:, :H], g[:, H:]
            d = dh[t]  # d loss / d h_t
            torch.mul(d, z, out=dhbar)
            da_r, da_z, da_hbar = da[:, :H], da[:, H:2 * H], da[:, 2 * H:]
            da_z.mul_(torch.mul(d, diff, out=drh))  # dz z (1 - z), dz = dh (hbar - h)
            torch.addcmul(dhbar, dhbar, h2, value=-1.0, out=da_hbar)  # dhbar (1 - hbar^2)
            torch.mm(da_hbar, Whb, out=drh)  # d(r h)
            da_r.mul_(h_prev).mul_(drh)  # dr r (1 - r), dr = d(r h) h
            # on to h_{t-1}: dh (1 - z) + d(r h) r + [da_r | da_z] W_rz,h
            prev = dh[t - 1] if t else m["dstart"].zero_()
            prev.add_(d).sub_(dhbar).addcmul_(drh, r)
            torch.addmm(prev, da[:, :2 * H], Wrz, out=prev)

    def weight_grad(self, g: int, da: torch.Tensor, gW: torch.Tensor, gb: torch.Tensor):
        if g < 2:  # r and z read [x | h]
            return super().weight_grad(g, da, gW, gb)
        torch.mm(da.t(), self.m["xrh_rows"], out=gW)  # hbar reads [x | r h]
        torch.sum(da, 0, out=gb)


# -----------------------------------------------------------------------------
# the training step


class RecurrentStep:
    """One training step of a `recurrent.RNN` (either cell) on the manual path, the Step
    protocol of `makemore.training`: the minibatch cut to its longest word (`trim_padding`,
    as `AutogradStep`), the embeddings, the recurrence, the output layer and the cross-entropy
    over the targets that count, then all of it backward; the gradients are left in each
    parameter's `.grad` and the loss is returned as a 0-dim tensor."""

    grad_enabled = False  # the loop runs `step` with autograd off

    def __init__(self, model: nn.Module):
        self.model = model
        self.params = list(model.parameters())
        self.wte = model.wte.weight
        self.cell = (ManualGRUCell if model.cell_type == "gru" else ManualRNNCell)(model)
        self.lm_head = ManualLinear(model.lm_head)
        self.loss = ManualCrossEntropy(model.lm_head.weight.shape[0])
        self.pieces: list[Piece] = [self.cell, self.lm_head, self.loss]
        self.scratch = Scratch()  # the embeddings' buffer
        for p in self.params:
            p.grad = torch.zeros_like(p)
        self.bind_grads()
        self.size = None

    def bind_grads(self) -> None:
        for piece in self.pieces:
            piece.bind_grads()

    def fresh_grads(self) -> None:
        """A new `.grad` tensor per parameter, as autograd gives, so a callback may keep one."""
        for p in self.params:
            p.grad = torch.empty_like(p)  # every step writes all of it
        self.bind_grads()

    def prepare(self, B: int, T: int) -> None:
        if (B, T) != self.size:
            self.size = (B, T)
            for piece in self.pieces:
                piece.prepare(B, T, B * T, self.params[0])
            self.emb_buf = self.scratch("emb", self.wte, T * B, self.wte.shape[1])

    def batches(self, Xc: torch.Tensor, Yc: torch.Tensor):
        self.prepare(*Xc.shape[1:])  # the largest first: shorter minibatches view its memory
        return zip(Xc.unbind(0), Yc.unbind(0), strict=True)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = trim_padding(x, y)  # (B, T') with T' <= T
        B, T = x.shape
        self.prepare(B, T)
        tokens = x.t().reshape(-1)  # (T * B,): time-major, position t of every word together
        emb = torch.index_select(self.wte, 0, tokens, out=self.emb_buf)  # (T * B, E)
        h = self.cell.fwd(emb.view(T, B, -1))  # (T * B, H)
        logits = self.lm_head.fwd(h)  # (T * B, V)
        self.loss.targets(y.t().reshape(-1))
        loss = self.loss.fwd(logits)
        demb = self.cell.bwd(self.lm_head.bwd(self.loss.bwd()))  # (T * B, E)
        self.wte.grad.zero_().index_add_(0, tokens, demb)  # each lookup's gradient to its row
        return loss
