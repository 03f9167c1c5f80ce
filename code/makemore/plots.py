"""Every figure of the book, drawn by one function each.

Chapters call these and glue the returned figure; they never style a plot themselves, so the
book looks like one book. Figures have an opaque white background so their text stays legible
in the site's dark mode.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

plt.rcParams.update(
    {
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
)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.0):
    """A white figure with a grid of axes, the starting point of every plot below."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")
    return fig, axes


# -----------------------------------------------------------------------------
# Chapter 1: bigram


def plot_bigram_counts(N, itos) -> Figure:
    """The count table as the lecture draws it: each cell shows its bigram and its count."""
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


def plot_loss_vs_counting(losses, count_nll: float, reg: float, smoothing: float,
                          zoom_from: int = 50) -> Figure:
    """The neural bigram's training loss against the counting model's NLL (a horizontal line)."""
    fig, axes = new_figure(ncols=2, width=9, height=3.6)
    steps = range(1, len(losses) + 1)
    for ax, start in zip(axes, (0, zoom_from), strict=True):
        ax.plot(steps[start:], losses[start:].tolist(), color="C0",
                label=f"neural net: NLL + {reg:g}·mean(W²)")
        ax.axhline(count_nll, color="C3", ls="--",
                   label=f"counting (+{smoothing:g} smoothing): {count_nll:.4f}")
        ax.set_xlabel("gradient step")
        ax.set_ylabel("loss (nats per character)")
    axes[0].set_xscale("log")
    axes[0].set_title("All steps (log scale)")
    axes[1].set_title(f"Zoom: from step {zoom_from + 1}")
    axes[1].legend(loc="upper right")
    return fig


