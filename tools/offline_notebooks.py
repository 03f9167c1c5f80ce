#!/usr/bin/env python3
"""Write every chapter as a Jupyter notebook with the outputs the last build computed.

The offline copy of the book is its PDF (tools/make_pdf.py) and these notebooks: a reader opens
them in Jupyter without running anything and sees what the build printed and drew. They come
from the build's own jupyter-cache (`_build/.jupyter_cache`), where myst-nb keeps each chapter as
executed, so nothing is executed here. (The notebooks myst-nb leaves in `_build/jupyter_execute/`
have lost their glued outputs, moved to `.glue.json`: the figures are not in them.)

Each is the chapter's reader notebook (tools/book/reader.py, the one the site offers for
download and Colab opens: its MyST turned into Markdown, glued numbers, tables and figures in
the prose where the page shows them, a first cell that installs the companion package) with
the outputs the build computed. The glued outputs themselves, which Jupyter does not display
(their MIME types carry the prefix `application/papermill.record/`), are left out: their values
are in the prose. A chapter whose cells are not in the cache (edited since the last
`make book`) is an error: the notebook would not match the chapter.

Usage: offline_notebooks.py [CHAPTER.md ...] [--cache DIR] [--out DIR]
       (defaults: every page of _toc.yml that executes, _build/.jupyter_cache, _build/offline)
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout, reader

ROOT = layout.ROOT


def offline_notebook(chapter: Path, cache, glue_of):
    """The chapter's reader notebook (tools/book/reader.py) with the outputs of its execution
    in `cache`. What the chapter glued is in its prose, where the page shows it; the glued
    outputs themselves, which Jupyter does not display, are left out of the code cells."""
    import jupytext

    nb = jupytext.read(chapter)
    try:
        pk, executed = cache.merge_match_into_notebook(nb)
    except KeyError:
        raise SystemExit(f"offline_notebooks: {chapter} is not in the build's cache as it is "
                         "now: build the book first (make book)") from None
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not layout.is_glue(o)]
    seconds = cache.get_cache_record(pk).data.get("execution_seconds")
    return reader.convert(executed, chapter, glue_of, seconds=seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path,
                        help="chapters to write (default: every page of the book that executes)")
    parser.add_argument("--cache", type=Path, default=ROOT / layout.CACHE,
                        help="the build's jupyter-cache (default: _build/.jupyter_cache)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "offline",
                        help="where to write the notebooks (default: _build/offline)")
    args = parser.parse_args(argv)
    import nbformat
    from jupyter_cache import get_cache

    if not args.cache.is_dir():
        print(f"offline_notebooks: no cache at {args.cache}: build the book first (make book)",
              file=sys.stderr)
        return 2
    cache = get_cache(str(args.cache))
    args.out.mkdir(parents=True, exist_ok=True)
    pages = {page.stem: page for page in layout.executed_pages(ROOT)}

    @functools.cache
    def glue_of(name: str) -> dict:
        """What the page `name` glued, in its execution in the cache."""
        nb = layout.executed_notebook(pages[name], cache)
        return layout.glue_of(nb) if nb is not None else {}

    for chapter in args.chapters or list(pages.values()):
        nb = offline_notebook(chapter, cache, glue_of)
        nbformat.validate(nb)
        target = args.out / f"{chapter.stem}.ipynb"
        nbformat.write(nb, target)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        figures = sum(len(c.get("attachments", {})) for c in nb.cells)
        print(f"offline_notebooks: {target} ({len(nb.cells)} cells, {len(outputs)} outputs, "
              f"{figures} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
