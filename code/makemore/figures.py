"""The figures more than one page draws, and the style every figure of the book shares.

A chapter draws its one-off figures itself, in a cell a reader can open; the families of
figures that recur live here: a table of counts, training curves, the histograms and the
dashboard of Chapter 3's diagnostics, and the results chart. Every figure, here or in a
chapter, is drawn inside `styled`, which applies the book's style for the duration of the
drawing (never at import: importing this module changes no global setting) and gives the
figure an opaque white background, so its text stays legible in the site's dark mode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import Bbox

from makemore.training import smooth_log10

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
}
# Wide multi-panel figures are scaled down to the width of the text column, and their text
# with them: `legible` draws them with larger text.
LEGIBLE = {"font.size": 12, "legend.fontsize": 10, "axes.titlesize": 12}


def styled(draw: Callable | None = None, *, legible: bool = False) -> Callable:
    """Decorate a function that draws a figure: it runs inside the book's style."""
    def decorate(draw: Callable) -> Callable:
        @functools.wraps(draw)
        def wrapper(*args, **kwargs):
            with plt.rc_context({**STYLE, **(LEGIBLE if legible else {})}):
                return draw(*args, **kwargs)
        return wrapper
    return decorate(draw) if draw is not None else decorate


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.0):
    """A white figure with a grid of axes, the starting point of every plot (call it inside
    a `styled` function)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")
    fig.patch.set_facecolor("white")
    return fig, axes


# -----------------------------------------------------------------------------
# a table of counts


@styled()
def plot_count_table(N, itos) -> Figure:
    """A table of counts as the lecture draws the bigram counts: each cell shows its pair of
    characters (row, column) and its count, darker for larger counts."""
    V = len(itos)
    fig, ax = new_figure(width=16, height=16)
    ax.imshow(N.numpy(), cmap="Blues")
    dark = 0.45 * N.max().item()  # above this the cell is dark: write in white
    for i in range(V):
        for j in range(V):
            color = "white" if N[i, j] > dark else "dimgray"
            ax.text(j, i, itos[i] + itos[j], ha="center", va="bottom", color=color, fontsize=8)
            ax.text(j, i, str(int(N[i, j])), ha="center", va="top", color=color, fontsize=8)
    ax.set_xticks(range(V), list(itos), fontsize=11)
    ax.set_yticks(range(V), list(itos), fontsize=11)
    ax.tick_params(top=True, labeltop=True)
    ax.set_xlabel("next character", fontsize=13)
    ax.set_ylabel("previous character", fontsize=13)
    ax.set_title("How often each character follows another (count N[row, column])", fontsize=15)
    ax.grid(False)
    return fig


# -----------------------------------------------------------------------------
# training curves


@styled()
def plot_training_curve(curves: dict, window: int, decay_step: int | None = None,
                        title: str = "Training loss", skip: int = 2) -> Figure:
    """log10 of minibatch loss averaged over windows of `window` steps, one line per run.

    The y axis is fitted to the curves after their first `skip` windows, so the steep start
    does not flatten everything that follows; a start above the axis is given in the legend.
    """
    fig, ax = new_figure(width=7.5, height=4.2)
    smoothed = {label: smooth_log10(losses, window) for label, losses in curves.items()}
    lo = min(y[skip:].min().item() for y in smoothed.values())
    hi = max(y[skip:].max().item() for y in smoothed.values())
    pad = 0.05 * (hi - lo)
    for i, (label, y) in enumerate(smoothed.items()):
        if skip and y[0].item() > hi + 3 * pad:  # its start is above the axis: say where
            label = f"{label} (first {window:,} steps: {y[0].item():.2f}, off the top)"
        x = [(k + 0.5) * window for k in range(y.numel())]
        ax.plot(x, y.tolist(), color=f"C{i}", label=label)
    ax.set_ylim(lo - pad, hi + 3 * pad)
    if decay_step is not None:
        ax.axvline(decay_step, color="gray", ls="--",
                   label=f"learning-rate decay (step {decay_step:,})")
    ax.set_xlabel("step")
    ax.set_ylabel(f"log10 loss (mean over {window:,} steps)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    return fig


@styled(legible=True)
def plot_first_loss(curves: dict, uniform: float, first: int = 1000,
                    window: int = 1000) -> Figure:
    """Left: the minibatch loss of the first `first` steps (the hockey stick); right: the whole
    run, log10 averaged over `window` steps. `curves` is {label: (steps,) losses}."""
    fig, (ax0, ax1) = new_figure(ncols=2, width=9.5, height=3.8)
    for i, (label, losses) in enumerate(curves.items()):
        ax0.plot(range(first), losses[:first].tolist(), color=f"C{i}", lw=0.7, label=label)
        y = smooth_log10(losses, window)
        ax1.plot([(k + 0.5) * window for k in range(y.numel())], y.tolist(), color=f"C{i}",
                 label=label)
    ax0.axhline(uniform, color="black", ls="--", lw=1,
                label=f"uniform guess, -ln(1/27) = {uniform:.2f}")
    ax0.set_xlabel("step")
    ax0.set_ylabel("minibatch loss")
    ax0.set_title(f"The first {first:,} steps")
    ax0.legend()
    ax1.set_xlabel("step")
    ax1.set_ylabel(f"log10 loss (mean of {window:,} steps)")
    ax1.set_title("The whole run")
    _kilo_steps(ax1)
    ax1.legend()
    return fig


@styled(legible=True)
def plot_stage_curves(curves: dict, window: int = 1000,
                      title: str = "The loss log's five runs") -> Figure:
    """The five runs of the loss log: log10 loss averaged over `window` steps, after the first."""
    fig, ax = new_figure(width=7.5, height=4.0)
    for i, (label, losses) in enumerate(curves.items()):
        y = smooth_log10(losses, window)[1:]  # skip the first window: it is the init story
        ax.plot([(k + 1.5) * window for k in range(y.numel())], y.tolist(), color=f"C{i}",
                label=label, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel(f"log10 loss (mean of {window:,} steps)")
    ax.set_title(title)
    _kilo_steps(ax)
    ax.legend()
    return fig


# -----------------------------------------------------------------------------
# the diagnostics: histograms, update ratios and the dashboard


def _depth_colours(n: int) -> list:
    """One colour per layer, light (first) to dark (deepest): depth trends read at a glance."""
    return [plt.cm.viridis(x) for x in np.linspace(0.85, 0.0, max(n, 1))]


def _kilo_steps(ax) -> None:
    """Step axes in thousands: '50k' reads better than '50000' squeezed under a small plot."""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))


def _short(name: str) -> str:
    """'layer 4 (Tanh)' -> 'layer 4': legends stay narrow."""
    return name.split(" (")[0]


def _hist_panel(ax, stats, legend, title: str, xlabel: str, fontsize: float = 10) -> None:
    for s, colour in zip(stats, _depth_colours(len(stats)), strict=True):
        label = legend(s) if legend else None
        ax.plot(s.centers.tolist(), s.density.tolist(), color=colour, lw=1.3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))  # 1e-3 once, not per tick
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    if legend:  # room above the curves for the legend
        ax.set_ylim(0, ax.get_ylim()[1] * (1 + 0.11 * len(stats)))
        ax.legend(fontsize=fontsize, loc="upper right")


@styled(legible=True)
def plot_activation_hists(report, title: str = "Activation distribution",
                          ax=None) -> Figure | None:
    """Per watched layer: histogram of its outputs, legend with mean, std and % saturated."""
    fig = None
    if ax is None:
        fig, ax = new_figure(width=8.0, height=3.6)
    _hist_panel(ax, report.activations,
                lambda s: f"{_short(s.name)}: mean {s.mean:+.2f}, std {s.std:.2f}, "
                          f"saturated {s.saturated:.1%}",
                title, "tanh output")
    return fig


@styled(legible=True)
def plot_gradient_hists(report, title: str = "Gradient distribution", ax=None) -> Figure | None:
    """Per watched layer: histogram of d loss / d output, legend with mean and std."""
    fig = None
    if ax is None:
        fig, ax = new_figure(width=8.0, height=3.6)
    _hist_panel(ax, report.gradients,
                lambda s: f"{_short(s.name)}: mean {s.mean:+.1e}, std {s.std:.1e}", title,
                "gradient of the loss with respect to the tanh output")
    return fig


@styled(legible=True)
def plot_weight_grad_hists(report, title: str = "Weight gradient distribution",
                           ax=None) -> Figure | None:
    """Per 2-D parameter: histogram of its gradient, legend with std and grad:data ratio."""
    fig = None
    if ax is None:
        fig, ax = new_figure(width=8.0, height=3.6)
    _hist_panel(ax, report.weights,
                lambda s: f"{s.name} {s.shape[0]}x{s.shape[1]}: std {s.std:.1e}, "
                          f"grad:data {s.ratio:.1e}",
                title, "gradient of the loss with respect to the weight")
    return fig


@styled(legible=True)
def plot_update_ratios(report, title: str = "Update:data ratio", guide: float = -3.0,
                       ax=None, ylim: tuple[float, float] | None = None) -> Figure | None:
    """log10(std(lr * grad) / std(data)) per 2-D parameter over training, guide line at `guide`."""
    fig = None
    if ax is None:
        fig, ax = new_figure(width=8.0, height=3.6)
    cols = [i for i, two_d in enumerate(report.update_2d) if two_d]
    for i, colour in zip(cols, _depth_colours(len(cols)), strict=True):
        ax.plot(report.updates[:, i].tolist(), color=colour, lw=0.9, label=report.update_names[i])
    ax.axhline(guide, color="black", ls="--", lw=1.2, label=f"guide: 1e{guide:.0f}")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("step")
    ax.set_ylabel("log10 update:data")
    ax.set_title(title)
    ax.legend(fontsize=9.5, loc="lower right", ncol=4)
    return fig


@styled(legible=True)
def plot_dashboard(report, title: str, ylim: tuple[float, float] = (-6.5, 0.5)) -> Figure:
    """The four views of one run in a 2 x 2 grid, without per-line legends: light lines are the
    first layers, dark the deepest, and a box in each panel gives the numbers of the first and
    last layer. For comparing runs at a glance (the update panel shares `ylim` across runs)."""
    fig, axes = new_figure(ncols=2, nrows=2, width=8.0, height=6.8)
    a, g, w = report.activations, report.gradients, report.weights
    box = dict(boxstyle="round", facecolor="white", alpha=0.9, edgecolor="0.7")
    _hist_panel(axes[0, 0], a, None, "Activations", "layer output")
    _hist_panel(axes[0, 1], g, None, "Gradients of the activations", "d loss / d output")
    _hist_panel(axes[1, 0], w, None, "Weight gradients", "d loss / d weight")
    plot_update_ratios(report, "Update:data ratio", ax=axes[1, 1], ylim=ylim)
    axes[1, 1].get_legend().remove()
    saturated = (f"\nsaturated {a[0].saturated:.0%} → {a[-1].saturated:.0%}"
                 if "Tanh" in a[0].name else "")  # |x| > 0.97 means nothing without tanh
    notes = ((axes[0, 0], f"std {a[0].std:.2g} → {a[-1].std:.2g}" + saturated),
             (axes[0, 1], f"std {g[0].std:.1e}\n  → {g[-1].std:.1e}"),
             (axes[1, 0], f"grad:data\n{w[1].ratio:.0e} → {w[-2].ratio:.0e}"))
    for ax, text in notes:
        ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", fontsize=10.5, bbox=box)
    handles = [Line2D([], [], color=_depth_colours(2)[0], lw=2, label="first layer"),
               Line2D([], [], color=_depth_colours(2)[1], lw=2, label="last layer"),
               Line2D([], [], color="black", ls="--", label="guide: update = 1e-3 of data")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig


# -----------------------------------------------------------------------------
# the results chart


@styled()
def plot_results(entries: list[dict], lecture: dict[str, dict[str, float]]) -> Figure:
    """Every recorded model as one row of dots on a loss axis (book order, top to bottom): its
    train (hollow) and dev (filled) loss in this build, the dev loss of each seed where its
    chapter trained several (small grey dots), and the dev loss its lecture printed (a black
    bar) where there is one. Dots, not bars: a bar's length would start from an axis cut
    near the losses, and exaggerate every difference. `entries` come from
    makemore.results.load; `lecture` maps a key to {"dev": the printed dev loss}."""
    n = len(entries)
    fig, ax = new_figure(width=8.0, height=1.4 + 0.3 * n)
    y = np.arange(n)[::-1]  # the first model at the top
    labelled = set()

    def label(name: str) -> str | None:
        return None if name in labelled or labelled.add(name) else name

    for i, e in enumerate(entries):
        ax.axhline(y[i], color="0.85", lw=0.6, zorder=0)
        seeds = e.get("seeds", {}).get("dev") or []
        ax.scatter(seeds, [y[i]] * len(seeds), s=10, color="0.45", zorder=2,
                   label=label("dev, each seed") if seeds else None)
        if "train" in e["losses"]:
            ax.scatter(e["losses"]["train"], y[i], s=36, facecolors="white", edgecolors="C0",
                       lw=1.5, zorder=3, label=label("train (this build)"))
        ax.scatter(e["losses"]["dev"], y[i], s=36, color="C1", zorder=4,
                   label=label("dev (this build)"))
        ref = lecture.get(e["key"], {}).get("dev")
        if ref is not None:
            ax.scatter(ref, y[i], marker="|", s=160, lw=2, color="black", zorder=5,
                       label=label("dev, the lecture's (quoted)"))
    ax.set_yticks(y, [e["model"] for e in entries], fontsize=8)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("mean cross-entropy (nats per character): lower is better")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=8, frameon=False)
    return fig


@styled()
def plot_budget(entries: list[dict]) -> Figure:
    """Each recorded model whose chapter measured its run's training CPU seconds, as a point:
    dev loss against that budget (log scale), labelled with the model's name. The frontier a
    reader looks for is the lower left: less loss for less compute."""
    timed = [e for e in entries if e.get("cpu_seconds")]
    fig, ax = new_figure(width=8.0, height=5.0)
    labels = []
    for k, e in enumerate(timed):
        x, y = e["cpu_seconds"], e["losses"]["dev"]
        ax.scatter(x, y, s=30, color=f"C{k % 10}", zorder=3)
        labels.append(ax.annotate(e["model"], (x, y), xytext=(4, 3), textcoords="offset points",
                                  fontsize=7, color=_darker(f"C{k % 10}")))
    ax.set_xscale("log")
    ax.set_xlabel("training CPU seconds of the run (log scale; evaluation not counted)")
    ax.set_ylabel("dev loss (nats per character)")
    _separate_labels(fig, labels)
    return fig


def _darker(color: str, by: float = 0.6) -> tuple:
    """`color` darkened towards black, for text in it to read on a white background."""
    return tuple(by * c for c in to_rgb(color))


def _separate_labels(fig: Figure, labels: list, marker: float = 2.5) -> None:
    """Move point labels (annotations in offset points) up or down, as little as it takes,
    until none overlaps another label or another point (a square `marker` points either side
    of it), the highest point's label first; a moved label is drawn again with a thin line to
    its point."""
    renderer = fig.canvas.get_renderer()
    to_pixels = fig.dpi / 72  # points -> display pixels
    half = marker * to_pixels
    points = {}
    for label in labels:  # every other point is an obstacle
        px, py = label.axes.transData.transform(label.xy)
        points[id(label)] = Bbox([[px - half, py - half], [px + half, py + half]])
    placed = []
    for label in sorted(labels, key=lambda a: -a.xy[1]):
        taken = placed + [b for k, b in points.items() if k != id(label)]
        dx, dy0 = label.xyann
        step = label.get_window_extent(renderer).height / to_pixels + 1
        for k in range(60):  # 0, -1, +1, -2, +2, ... label heights: below the ones placed
            dy = dy0 + (k + 1) // 2 * step * (-1 if k % 2 else 1)
            label.xyann = (dx, dy)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in taken):
                break
        placed.append(box)
        if dy != dy0:
            ax = label.axes
            label.remove()
            ax.annotate(label.get_text(), label.xy, xytext=(dx, dy), textcoords="offset points",
                        fontsize=label.get_fontsize(), color=label.get_color(),
                        arrowprops=dict(arrowstyle="-", color=label.get_color(), lw=0.5, shrinkA=0,
                                        shrinkB=3, relpos=(0, 0.5)))
