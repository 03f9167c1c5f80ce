"""What training does inside a network: the statistics behind makemore Part 3's dashboard.

A loss curve says *whether* a network learns; these statistics say *why not*. For the layers
you choose (by default every nonlinearity), a `Recorder` keeps, via forward hooks and tensor
hooks, the last training step's outputs and the gradients flowing back into them; on every step
(through `makemore.training.train`'s callback) it records, for every parameter, the size of the
update relative to the size of the parameter. From those it computes the lecture's four views:

1. activations: per layer mean, std, share saturated (|t| > 0.97 for tanh) and a histogram;
2. gradients of those activations: mean, std, histogram (do they shrink or grow with depth?);
3. weight gradients: histogram and the grad:data ratio std(grad) / std(weight);
4. update:data ratio over training: log10(std(lr * grad) / std(weight)), about -3 when healthy.

It works on any `torch.nn.Module` and on the from-scratch layers of `makemore.layers` (which
offer the same `register_forward_hook`; a model being recorded trains on autograd, since
the hooks need its graph). The drawings are in `makemore.figures`.

Reference: https://github.com/karpathy/nn-zero-to-hero (lectures/makemore/makemore_part3_bn.ipynb)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from makemore import layers as L

SATURATION = 0.97  # the lecture's threshold: tanh outputs beyond it pass < 6% of the gradient
BINS = 50  # histogram bins: a batch of 32 x 100 values fills 50 bins without too much noise
DEFAULT_WATCH = (L.Tanh, L.Identity, nn.Tanh)  # layer types recorded when `watch` is not given

# -----------------------------------------------------------------------------
# statistics of one tensor


@dataclass
class Stats:
    """Summary of one tensor: what the dashboard prints in its legends and plots as a curve."""

    name: str
    mean: float
    std: float
    saturated: float  # share of entries with |x| > threshold (meaningful for tanh outputs)
    centers: torch.Tensor = field(repr=False)  # (bins,) histogram bin centres
    density: torch.Tensor = field(repr=False)  # (bins,) histogram, integrating to 1
    ratio: float | None = None  # weights only: std(grad) / std(data)
    shape: tuple[int, ...] = ()


def saturation(t: torch.Tensor, threshold: float = SATURATION) -> float:
    """Share of the entries of t whose magnitude exceeds `threshold`."""
    return (t.abs() > threshold).float().mean().item()


def histogram(t: torch.Tensor, bins: int = BINS) -> tuple[torch.Tensor, torch.Tensor]:
    """(centres, density) of a `bins`-bin histogram over t's range; density integrates to 1."""
    t = t.detach().float().flatten()
    t = t[t.isfinite()]  # a diverged run holds inf/nan: histogram what is left
    if t.numel() == 0:
        return torch.zeros(bins), torch.zeros(bins)
    lo, hi = t.min().item(), t.max().item()
    if hi <= lo:  # a constant tensor: one narrow bin around it
        lo, hi = lo - 1e-6, hi + 1e-6
    density, edges = torch.histogram(t, bins=bins, range=(lo, hi), density=True)
    return (edges[:-1] + edges[1:]) / 2, density


def tensor_stats(name: str, t: torch.Tensor, threshold: float = SATURATION,
                 bins: int = BINS) -> Stats:
    t = t.detach()
    centers, density = histogram(t, bins)
    return Stats(name, t.mean().item(), t.std().item(), saturation(t, threshold), centers, density,
                 shape=tuple(t.shape))


def grad_data_ratio(p: torch.Tensor) -> float:
    """std(grad) / std(data): how big a gradient step is next to the weights it would change."""
    return (p.grad.std() / p.data.std()).item()


def update_data_ratio(p: torch.Tensor, lr: float) -> float:
    """log10(std(lr * grad) / std(data)): the relative size of the SGD update to p."""
    return ((lr * p.grad).std() / p.data.std()).log10().item()


# -----------------------------------------------------------------------------
# the recorder


def _default_watch(model) -> list[tuple[str, object]]:
    if isinstance(model, nn.Module):
        return [(f"{name} ({type(m).__name__})", m) for name, m in model.named_modules()
                if isinstance(m, DEFAULT_WATCH)]
    if isinstance(model, L.Sequential):
        return [(f"layer {i} ({type(m).__name__})", m) for i, m in enumerate(model.layers)
                if isinstance(m, DEFAULT_WATCH)]
    raise TypeError("give `watch` explicitly for a model that is not a Sequential or nn.Module")


