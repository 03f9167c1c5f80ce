"""The code the chapters show fits 80 columns, so nothing a reader opens scrolls sideways.

Every code cell of every page (the hidden set-up cells too: a reader can open them) and every
fenced code block is read the way the build reads it (tools/book/myst.py: the build's MyST
parser); a line longer than 80 characters fails, naming the page, the line and its length. The
browser test (tests/site) checks the rendered pages in the same spirit; this catches it before
a build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.book import myst

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))
WIDTH = 80
UNSEEN = {"remove-cell", "remove-input"}  # cells a reader never sees: they only glue


def code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line of code a reader sees on the page: the code cells
    and fenced code blocks, their options left out, but the cells tagged remove-cell or
    remove-input."""
    return [(block.line + i, line) for block in myst.code_blocks(text)
            if not UNSEEN & set(block.tags) for i, line in enumerate(block.body.splitlines())]


def test_the_scanner_finds_code_and_only_code():
    text = ("Prose " + "x" * 90 + "\n```{code-cell} ipython3\n:tags: [hide-input]\n"
            + "y = 1  # " + "z" * 80 + "\n```\nmore prose\n"
            + "```{code-cell} ipython3\n:tags: [remove-cell]\nglue('k', 1)\n```\n"
            + "````{tip}\nInline `" + "w" * 90 + "` code is prose.\n```python\nz = 2\n```\n````\n"
            + "```{code-cell} ipython3\n---\ntags: [remove-input]\n---\nglue('j', 2)\n```\n")
    assert code_lines(text) == [(4, "y = 1  # " + "z" * 80), (14, "z = 2")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_fits_80_columns(page):
    long = [(n, len(line)) for n, line in code_lines(page.read_text(encoding="utf-8"))
            if len(line) > WIDTH]
    assert not long, f"{page.name}: code lines over {WIDTH} columns (line, length): {long}"