def plot_prob_comparison(P_count, P_net, row_counts, itos) -> Figure:
    """Every one of the 27×27 probabilities: counted (x) against learned (y), log-log."""
    fig, ax = new_figure(width=6.4, height=5.6)
    sc = ax.scatter(P_count.flatten().tolist(), P_net.flatten().tolist(), s=10,
                    c=row_counts[:, None].expand_as(P_count).flatten().float().log10().tolist(),
                    cmap="viridis")
    lo = min(P_count.min().item(), P_net.min().item()) / 2
    ax.plot([lo, 1], [lo, 1], color="gray", lw=1, ls="--", label="same probability")
    i, j = divmod(int((P_net - P_count).abs().argmax()), len(itos))
    ax.annotate(f"largest difference: '{itos[i]}{itos[j]}'",
                (P_count[i, j].item(), P_net[i, j].item()), xytext=(-10, 40),
                textcoords="offset points", ha="right",
                arrowprops={"arrowstyle": "->", "color": "C3"}, color="C3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("counting model probability")
    ax.set_ylabel("neural net probability")
    ax.set_title("The two tables, entry by entry")
    fig.colorbar(sc, ax=ax, label="log10(examples of the previous character)")
    ax.legend(loc="upper left")
    return fig


def plot_underflow(logp, limits: dict[str, float]) -> Figure:
    """log10 of the running likelihood (a product of probabilities) against the smallest
    positive number of each float type: where the line crosses, the product becomes 0."""
    import math

    fig, ax = new_figure(width=7.5, height=4.2)
    running = (logp.double().cumsum(0) / math.log(10)).tolist()  # log10 of the running product
    ax.plot(range(1, len(running) + 1), running, color="C0", label="log10(likelihood so far)")
    for k, (name, tiny) in enumerate(limits.items()):
        ax.axhline(math.log10(tiny), color=f"C{k + 1}", ls="--",
                   label=f"smallest {name}: 10^{math.log10(tiny):.0f}")
    ax.set_xlabel("bigrams multiplied in")
    ax.set_ylabel("log10 of the product")
    ax.set_title("The likelihood: a product that shrinks with every bigram")
    ax.legend(loc="lower left")
    return fig


def plot_temperature(logits, itos, temperatures) -> Figure:
    """softmax(logits / T) for a few temperatures T: low T sharpens, high T flattens."""
    import math

    fig, ax = new_figure(width=9, height=3.8)
    x = range(len(itos))
    for k, T in enumerate(temperatures):
        p = (logits / T).softmax(0)
        H = -(p * p.log()).sum().item()
        ax.plot(x, p.tolist(), marker="o", ms=4, color=f"C{k}",
                label=f"T = {T:g} (entropy {H:.2f} nats)")
    ax.axhline(1 / len(itos), color="gray", ls=":",
               label=f"uniform 1/{len(itos)} (entropy {math.log(len(itos)):.2f} nats)")
    ax.set_xticks(list(x), list(itos))
    ax.set_xlabel("next character")
    ax.set_ylabel("probability")
    ax.set_title("One row of logits through softmax at different temperatures")
    ax.legend()
    return fig


def plot_smoothing_vs_decay(alphas, count_loss, count_ent, regs, net_loss, net_ent,
                            vocab_size: int) -> Figure:
    """Two regularizers side by side: +alpha smoothing of counts, weight decay on W.
    Both push the loss and the row entropy up to the uniform model's ln(V)."""
    import math

    uniform = math.log(vocab_size)
    fig, axes = new_figure(ncols=2, width=9, height=3.8)
    panels = [
        (axes[0], alphas, count_loss, count_ent, "smoothing added to every count",
         "Counting: N + smoothing"),
        (axes[1], regs, net_loss, net_ent, "weight decay strength (reg)",
         "Neural net: NLL + reg·mean(W²)"),
    ]
    for ax, x, loss, ent, xlabel, title in panels:
        ax.plot(x, loss, marker="o", color="C0", label="NLL of the data")
        ax.plot(x, ent, marker="s", color="C2", label="mean entropy of a row")
        ax.axhline(uniform, color="C3", ls="--", label=f"uniform: ln {vocab_size} = {uniform:.4f}")
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("nats")
        ax.set_title(title)
    axes[0].legend(loc="lower right")
    axes[1].sharey(axes[0])
    return fig


# -----------------------------------------------------------------------------
# Chapter 2: MLP


def plot_context_table(contexts, table_cells, seen, dev_loss, train_loss) -> Figure:
    """Left: counting-table size vs cells ever seen (log scale). Right: its train/dev loss."""
    fig, axes = new_figure(ncols=2, width=11, height=4.2)
    ax = axes[0]
    ax.semilogy(contexts, table_cells, "o-", color="C0", label="cells in the table")
    ax.semilogy(contexts, seen, "s-", color="C1", label="cells seen in training")
    ax.set_xticks(list(contexts))
    ax.set_xlabel("context length (characters)")
    ax.set_ylabel("number of (context, next) cells")
    ax.set_title("The table grows ×27 per character; the data does not")
    ax.legend()
    ax = axes[1]
    ax.plot(contexts, train_loss, "o-", color="C0", label="train")
    ax.plot(contexts, dev_loss, "s-", color="C3", label="dev")
    ax.set_xticks(list(contexts))
    ax.set_xlabel("context length (characters)")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title("Counting with +1 smoothing: dev loss turns up")
    ax.legend()
    return fig


def plot_lr_finder(exponents, losses, smoothed, chosen: float) -> Figure:
    """Loss of one step at each learning rate 10**exponent, with the chosen exponent marked."""
    fig, ax = new_figure(width=7.5, height=4.2)
    ax.plot(exponents.tolist(), losses.tolist(), color="C0", alpha=0.35, lw=0.8,
            label="minibatch loss (one step each)")
    ax.plot(exponents.tolist(), smoothed.tolist(), color="C0", lw=2, label="moving average")
    ax.axvline(chosen, color="C3", ls="--", label=f"chosen: lr = 10^{chosen:g} = {10**chosen:g}")
    ax.set_xlabel("learning-rate exponent (lr = 10^exponent)")
    ax.set_ylabel("minibatch loss")
    ax.set_title("Learning-rate finder: the learning rate rises every step")
    ax.legend(loc="upper left")
    return fig


def plot_training_curve(curves: dict, window: int, decay_step: int | None = None,
                        title: str = "Training loss", skip: int = 2) -> Figure:
    """log10 of minibatch loss averaged over windows of `window` steps, one line per run.

    The y axis is fitted to the curves after their first `skip` windows, so the steep start
    (marked with its value) does not flatten everything that follows.
    """
    from makemore.training import smooth_log10

    fig, ax = new_figure(width=7.5, height=4.2)
    lo, hi = float("inf"), float("-inf")
    for i, (label, losses) in enumerate(curves.items()):
        y = smooth_log10(losses, window)
        x = [(k + 0.5) * window for k in range(y.numel())]
        ax.plot(x, y.tolist(), color=f"C{i}", label=label)
        lo, hi = min(lo, y[skip:].min().item()), max(hi, y[skip:].max().item())
        if skip and y[0].item() > hi:
            ax.annotate(f"first {window:,} steps: {y[0].item():.2f} (off the top)",
                        xy=(x[0], hi), xytext=(x[0] + 3 * window, hi), fontsize=8,
                        va="center", color=f"C{i}")
    pad = 0.05 * (hi - lo)
    ax.set_ylim(lo - pad, hi + 3 * pad)
    if decay_step is not None:
        ax.axvline(decay_step, color="gray", ls="--",
                   label=f"learning-rate decay (step {decay_step:,})")
    ax.set_xlabel("step")
    ax.set_ylabel(f"log10 loss (mean over {window:,} steps)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    return fig


def plot_overfitting(steps, train_loss, dev_loss, full_dev: float, n_examples: int) -> Figure:
    """Loss on a small training slice and on the dev split while a big model trains on the slice."""
    fig, ax = new_figure(width=7.5, height=4.2)
    ax.plot(steps, train_loss, color="C0", label=f"train (the {n_examples:,} examples it sees)")
    ax.plot(steps, dev_loss, color="C3", label="dev (names it never sees)")
    ax.axhline(full_dev, color="gray", ls=":",
               label=f"dev, same model and steps on the full train split: {full_dev:.3f}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title("Overfitting: a big model on a small slice")
    ax.legend()
    return fig


def plot_embedding_2d(C, itos, groups: dict | None = None, start=None, trails=()) -> Figure:
    """Each character at its learned 2-D embedding, coloured by `groups` ({label: characters}).

    With `start` (the embedding table before training), the characters in `trails` also get a
    hollow circle where they started and an arrow to where they ended.
    """
    groups = groups or {}
    fig, ax = new_figure(width=6.4, height=6.0)
    C = C.detach().cpu()
    palette = ["C3", "C2", "C1", "C4", "C5"]  # red for the first group, green for the second
    colour = {ch: palette[k] for k, chars in enumerate(groups.values()) for ch in chars}
    if start is not None:
        start = start.detach().cpu()
        for i, ch in enumerate(itos):
            if ch not in trails:
                continue
            x0, y0, x1, y1 = *start[i].tolist(), *C[i].tolist()
            col = colour.get(ch, "C0")
            ax.scatter(x0, y0, s=120, facecolors="none", edgecolors=col, alpha=0.7)
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="->", color=col, alpha=0.5, lw=1))
        ax.scatter([], [], s=60, facecolors="none", edgecolors="gray",
                   label="random starting point")
    for i, ch in enumerate(itos):
        x, y = C[i, 0].item(), C[i, 1].item()
        ax.scatter(x, y, s=320, color=colour.get(ch, "C0"))
        ax.text(x, y, ch, ha="center", va="center", color="white", fontsize=11, fontweight="bold")
    for k, label in enumerate(groups):
        ax.scatter([], [], s=120, color=palette[k], label=label)
    ax.scatter([], [], s=120, color="C0", label="other characters")
    ax.set_xlabel("embedding dimension 0")
    ax.set_ylabel("embedding dimension 1")
    ax.set_title("Where the model put each character (2-D embedding)")
    ax.legend(loc="best", fontsize=8)
    return fig


# -----------------------------------------------------------------------------
# Chapter 3: activations, gradients, BatchNorm


def _legible(draw):
    """Draw with larger text: these figures are shown at the width of the text column, so wide
    multi-panel figures are scaled down, and their text with them."""
    import functools

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with plt.rc_context({"font.size": 12, "legend.fontsize": 10, "axes.titlesize": 12}):
            return draw(*args, **kwargs)

    return wrapper



def _depth_colours(n: int) -> list:
    """One colour per layer, light (first) to dark (deepest): depth trends read at a glance."""
    import numpy as np

    return [plt.cm.viridis(x) for x in np.linspace(0.85, 0.0, max(n, 1))]


def _kilo_steps(ax) -> None:
    """Step axes in thousands: '50k' reads better than '50000' squeezed under a small plot."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))


@_legible
def plot_first_loss(curves: dict, uniform: float, first: int = 1000,
                    window: int = 1000) -> Figure:
    """Left: the minibatch loss of the first `first` steps (the hockey stick); right: the whole
    run, log10 averaged over `window` steps. `curves` is {label: (steps,) losses}."""
    from makemore.training import smooth_log10

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


@_legible
def plot_tanh_gate(threshold: float) -> Figure:
    """tanh(x) and its local gradient 1 - tanh(x)^2, with the saturated region shaded."""
    import math

    import torch

    x = torch.linspace(-5, 5, 501)
    t = torch.tanh(x)
    fig, ax = new_figure(width=7.0, height=3.4)
    ax.plot(x.tolist(), t.tolist(), color="C0", label="t = tanh(x)")
    ax.plot(x.tolist(), (1 - t**2).tolist(), color="C3", label="local gradient dt/dx = 1 - t²")
    edge = math.atanh(threshold)
    for lo, hi in ((-5, -edge), (edge, 5)):
        ax.axvspan(lo, hi, color="gray", alpha=0.2, lw=0)
    ax.text(edge + 0.1, -0.6, f"|t| > {threshold}:\ngradient < {1 - threshold**2:.3f}")
    ax.set_xlabel("pre-activation x")
    ax.set_title("A saturated tanh passes almost no gradient back")
    ax.legend(loc="upper left")
    return fig


@_legible
def plot_saturation(h_before, h_after, threshold: float, labels: tuple[str, str]) -> Figure:
    """Top: histograms of hidden activations; bottom: which (example, neuron) have |h| > threshold
    (white), for two initialisations side by side."""
    fig, axes = new_figure(ncols=2, nrows=2, width=9.5, height=6.4)
    for col, (h, label) in enumerate(zip((h_before, h_after), labels, strict=True)):
        h = h.detach().cpu()
        share = (h.abs() > threshold).float().mean().item()
        ax = axes[0, col]
        ax.hist(h.flatten().tolist(), bins=50, range=(-1, 1), color=f"C{col}")
        ax.set_xticks([-1, -0.5, 0, 0.5, 1])
        ax.set_xlabel("hidden activation h")
        ax.set_ylabel("count")
        ax.set_title(f"{label}\n{share:.1%} of |h| > {threshold}")
        ax = axes[1, col]
        ax.imshow((h.abs() > threshold).numpy(), cmap="gray", interpolation="nearest",
                  aspect="auto", vmin=0, vmax=1)
        ax.grid(False)
        ax.set_xlabel("hidden neuron")
        ax.set_ylabel("example in the batch")
        ax.set_title("white: |h| > " + f"{threshold}")
    return fig


@_legible
def plot_gain_sweep(stds: dict, linear_stds: dict) -> Figure:
    """Activation std after each layer of a deep stack, one line per gain; left with tanh,
    right without (purely linear). The dicts map a label to the list of per-layer stds."""
    fig, (ax0, ax1) = new_figure(ncols=2, width=9.5, height=3.8)
    for ax, data, title in ((ax0, stds, "Linear → tanh, repeated"),
                            (ax1, linear_stds, "Linear only, repeated (no tanh)")):
        for i, (label, ys) in enumerate(data.items()):
            ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, color=f"C{i}", label=label)
        ax.set_xlabel("layer")
        ax.set_ylabel("std of the layer's output")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.legend()
    return fig


@_legible
def plot_calibration(running: dict, calibrated: dict) -> Figure:
    """BatchNorm's running estimates against a calibration pass over the training set: one dot
    per hidden unit, for each statistic (dict keys, e.g. 'mean', 'std')."""
    fig, axes = new_figure(ncols=len(running), width=4.75 * len(running), height=4.0)
    for ax, key in zip(axes, running, strict=True):
        x, y = calibrated[key].flatten().tolist(), running[key].flatten().tolist()
        ax.scatter(x, y, s=10, color="C0", alpha=0.7)
        lo, hi = min(x + y), max(x + y)
        ax.plot([lo, hi], [lo, hi], color="gray", ls="--", lw=1, label="running = calibrated")
        ax.set_xlabel(f"{key}, one pass over the training set")
        ax.set_ylabel(f"running {key}, kept while training")
        ax.set_title(f"BatchNorm {key} of each hidden unit")
        ax.legend(loc="upper left")
    return fig


@_legible
def plot_batch_coupling(logits_by_batch, itos) -> Figure:
    """One example's output probabilities when it shares a training-mode batch with different
    companions: (n_batches, vocab) logits, one bar group per batch."""
    import torch

    p = torch.softmax(logits_by_batch.detach(), dim=1)
    fig, ax = new_figure(width=9.5, height=3.4)
    n, V = p.shape
    width = 0.8 / n
    for b in range(n):
        ax.bar([i + (b - (n - 1) / 2) * width for i in range(V)], p[b].tolist(), width=width,
               color=f"C{b}", label=f"batch {b + 1}")
    ax.set_xticks(range(V), list(itos))
    ax.set_xlabel("next character")
    ax.set_ylabel("probability")
    ax.set_title("One example in three training-mode batches")
    ax.legend()
    return fig


@_legible
def plot_stage_curves(curves: dict, window: int = 1000) -> Figure:
    """The five runs of the loss log: log10 loss averaged over `window` steps, after the first."""
    from makemore.training import smooth_log10

    fig, ax = new_figure(width=7.5, height=4.0)
    for i, (label, losses) in enumerate(curves.items()):
        y = smooth_log10(losses, window)[1:]  # skip the first window: it is the init story
        ax.plot([(k + 1.5) * window for k in range(y.numel())], y.tolist(), color=f"C{i}",
                label=label, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel(f"log10 loss (mean of {window:,} steps)")
    ax.set_title("The loss log's five runs")
    _kilo_steps(ax)
    ax.legend()
    return fig


def _short(name: str) -> str:
    """'layer 4 (Tanh)' -> 'layer 4': legends stay narrow."""
    return name.split(" (")[0]


def _hist_panel(ax, stats, legend, title: str, xlabel: str, fontsize: float = 10) -> None:
    from matplotlib.ticker import MaxNLocator

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


@_legible
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


@_legible
def plot_gradient_hists(report, title: str = "Gradient distribution", ax=None) -> Figure | None:
    """Per watched layer: histogram of d loss / d output, legend with mean and std."""
    fig = None
    if ax is None:
        fig, ax = new_figure(width=8.0, height=3.6)
    _hist_panel(ax, report.gradients,
                lambda s: f"{_short(s.name)}: mean {s.mean:+.1e}, std {s.std:.1e}", title,
                "gradient of the loss with respect to the tanh output")
    return fig


@_legible
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


@_legible
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


@_legible
def plot_dashboard(report, title: str, ylim: tuple[float, float] = (-6.5, 0.5)) -> Figure:
    """The four views of one run in a 2 x 2 grid, without per-line legends: light lines are the
    first layers, dark the deepest, and a box in each panel gives the numbers of the first and
    last layer. For comparing runs at a glance (the update panel shares `ylim` across runs)."""
    from matplotlib.lines import Line2D

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
# Results page


def plot_results(entries: list[dict], lecture: dict[str, dict[str, float]]) -> Figure:
    """Every recorded model's train and dev loss as paired bars, with the lecture's dev loss
    as a black tick where it reported one; `entries` come from makemore.results.load."""
    import numpy as np

    fig, ax = new_figure(width=9, height=4.6)
    x = np.arange(len(entries))
    for k, (split, offset) in enumerate((("train", -0.2), ("dev", 0.2))):
        values = [e["losses"].get(split, np.nan) for e in entries]
        bars = ax.bar(x + offset, values, width=0.38, color=f"C{k}", label=f"{split} (this build)")
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2, rotation=90)
    ref = [lecture.get(e["key"], {}).get("dev", np.nan) for e in entries]
    ax.scatter(x + 0.2, ref, marker="_", s=400, color="black", zorder=3, label="lecture's dev")
    ax.set_xticks(x, [e["model"] for e in entries], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("mean cross-entropy (nats per character)")
    low = min(min(e["losses"].values()) for e in entries)
    high = max(max(e["losses"].values()) for e in entries)
    ax.set_ylim(low - 0.15, high + 0.12)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Every model of the book: lower is better")
    return fig


# -----------------------------------------------------------------------------
# Benchmarks


def plot_train_speed_scaling(batch_sizes, rates: dict, note: str = "") -> Figure:
    """Training speed against the batch size: steps/s (left) and examples/s (right), one line
    per loop (`rates` maps a loop's name to its steps/s at each batch size); `note` (the model,
    threads, machine) becomes the figure's title."""
    fig, (ax1, ax2) = new_figure(ncols=2, width=10, height=4)
    for k, (name, r) in enumerate(rates.items()):
        style = {"marker": "o", "color": f"C{k}", "label": name}
        ax1.plot(batch_sizes, r, **style)
        ax2.plot(batch_sizes, [v * b for v, b in zip(r, batch_sizes, strict=True)], **style)
    for ax, unit in ((ax1, "steps"), (ax2, "examples")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
        ax.set_xlabel("batch size")
        ax.set_ylabel(f"{unit} per second")
        ax.legend(loc="best")
    ax1.set_title("Optimisation steps per second")
    ax2.set_title("Training examples per second")
    if note:
        fig.suptitle(note)
    return fig


