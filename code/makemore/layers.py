"""Neural-network layers written from scratch, each with its backward pass written by hand.

makemore Part 3 "PyTorch-ifies" the MLP: each piece of the network becomes a small object with
`__call__`, `parameters()` and a `training` flag, and a network is a list of them. Part 4
("becoming a backprop ninja") then writes every gradient by hand. The classes below are both:

- `forward(x)` is the plain torch code a reader reads (autograd records it), and computes what
  the torch.nn namesake computes (the tests check forward, backward, running statistics and
  train/eval mode against torch.nn). `__call__` runs it, keeps the output in `.out` and runs
  forward hooks, so that `makemore.diagnostics` can look inside.
- `fwd(x)` / `bwd(dout)` are the same layer on the *manual* path: the forward pass into buffers
  allocated once, keeping what the backward needs, and the backward pass with the chain rule
  written out, writing each parameter's gradient into its `.grad` and returning the gradient
  of the input. No graph is recorded. For networks this small, autograd's bookkeeping costs
  more than the arithmetic, so `Sequential.manual_step` (which `makemore.training.train` asks
  for) trains any stack of these layers several times faster than autograd would. The tests
  check every `bwd` against autograd in float64, layer by layer and for whole stacks.

Conventions that differ from torch.nn, on purpose, as in the lectures:
- `Linear.weight` is (fan_in, fan_out), so the forward is `x @ W` (torch.nn stores W^T), and it
  is initialised `randn * gain / sqrt(fan_in)` (LeCun-style scaling, with the gain of He et
  al. for the nonlinearity); torch.nn uses a uniform.
- Parameters are plain tensors with `requires_grad`, drawn from the generator passed in (the
  lectures' seeded one); without a generator, from torch's global one, as torch.nn does.
- `BatchNorm1d` also accepts (B, T, C) input and normalises over B and T (Part 5 needs this);
  torch.nn.BatchNorm1d expects channels in the middle, (B, C, T).

References:
- Ioffe & Szegedy, "Batch Normalization", 2015. https://arxiv.org/abs/1502.03167
- He et al., "Delving Deep into Rectifiers" (Kaiming init), 2015. https://arxiv.org/abs/1502.01852
- https://github.com/karpathy/nn-zero-to-hero (lectures/makemore, parts 3, 4 and 5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

ForwardHook = Callable[["Module", torch.Tensor, torch.Tensor], None]  # (layer, input, output)


# -----------------------------------------------------------------------------
# the base class: what every layer has


class Module:
    """A layer: `__call__` runs `forward`, keeps the result in `.out`, then runs forward hooks.

    A layer lists the names of its parameter and buffer attributes in `param_names` and
    `buffer_names`; `parameters()`, `named_parameters()`, `buffers()` and `to()` follow from
    them, so a name is written once.
    """

    training: bool = True
    param_names: tuple[str, ...] = ()
    buffer_names: tuple[str, ...] = ()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.forward(x)
        self.out = out
        for hook in getattr(self, "_hooks", {}).values():
            hook(self, x, out)
        return out

    def register_forward_hook(self, hook: ForwardHook) -> Callable[[], None]:
        """Call `hook(layer, input, output)` after every forward; returns a function that removes
        it (torch.nn returns a handle with `.remove()`; `diagnostics` accepts either)."""
        if "_hooks" not in self.__dict__:
            self._hooks: dict[int, ForwardHook] = {}
        key = max(self._hooks, default=-1) + 1
        self._hooks[key] = hook
        return lambda: self._hooks.pop(key, None)

    def has_hooks(self) -> bool:
        return bool(getattr(self, "_hooks", None))

    # -- parameters and buffers, derived from the names
    def named_parameters(self) -> list[tuple[str, torch.Tensor]]:
        return [(n, getattr(self, n)) for n in self.param_names if getattr(self, n) is not None]

    def parameters(self) -> list[torch.Tensor]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> list[tuple[str, torch.Tensor]]:
        return [(n, getattr(self, n)) for n in self.buffer_names]

    def buffers(self) -> list[torch.Tensor]:
        return [b for _, b in self.named_buffers()]

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
           ) -> Module:
        """Move (or cast) parameters and buffers; parameters stay trainable leaves."""
        for name, p in self.named_parameters():
            setattr(self, name, p.detach().to(device=device, dtype=dtype).requires_grad_(True))
        for name, b in self.named_buffers():
            setattr(self, name, b.to(device=device, dtype=dtype))
        return self

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    # -- the manual path: forward into buffers, backward by hand (see Sequential.manual_step)
    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        """Allocate the manual path's buffers for inputs of `shape` (float ones like `like`);
        return the shape of the output. Called once per training run, before `fwd`."""
        raise NotImplementedError(f"{type(self).__name__} has no hand-written backward")

    def bind_grads(self) -> None:
        """Take the views of the parameters' `.grad` that `bwd` writes into (again, after the
        gradient tensors were replaced)."""

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        """The forward pass in training mode into the prepared buffers, keeping what `bwd`
        needs; no graph."""
        raise NotImplementedError(f"{type(self).__name__} has no hand-written backward")

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        """d loss / d output -> d loss / d input (None when `need_dx` is False); writes each
        parameter's gradient into its `.grad`. May overwrite `dout`."""
        raise NotImplementedError(f"{type(self).__name__} has no hand-written backward")

    def __getstate__(self) -> dict:
        """Pickle (or deep-copy) the layer without its last output, hooks and manual buffers:
        they belong to one forward pass, and a graph cannot cross a process boundary."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("out", "_hooks") and not k.startswith("_m_")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _empty(like: torch.Tensor, *shape: int) -> torch.Tensor:
    return torch.empty(shape, dtype=like.dtype, device=like.device)


def _full(like: torch.Tensor, value: float, *shape: int) -> torch.Tensor:
    return torch.full(shape, value, dtype=like.dtype, device=like.device)


# -----------------------------------------------------------------------------
# the layers


class Linear(Module):
    """y = x @ W (+ b), W drawn from randn * weight_scale (by default gain / sqrt(fan_in)).

    The bias starts at zero, or, with `bias_scale`, is drawn from randn * bias_scale right after
    the weight (the lectures' raw-tensor MLP draws b1 and b2 that way).
    """

    param_names = ("weight", "bias")

    def __init__(self, fan_in: int, fan_out: int, bias: bool = True, gain: float = 1.0,
                 generator: torch.Generator | None = None, weight_scale: float | None = None,
                 bias_scale: float | None = None):
        g = generator  # None: torch's global generator, as torch.nn
        scale = gain / math.sqrt(fan_in) if weight_scale is None else weight_scale
        self.weight = (torch.randn((fan_in, fan_out), generator=g) * scale).requires_grad_(True)
        self.bias = None
        if bias:
            b = (torch.zeros(fan_out) if bias_scale is None
                 else torch.randn(fan_out, generator=g) * bias_scale)
            self.bias = b.requires_grad_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight  # (..., fan_out)
        return out + self.bias if self.bias is not None else out

    # The manual path works on rows: a (B, T, C) input is a (B * T, C) matrix (a view).
    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        fan_in, fan_out = self.weight.shape
        n = math.prod(shape[:-1])
        self._m_rows = (n, fan_in) if len(shape) > 2 else None
        self._m_out = _empty(like, n, fan_out)
        self._m_out_view = self._m_out.view(*shape[:-1], fan_out)
        self._m_dx = _empty(like, n, fan_in)
        self._m_dx_view = self._m_dx.view(shape)
        self._m_ones = _full(like, 1.0, 1, n)
        self._m_WT = self.weight.t()  # a view: follows the in-place updates
        self._m_src = None
        self.bind_grads()
        return (*shape[:-1], fan_out)

    def bind_grads(self) -> None:
        self._m_gW = self.weight.grad
        self._m_gb = None if self.bias is None else self.bias.grad.view(1, -1)

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        if x is not self._m_src:  # inputs are the layer before's buffers: views made once
            self._m_src = x
            self._m_x = x if self._m_rows is None else x.reshape(self._m_rows)  # (N, fan_in)
            self._m_xT = self._m_x.t()
        if self.bias is not None:
            torch.addmm(self.bias, self._m_x, self.weight, out=self._m_out)
        else:
            torch.mm(self._m_x, self.weight, out=self._m_out)
        return self._m_out_view

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        d2 = dout if self._m_rows is None else dout.reshape(self._m_out.shape)  # (N, fan_out)
        torch.mm(self._m_xT, d2, out=self._m_gW)  # dW = x^T dout
        if self._m_gb is not None:
            torch.mm(self._m_ones, d2, out=self._m_gb)  # db = the sum over the rows
        if not need_dx:
            return None
        torch.mm(d2, self._m_WT, out=self._m_dx)  # dx = dout W^T
        return self._m_dx_view

    def __repr__(self) -> str:
        fan_in, fan_out = self.weight.shape
        return f"Linear({fan_in}, {fan_out}, bias={self.bias is not None})"


class BatchNorm1d(Module):
    """Normalise each feature over the batch, then scale by gamma and shift by beta.

    Training mode uses the batch's mean and variance and updates running estimates (exponential
    moving averages, with weight `momentum` on the newest batch) that eval mode uses instead, so
    a single example can be run through the trained network. With the defaults this is exactly
    torch.nn.BatchNorm1d: the biased variance normalises, the unbiased one is tracked.
    `unbiased=True` normalises with the unbiased variance (Bessel's correction), as the
    lecture's Part 4 does; `makemore.mlp` uses Part 3's own variant, `StdBatchNorm1d`.

    For (B, T, C) input the statistics are taken over B and T (`dims="batch_time"`, what Part 5
    arrives at). `dims="batch"` reproduces the bug Part 5 finds in its own layer first: the
    mean and variance over dim 0 only, so each of the T `positions` gets statistics of its own
    from B examples, and the running statistics are (T, C) (the lecture's were (1, T, C)).
    """

    param_names = ("gamma", "beta")
    buffer_names = ("running_mean", "running_var")

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1,
                 unbiased: bool = False, dims: str = "batch_time", positions: int | None = None):
        if dims not in ("batch_time", "batch"):
            raise ValueError(f"dims must be 'batch_time' or 'batch', not {dims!r}")
        if (dims == "batch") != (positions is not None):
            raise ValueError("dims='batch' (statistics per position) needs `positions`, "
                             "and only it")
        self.eps = eps
        self.momentum = momentum  # weight of the newest batch in the running averages
        self.unbiased = unbiased
        self.dims = dims
        self.gamma = torch.ones(dim, requires_grad=True)  # learnable gain
        self.beta = torch.zeros(dim, requires_grad=True)  # learnable bias
        stats = (dim,) if positions is None else (positions, dim)  # one per position: the bug
        self.running_mean = torch.zeros(stats)  # buffers: updated by forward, not by gradients
        self.running_var = torch.ones(stats)

    def _per_position(self, shape: tuple[int, ...]) -> bool:
        """True for the bug's statistics (over dim 0 only); checks the input fits them."""
        if self.dims == "batch_time":
            return False
        T, C = self.running_mean.shape
        if tuple(shape[1:]) != (T, C):
            raise ValueError(f"dims='batch' expects (B, {T}, {C}) input, not {tuple(shape)}")
        return True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        per_position = self._per_position(x.shape)  # the bug: statistics per (t, c)
        dims = (0,) if x.ndim == 2 or per_position else (0, 1)  # (B, C) or (B, T, C)
        if self.training:
            n = x.shape[0] if per_position else x.numel() // x.shape[-1]
            xmean = x.mean(dims, keepdim=True)  # (1, C), (1, 1, C), or (1, T, C) per position
            xvar = x.var(dims, keepdim=True, unbiased=self.unbiased)
            with torch.no_grad():
                m = self.momentum
                unbiased = xvar if self.unbiased else xvar * (n / max(n - 1, 1))
                stats = self.running_mean.shape
                self.running_mean.mul_(1 - m).add_(xmean.reshape(stats), alpha=m)
                self.running_var.mul_(1 - m).add_(unbiased.reshape(stats), alpha=m)
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # unit variance per feature
        return self.gamma * xhat + self.beta

    # The manual path works on an (n, k) matrix: rows are what the statistics average over,
    # columns the features that get statistics of their own. (N, C) with N = B or B * T; for
    # the bug (statistics per position), (B, T * C), and gamma and beta broadcast over T.
    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        c = shape[-1]
        per_position = self._m_pp = self._per_position(shape)
        n = shape[0] if per_position else math.prod(shape[:-1])
        k = math.prod(shape[1:]) if per_position else c
        d = (n - 1) if self.unbiased else n  # the variance's divisor
        self._m_n, self._m_d = n, d
        self._m_3d = len(shape) > 2
        self._m_mean, self._m_var, self._m_inv = (_empty(like, 1, k) for _ in range(3))
        self._m_scale = _empty(like, 1, k)
        self._m_xhat, self._m_out, self._m_tmp, self._m_dx = (_empty(like, n, k)
                                                              for _ in range(4))
        self._m_mean_row = _full(like, 1.0 / n, 1, n)
        self._m_var_row = _full(like, 1.0 / d, 1, n)
        self._m_ones = _full(like, 1.0, 1, n)
        self._m_bessel = n / max(n - 1, 1)  # the running variance is the unbiased one
        stats = self.running_mean.shape  # (C,), or (T, C) per position
        self._m_mean_r, self._m_var_r = self._m_mean.view(stats), self._m_var.view(stats)
        if per_position:  # the affine map and the scale of dx broadcast gamma over T
            self._m_gamma, self._m_stats = self.gamma, (-1, c)
            self._m_xhat_a, self._m_out_a = self._m_xhat.view(shape), self._m_out.view(shape)
            self._m_inv_a, self._m_scale_a = self._m_inv.view(stats), self._m_scale.view(stats)
            self._m_s1, self._m_s2 = _empty(like, 1, k), _empty(like, 1, k)  # sums per column
        else:
            self._m_gamma = self.gamma.view(1, -1)
            self._m_xhat_a, self._m_out_a = self._m_xhat, self._m_out
            self._m_inv_a, self._m_scale_a = self._m_inv, self._m_scale
        self.bind_grads()
        return shape

    def bind_grads(self) -> None:
        self._m_gbeta = self.beta.grad.view(1, -1)
        self._m_ggamma = self.gamma.grad.view(1, -1)
        if not self._m_pp:  # the column sums are the gradients of beta and gamma themselves
            self._m_s1, self._m_s2 = self._m_gbeta, self._m_ggamma

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(self._m_out.shape) if self._m_3d else x  # (n, k)
        mean, var, inv, xhat, out = (self._m_mean, self._m_var, self._m_inv, self._m_xhat,
                                     self._m_out)
        if not self.training:  # eval: the running statistics, a fixed affine map
            torch.add(self.running_var.view(1, -1), self.eps, out=inv).rsqrt_()
            torch.sub(x2, self.running_mean.view(1, -1), out=xhat).mul_(inv)
            torch.addcmul(self.beta, self.gamma, self._m_xhat_a, out=self._m_out_a)
            return out.view(x.shape) if self._m_3d else out
        torch.mm(self._m_mean_row, x2, out=mean)  # (1, C): the mean over rows, as one mm
        torch.sub(x2, mean, out=xhat)  # centred
        torch.mul(xhat, xhat, out=out)
        torch.mm(self._m_var_row, out, out=var)  # (1, C): the variance
        torch.add(var, self.eps, out=inv).rsqrt_()  # 1 / sqrt(var + eps)
        xhat.mul_(inv)
        torch.addcmul(self.beta, self.gamma, self._m_xhat_a, out=self._m_out_a)
        m = self.momentum
        self.running_mean.lerp_(self._m_mean_r, m)
        if not self.unbiased:
            var.mul_(self._m_bessel)
        self.running_var.lerp_(self._m_var_r, m)
        return out.view(x.shape) if self._m_3d else out

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        # y = gamma * xhat + beta, xhat = (x - mean) * inv, inv = (var + eps)^(-1/2), var a sum
        # of squares over d (n, or n - 1 with Bessel's correction):
        # dx = gamma * inv * (dout - sum(dout) / n - xhat * sum(dout * xhat) / d)
        # With the bug's statistics the sums run over the rows of each column (each position),
        # and dbeta, dgamma add those column sums up over the positions.
        d2 = dout.reshape(self._m_out.shape) if self._m_3d else dout
        s1, s2 = self._m_s1, self._m_s2
        torch.mm(self._m_ones, d2, out=s1)  # sum(dout) per column: dbeta, (1, C)
        torch.mul(d2, self._m_xhat, out=self._m_tmp)
        torch.mm(self._m_ones, self._m_tmp, out=s2)  # sum(dout * xhat): dgamma, (1, C)
        if self._m_pp:
            torch.sum(s1.view(self._m_stats), 0, keepdim=True, out=self._m_gbeta)
            torch.sum(s2.view(self._m_stats), 0, keepdim=True, out=self._m_ggamma)
        if not need_dx:
            return None
        dx = self._m_dx
        if self.training:  # the batch statistics depend on every row: two more terms
            torch.addcmul(d2, self._m_xhat, s2, value=-1.0 / self._m_d, out=dx)
            dx.add_(s1, alpha=-1.0 / self._m_n)
        else:
            dx.copy_(d2)
        torch.mul(self._m_gamma, self._m_inv_a, out=self._m_scale_a)
        dx.mul_(self._m_scale)
        return dx.view(dout.shape) if self._m_3d else dx

    def __repr__(self) -> str:
        bug = "" if self.dims == "batch_time" else (f", dims='batch', "
                                                    f"positions={len(self.running_mean)}")
        return (f"BatchNorm1d({self.gamma.numel()}, eps={self.eps}, momentum={self.momentum}"
                f"{bug})")


class StdBatchNorm1d(Module):
    """Part 3's own BatchNorm, as the lecture wrote it inside its raw-tensor MLP.

    It divides by the batch's *standard deviation* plus eps (unbiased, `tensor.std()`; the
    lecture adds no eps at all), tracks a running mean and a running std with momentum 0.001,
    and keeps its gain and bias as (1, C) rows. Same idea as `BatchNorm1d`, different rounding
    and a different train/eval mismatch.
    """

    param_names = ("gain", "bias")
    buffer_names = ("running_mean", "running_std")

    def __init__(self, dim: int, eps: float = 0.0, momentum: float = 0.001):
        self.eps = eps
        self.momentum = momentum
        self.gain = torch.ones((1, dim), requires_grad=True)
        self.bias = torch.zeros((1, dim), requires_grad=True)
        self.running_mean = torch.zeros((1, dim))
        self.running_std = torch.ones((1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean = x.mean(0, keepdim=True)  # (1, C)
            std = x.std(0, keepdim=True)  # (1, C), unbiased
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_std.mul_(1 - m).add_(m * std)
        else:
            mean, std = self.running_mean, self.running_std
        return self.gain * (x - mean) / (std + self.eps) + self.bias

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        B, c = shape
        self._m_B = B
        self._m_mean, self._m_var, self._m_std, self._m_scale = (_empty(like, 1, c)
                                                                 for _ in range(4))
        self._m_xhat, self._m_out, self._m_tmp = (_empty(like, B, c) for _ in range(3))
        self._m_mean_row = _full(like, 1.0 / B, 1, B)
        self._m_var_row = _full(like, 1.0 / (B - 1), 1, B)
        self._m_ones = _full(like, 1.0, 1, B)
        self._m_running = [self.running_mean, self.running_std]
        self._m_batch = [self._m_mean, self._m_std]
        self.bind_grads()
        return shape

    def bind_grads(self) -> None:
        self._m_gbias, self._m_ggain = self.bias.grad, self.gain.grad  # (1, C) each

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        mean, std, xhat, out = self._m_mean, self._m_std, self._m_xhat, self._m_out
        if not self.training:  # eval: the running statistics, a fixed affine map
            torch.add(self.running_std, self.eps, out=std)
            torch.sub(x, self.running_mean, out=xhat).div_(std)
            torch.addcmul(self.bias, self.gain, xhat, out=out)
            return out
        torch.mm(self._m_mean_row, x, out=mean)  # (1, C); mm beats mean(0) here
        x.sub_(mean)  # centred, in the input's buffer (the Linear before keeps its own input)
        torch.mul(x, x, out=xhat)
        torch.mm(self._m_var_row, xhat, out=self._m_var)  # unbiased, as tensor.std()
        torch.sqrt(self._m_var, out=std)
        s = std if self.eps == 0 else std + self.eps
        torch.div(x, s, out=xhat)
        torch.addcmul(self.bias, self.gain, xhat, out=out)
        torch._foreach_lerp_(self._m_running, self._m_batch, self.momentum)  # running stats
        return out

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        # xhat = (x - mean) / s with s = std + eps and std the unbiased std: the compact form
        # dx = gain / s * (dout - dbias / B - xhat * dgain * s / (std * (B - 1)))
        xhat, B = self._m_xhat, self._m_B
        gbias, ggain = self._m_gbias, self._m_ggain
        torch.mm(self._m_ones, dout, out=gbias)
        torch.mul(dout, xhat, out=self._m_tmp)
        torch.mm(self._m_ones, self._m_tmp, out=ggain)
        if not need_dx:
            return None
        if not self.training:  # the running std is a constant: dx = dout * gain / std
            return dout.mul_(torch.div(self.gain, self._m_std, out=self._m_scale))
        if self.eps == 0:
            c, s = ggain, self._m_std
        else:
            s = self._m_std + self.eps
            c = ggain * s / self._m_std
        torch.addcmul(dout, xhat, c, value=-1.0 / (B - 1), out=dout)
        dout.add_(gbias, alpha=-1.0 / B)
        dout.mul_(torch.div(self.gain, s, out=self._m_scale))
        return dout

    def __repr__(self) -> str:
        return f"StdBatchNorm1d({self.gain.numel()}, eps={self.eps}, momentum={self.momentum})"


class Tanh(Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        self._m_h, self._m_tmp = _empty(like, *shape), _empty(like, *shape)
        return shape

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x, out=self._m_h)

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        h = self._m_h  # d tanh = 1 - tanh^2, in place in dout: dout - dout * h * h
        torch.mul(dout, h, out=self._m_tmp)
        torch.addcmul(dout, self._m_tmp, h, value=-1, out=dout)
        return dout


class Identity(Module):
    """A no-op in a nonlinearity's place: the network without tanh, still observable there."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        return shape

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        return dout


class ReLU(Module):
    """max(0, x): the rectifier of He et al. (gain sqrt 2). A unit whose input is negative for
    every example passes no gradient at all: a dead ReLU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        self._m_h = _empty(like, *shape)
        self._m_off = torch.empty(shape, dtype=torch.bool, device=like.device)
        return shape

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        torch.le(x, 0, out=self._m_off)  # where the unit is off: no gradient passes
        return torch.clamp(x, min=0, out=self._m_h)

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        return dout.masked_fill_(self._m_off, 0.0)  # d relu = 1 where x > 0, else 0


class Embedding(Module):
    """A lookup table: integer indices (...) -> rows of `weight` (..., embedding_dim)."""

    param_names = ("weight",)

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 generator: torch.Generator | None = None):
        g = generator  # None: torch's global generator, as torch.nn
        self.weight = torch.randn((num_embeddings, embedding_dim), generator=g)
        self.weight.requires_grad_(True)

    def forward(self, ix: torch.Tensor) -> torch.Tensor:
        return self.weight[ix]

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        E = self.weight.shape[1]
        self._m_out = _empty(self.weight, math.prod(shape), E)  # one row per lookup
        self._m_out_view = self._m_out.view(*shape, E)
        self._m_dsrc = None
        self.bind_grads()
        return (*shape, E)

    def bind_grads(self) -> None:
        self._m_gW = self.weight.grad

    def fwd(self, ix: torch.Tensor) -> torch.Tensor:
        self._m_ix = ix if ix.ndim == 1 else ix.reshape(-1)  # (N,) lookups
        torch.index_select(self.weight, 0, self._m_ix, out=self._m_out)
        return self._m_out_view

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> None:
        if dout is not self._m_dsrc:  # the same buffer every step: one view, made once
            self._m_dsrc, self._m_drows = dout, dout.reshape(self._m_out.shape)
        g = self._m_gW
        g.zero_()
        g.index_add_(0, self._m_ix, self._m_drows)  # each lookup sends its gradient to its row
        return None

    def __repr__(self) -> str:
        return f"Embedding({self.weight.shape[0]}, {self.weight.shape[1]})"


class Flatten(Module):
    """(B, ...) -> (B, everything else): concatenates the context's embeddings."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1)

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        self._m_in, self._m_out = shape, (shape[0], math.prod(shape[1:]))
        self._m_src = self._m_dsrc = None
        return self._m_out

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        if x is not self._m_src:  # the same buffer every step: one view, made once
            self._m_src, self._m_view = x, x.view(self._m_out)
        return self._m_view

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        if dout is not self._m_dsrc:
            self._m_dsrc, self._m_dview = dout, dout.view(self._m_in)
        return self._m_dview


class FlattenConsecutive(Module):
    """(B, T, C) -> (B, T / n, C * n): n consecutive positions side by side (Part 5, WaveNet).

    When a single position is left, the middle dimension is dropped: (B, C * n).
    """

    def __init__(self, n: int):
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        x = x.reshape(B, T // self.n, C * self.n)  # (B, T / n, C * n)
        return x.squeeze(1) if x.shape[1] == 1 else x

    def prepare(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[int, ...]:
        B, T, C = shape
        out = (B, T // self.n, C * self.n)
        self._m_in, self._m_out = shape, (out if out[1] > 1 else (B, C * self.n))
        return self._m_out

    def fwd(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(self._m_out)

    def bwd(self, dout: torch.Tensor, need_dx: bool = True) -> torch.Tensor | None:
        return dout.reshape(self._m_in)

    def __repr__(self) -> str:
        return f"FlattenConsecutive({self.n})"


class Sequential(Module):
    """Layers applied in order; `train()`/`eval()` set every layer's mode."""

    def __init__(self, layers: list[Module]):
        self.layers = list(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def named_parameters(self) -> list[tuple[str, torch.Tensor]]:
        """('2.weight', W) ... : torch.nn's naming, layer index then attribute."""
        return [(f"{i}.{n}", p) for i, layer in enumerate(self.layers)
                for n, p in layer.named_parameters()]

    def named_buffers(self) -> list[tuple[str, torch.Tensor]]:
        return [(f"{i}.{n}", b) for i, layer in enumerate(self.layers)
                for n, b in layer.named_buffers()]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
           ) -> Sequential:
        for layer in self.layers:
            layer.to(device, dtype)
        return self

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def has_hooks(self) -> bool:
        return any(layer.has_hooks() for layer in self.layers) or super().has_hooks()

    # -- the manual path
    def manual_step(self, cfg) -> ManualStep | None:
        """The hand-written training step for this stack, or None where it does not apply:
        a layer without a hand-written backward, hooks to feed (a recorder watching the
        activations needs autograd), or a recipe it does not implement (full batch, a weight
        penalty). Any optimiser will do: the update reads only each parameter's `.grad`."""
        manual = all(type(layer).bwd is not Module.bwd for layer in self.layers)
        simple = cfg.batch_size is not None and cfg.l2 == 0
        if not (manual and simple) or self.has_hooks():
            return None
        return ManualStep(self)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


# -----------------------------------------------------------------------------
# the manual training step: every layer's fwd, the loss, every layer's bwd


class ManualStep:
    """One training step's forward and backward of a `Sequential`, with no autograd at all.

    `batches(Xc, Yc)` turns a chunk of minibatches into the arguments of `step`; `step(x, t,
    t_flat)` runs every layer's `fwd`, the mean cross-entropy, and every layer's `bwd` in
    reverse, leaving each parameter's gradient in its `.grad`, and returns the loss as a 0-dim
    tensor (no host sync). Used by `makemore.training.train` under `torch.no_grad()`.

    The cross-entropy backward is (softmax - onehot) / B, the gradient of log-softmax with the
    target gradient -onehot / B, which `batches` draws up front for a whole chunk; the loss is
    the dot product of that same tensor with the log-probabilities.
    """

    grad_enabled = False  # the loop runs `step` with autograd off

    def __init__(self, model: Sequential):
        self.model = model
        self.layers = list(model.layers)
        self.params = model.parameters()
        for p in self.params:
            p.grad = torch.zeros_like(p)
        # a layer's input needs a gradient only if some layer before it has parameters
        seen, need_dx = False, []
        for layer in self.layers:
            need_dx.append(seen)
            seen = seen or bool(layer.parameters())
        self.fwds = [layer.fwd for layer in self.layers]
        self.bwds = list(zip([layer.bwd for layer in self.layers], need_dx, strict=True))[::-1]
        self.vocab_size = _out_features(self.layers)
        self.shape = None  # the input shape the buffers are prepared for

    def _prepare(self, shape: tuple[int, ...]) -> None:
        like = self.params[0]
        for layer in self.layers:
            shape = layer.prepare(shape, like)
        self.logp = _empty(like, *shape)
        self.logp_flat = self.logp.view(-1)
        self.dlogits = _empty(like, *shape)

    def fresh_grads(self) -> None:
        """A new `.grad` tensor per parameter, as autograd gives, so a callback may keep one."""
        for p in self.params:
            p.grad = torch.empty_like(p)
        for layer in self.layers:
            layer.bind_grads()

    def batches(self, Xc: torch.Tensor, Yc: torch.Tensor):
        if self.shape != tuple(Xc.shape[1:]):
            self.shape = tuple(Xc.shape[1:])
            self._prepare(self.shape)
        like = self.params[0]
        t = torch.zeros((*Yc.shape, self.vocab_size), dtype=like.dtype, device=like.device)
        t.scatter_(-1, Yc.unsqueeze(-1), -1.0 / Yc.shape[-1])  # (chunk, B, V): -1/B at targets
        tf = t.view(t.shape[0], -1)  # (chunk, B * V)
        if isinstance(self.layers[0], Embedding):
            Xc = Xc.reshape(Xc.shape[0], -1)  # (chunk, B * T): the lookups, flat
        return zip(Xc.unbind(0), t.unbind(0), tf.unbind(0), strict=True)

    def step(self, x: torch.Tensor, t: torch.Tensor, t_flat: torch.Tensor) -> torch.Tensor:
        h = x
        for fwd in self.fwds:
            h = fwd(h)  # (B, V) logits at the end
        logp = torch._log_softmax(h, 1, False, out=self.logp)  # (B, V)
        loss = torch.dot(t_flat, self.logp_flat)  # mean negative log-likelihood
        d = torch._log_softmax_backward_data(t, logp, 1, logp.dtype, out=self.dlogits)
        for bwd, need in self.bwds:
            d = bwd(d, need)
        return loss


def _out_features(layers: list[Module]) -> int:
    """The width of the stack's output: the last dimension of its last parameter."""
    for layer in reversed(layers):
        params = layer.parameters()
        if params:
            return params[-1].shape[-1]
    raise ValueError("a stack without parameters has nothing to train")
