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


# -----------------------------------------------------------------------------
# Chapter 2: MLP


# -----------------------------------------------------------------------------
# Chapter 3: activations, gradients, BatchNorm


# -----------------------------------------------------------------------------
# Results page


__all__ = ["Figure", "new_figure"]
