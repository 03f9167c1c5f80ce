"""The offline notebooks (`make notebooks`, tools/offline_notebooks.py): each chapter as a valid
reader's notebook (tools/book/reader.py) with the chapter's own code and the outputs its build
computed, every glued figure in the prose as an image Jupyter displays, and nothing left in a
form Jupyter does not show (no MyST, no hidden glued outputs).

Locally these skip without the notebooks (`make notebooks`); in CI missing notebooks fail.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sitecheck

from tools.book import layout, reader

OUT = Path(os.environ.get("MAKEMORE_OFFLINE", sitecheck.ROOT / "_build" / "offline"))
CHAPTERS = layout.executed_pages(sitecheck.ROOT)  # every page the build executes


def test_the_book_has_executable_chapters():
    assert len(CHAPTERS) >= 3, CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_reads_offline_with_its_outputs(chapter):
    import jupytext
    import nbformat

    target = OUT / f"{chapter.stem}.ipynb"
    if not target.is_file():
        sitecheck.need(f"no {target}: make notebooks")
    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    source = jupytext.read(chapter)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    chapter_code = [c.source for c in source.cells if c.cell_type == "code"]
    assert code == [reader.INSTALL_SOURCE, *chapter_code], f"{target.name}: not the chapter's code"
    assert reader.leftover_myst(nb) == [], f"{target.name}: MyST left as text"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    shown = {name for c in nb.cells for name in c.get("attachments", {})}
    assert outputs or shown, f"{target.name}: no outputs"  # a page may only glue
    hidden = [key for o in outputs for key in o.get("data", {}) if "papermill.record" in key]
    assert not hidden, f"{target.name}: outputs Jupyter does not display: {hidden[:3]}"
    text = chapter.read_text(encoding="utf-8")
    figures = {f"{key}.png" for key in re.findall(r"```\{glue:figure\}\s+(\S+)", text)}
    assert figures <= shown, f"{target.name}: glued figures not shown: {sorted(figures - shown)}"