def _named_parameters(model) -> list[tuple[str, torch.Tensor]]:
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    return [(f"param {i}", p) for i, p in enumerate(model.parameters())]


@dataclass
class Report:
    """Everything the dashboard draws, for one recorded training run."""

    activations: list[Stats]  # per watched layer, at the last recorded training step
    gradients: list[Stats]  # d loss / d (those outputs), same step
    weights: list[Stats]  # gradients of the 2-D parameters, with grad:data ratios
    updates: torch.Tensor  # (steps, n_params) log10 update:data ratio per step
    update_names: list[str]  # parameter names, one per column of `updates`
    update_2d: list[bool]  # which columns are 2-D parameters (the ones the lecture plots)


class Recorder:
    """Hooks into `model` and records what the dashboard needs while it trains.

    Use: `rec = Recorder(model)`, then `train(model, X, Y, cfg, callback=rec.on_step)`, then
    `rec.report()`. Activations, their gradients and the weight gradients are those of the last
    training step, as in the lecture, or of step `at_step` when given (`at_step=0`: the network
    as it starts). Forward passes that build no graph (evaluation) are ignored. The update:data
    ratios cover every step.
    """

    def __init__(self, model, watch: list[tuple[str, object]] | None = None,
                 threshold: float = SATURATION, at_step: int | None = None):
        self.model = model
        self.threshold = threshold
        self.at_step = at_step
        self._step = 0  # index of the training step under way (steps completed so far)
        self._weights: list[Stats] | None = None  # the weight view, when frozen at `at_step`
        self.watch = list(watch) if watch is not None else _default_watch(model)
        self.params = _named_parameters(model)
        self.outputs: dict[str, torch.Tensor] = {}
        self.grads: dict[str, torch.Tensor] = {}
        self._ratios: list[torch.Tensor] = []
        self._handles = [layer.register_forward_hook(self._forward_hook(name))
                         for name, layer in self.watch]

    def _forward_hook(self, name: str):
        def hook(module, inputs, out: torch.Tensor) -> None:
            if not out.requires_grad:  # evaluation: not a step the dashboard shows
                return
            if self.at_step is not None and self._step != self.at_step:
                return
            self.outputs[name] = out.detach()

            def grad_hook(grad: torch.Tensor) -> None:
                self.grads[name] = grad.detach()

            out.register_hook(grad_hook)

        return hook

    @torch.no_grad()
    def on_step(self, step: int, lr: float, loss: torch.Tensor | None = None) -> None:
        """The training callback: log10 update:data ratio of every parameter, after the update."""
        nan = torch.tensor(float("nan"))  # a parameter this step did not touch
        ratios = [(lr * p.grad).std() / p.data.std() if p.grad is not None else nan
                  for _, p in self.params]
        self._ratios.append(torch.stack(ratios).log10())  # (n_params,)
        if self.at_step is not None and step == self.at_step:
            self._weights = self._weight_stats()
        self._step = step + 1

    def remove(self) -> None:
        """Detach the hooks (the model trains on unobserved afterwards)."""
        for h in self._handles:
            h() if callable(h) else h.remove()
        self._handles = []

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    # -- the four views
    def activations(self) -> list[Stats]:
        return [tensor_stats(name, self.outputs[name], self.threshold)
                for name, _ in self.watch if name in self.outputs]

    def gradients(self) -> list[Stats]:
        return [tensor_stats(name, self.grads[name], self.threshold)
                for name, _ in self.watch if name in self.grads]

    def weights(self) -> list[Stats]:
        return self._weights if self._weights is not None else self._weight_stats()

    def _weight_stats(self) -> list[Stats]:
        out = []
        for name, p in self.params:
            if p.ndim == 2 and p.grad is not None:
                s = tensor_stats(name, p.grad, self.threshold)
                s.ratio = grad_data_ratio(p)
                s.shape = tuple(p.shape)
                out.append(s)
        return out

    def updates(self) -> torch.Tensor:
        """(steps, n_params) log10 update:data ratios, one row per recorded step."""
        if not self._ratios:
            return torch.empty(0, len(self.params))
        return torch.stack(self._ratios)

    def report(self) -> Report:
        return Report(self.activations(), self.gradients(), self.weights(), self.updates(),
                      [name for name, _ in self.params], [p.ndim == 2 for _, p in self.params])
