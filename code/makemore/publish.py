"""Pasting results into the book: the one place the package talks to myst-nb's glue.

The chapters never type a number, a table or a figure into their prose; they compute it and
glue it under a key that the prose then quotes ({glue:text}, {glue:figure}, {glue:md}). These
helpers are the few ways the chapters do that, so every page does it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from IPython.display import Markdown
from matplotlib.figure import Figure
from myst_nb import glue


def show(fig: Figure, key: str) -> None:
    """Glue a figure for a {glue:figure} block and keep it out of the cell's own output."""
    import matplotlib.pyplot as plt

    glue(key, fig, display=False)
    plt.close(fig)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> Markdown:
    """A Markdown table for a {glue:md} block (rendered with `:format: myst`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return Markdown("\n".join(lines))


def table(key: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Glue a table built from data (never typed by hand) under `key`, for a {glue:md} block."""
    glue(key, markdown_table(header, rows), display=False)


def glue_losses(prefix: str, losses: dict[str, float]) -> dict[str, float]:
    """Glue each loss as `{prefix}_{split}` (a plain float) for the prose and tables."""
    for name, value in losses.items():
        glue(f"{prefix}_{name}", float(value), display=False)
    return losses
