"""The offline notebooks (`make notebooks`, tools/offline_notebooks.py): each chapter as a valid
notebook with the chapter's own cells and the outputs its build computed, every glued figure
among them as an image Jupyter displays, and nothing left in a form Jupyter does not show.

Locally these skip without the notebooks (`make notebooks`); in CI missing notebooks fail.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sitecheck

from tools.book import layout

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
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        (c.cell_type, c.source) for c in source.cells], f"{target.name}: not the chapter's cells"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs, f"{target.name}: no outputs"
    hidden = [key for o in outputs for key in o.get("data", {}) if "papermill.record" in key]
    assert not hidden, f"{target.name}: outputs Jupyter does not display: {hidden[:3]}"
    text = chapter.read_text(encoding="utf-8")
    figures = set(re.findall(r"```\{glue:figure\}\s+(\S+)", text))
    shown = {o["metadata"].get("glue") for o in outputs if "image/png" in o.get("data", {})}
    assert figures <= shown, f"{target.name}: glued figures not shown: {sorted(figures - shown)}"
