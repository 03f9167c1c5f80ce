"""Pasting results into the book: the one place the package talks to myst-nb's glue.

The chapters never type a number, a table or a figure into their prose; they compute it and
glue it under a key that the prose then quotes ({glue:text}, {glue:figure}, {glue:md}). These
helpers are the few ways the chapters do that, so every page does it the same way.

Two kinds of values are typed into code on purpose, and the page says so: a *setting* (a
configuration value the chapter chose, such as a learning rate) goes through `setting`, and a
number the lecture printed goes through `quoted` (with the `makemore.lecture.Quote` that says
where it was printed). Both are pasted with {glue:md}`key` and carry a visible label
("set", "quoted") and a tooltip, so no reader takes them for something this build computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
from IPython.display import Markdown
from matplotlib.figure import Figure
from myst_nb import glue

from makemore.lecture import Quote


def show(fig: Figure, key: str, timing: bool = False) -> None:
    """Glue a figure for a {glue:figure} block and keep it out of the cell's own output.
    `timing=True`: the figure draws wall-clock measurements, declared as `timing` declares."""
    glue(key, fig, display=False)
    plt.close(fig)
    if timing:
        _declare_timing(key)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> Markdown:
    """A Markdown table for a {glue:md} block (rendered with `:format: myst`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return Markdown("\n".join(lines))


def table(key: str, header: Sequence[str], rows: Iterable[Sequence], timing: bool = False
          ) -> None:
    """Glue a table built from data (never typed by hand) under `key`, for a {glue:md} block.
    `timing=True`: some of its cells are wall-clock measurements, declared as `timing` does."""
    glue(key, markdown_table(header, rows), display=False)
    if timing:
        _declare_timing(key)


def _labelled(kind: str, text: str, title: str) -> Markdown:
    """Inline HTML for {glue:md}: the value, then its label (drawn by _static/makemore.css)."""
    title = title.replace('"', "'")
    return Markdown(f'<span class="mm-{kind}" title="{title}">{text}</span>')


def setting(key: str, value, fmt: str = "") -> None:
    """Glue a configuration value the chapter set on purpose, labelled "set" on the page."""
    glue(key, _labelled("set", format(value, fmt), "set in the code: a choice, not a result"),
         display=False)


def quoted_md(*quotes: Quote | None, sep: str = " / ") -> str:
    """Markdown for numbers the lecture printed, as printed, each labelled "quoted" (a table
    cell, or the body of `quoted`); a missing one (None) is a dash."""
    return sep.join(_labelled("quoted", str(q), f"quoted, {q.source}: {q.where}").data
                    if q is not None else "–" for q in quotes)


def quoted(key: str, *quotes: Quote | None, sep: str = " / ") -> None:
    """Glue numbers the lecture printed, as printed (their decimals), each labelled "quoted";
    several (a train and a dev loss) are joined by `sep`, a missing one (None) is a dash."""
    glue(key, Markdown(quoted_md(*quotes, sep=sep)), display=False)


def quote_text(quote: Quote) -> str:
    """A lecture number for a table cell: as printed, marked as quoted."""
    return f"{quote} (quoted)"


def glue_losses(prefix: str, losses: dict[str, float]) -> dict[str, float]:
    """Glue each loss as `{prefix}_{split}` (a plain float) for the prose and tables."""
    for name, value in losses.items():
        glue(f"{prefix}_{name}", float(value), display=False)
    return losses



# Each timing is declared under this prefix + its key (see `timing`).
TIMING_PREFIX = "timing_keys."


def timing(key: str, seconds: float) -> None:
    """Glue a wall-clock measurement under `key`, and declare it a timing.

    A timing differs on every run, so tools/check_reproducible.py must leave it out, by name.
    The declaration is a second glue, `timing_keys.<key>`, whose value is `key`: the executed
    notebook carries the exact list of its timing keys, one declaration each (one key glued
    twice is a duplicate, which myst-nb warns about, and `-W` fails, so the list cannot be
    re-glued under a single key on every call). `seconds` is glued as a float, in the unit the
    key names (seconds unless it says otherwise, as `t_cat_ms`). Returns nothing, so that a
    call ending a cell prints nothing (a printed time would differ on every run).
    """
    glue(key, float(seconds), display=False)
    _declare_timing(key)


def _declare_timing(key: str) -> None:
    """Tell tools/check_reproducible.py that `key` holds a wall-clock measurement."""
    glue(TIMING_PREFIX + key, key, display=False)
