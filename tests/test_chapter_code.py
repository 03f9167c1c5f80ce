"""The code the chapters show fits 80 columns, so nothing a reader opens scrolls sideways.

Every code cell of every page (the hidden set-up cells too: a reader can open them) and every
fenced code block is read the way myst-nb reads it; a line longer than 80 characters fails,
naming the page, the line and its length. The browser test (tests/site) checks the rendered
pages in the same spirit; this catches it before a build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))
WIDTH = 80
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\{code-cell\}|\{code-block\}|\{code\}|bash|python|"
                   r"text|console|sh)?(\s.*)?$")


def code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line inside a code cell or a fenced code block, except
    the cells a reader never sees (tagged remove-cell or remove-input: they only glue)."""
    out, fence, cell, lineno = [], None, [], 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if fence is None:
            m = FENCE.match(line)
            if m and m.group(3):
                fence, cell = m.group(2), []
            continue
        if line.strip() == fence:
            fence = None
            if not any(re.match(r"^\s*:tags:.*remove-(cell|input)", c) for _, c in cell):
                out += [(n, c) for n, c in cell if not re.match(r"^\s*:[\w-]+:", c)]
            continue
        cell.append((lineno, line))
    return out


def test_the_scanner_finds_code_and_only_code():
    text = ("Prose " + "x" * 90 + "\n```{code-cell} ipython3\n:tags: [hide-input]\n"
            + "y = 1  # " + "z" * 80 + "\n```\nmore prose\n"
            + "```{code-cell} ipython3\n:tags: [remove-cell]\nglue('k', 1)\n```\n")
    assert [n for n, _ in code_lines(text)] == [4]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_fits_80_columns(page):
    long = [(n, len(line)) for n, line in code_lines(page.read_text(encoding="utf-8"))
            if len(line) > WIDTH]
    assert not long, f"{page.name}: code lines over {WIDTH} columns (line, length): {long}"
