#!/usr/bin/env python3
"""Write every chapter as a Jupyter notebook with the outputs the last build computed.

The offline copy of the book is its PDF (tools/make_pdf.py) and these notebooks: a reader opens
them in Jupyter without running anything and sees what the build printed and drew. They come
from the build's own jupyter-cache (`_build/.jupyter_cache`), where myst-nb keeps each chapter as
executed, so nothing is executed here. (The notebooks myst-nb leaves in `_build/jupyter_execute/`
have lost their glued outputs, moved to `.glue.json`: the figures are not in them.)

A value or figure a chapter glues is an output that Jupyter does not display (its MIME types
carry the prefix `application/papermill.record/`). Here each becomes a plain output of the cell
that glued it: figures and tables show where they were made, and a glued number shows as
`name: value`. A chapter whose cells are not in the cache (edited since the last `make book`)
is an error: the notebook would not match the chapter.

Usage: offline_notebooks.py [CHAPTER.md ...] [--cache DIR] [--out DIR]
       (defaults: every page of _toc.yml that executes, _build/.jupyter_cache, _build/offline)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout

ROOT = layout.ROOT


def unglue(output: dict) -> dict:
    """A glued output (hidden from Jupyter) as an output Jupyter displays."""
    name = output.get("metadata", {}).get("scrapbook", {}).get("name")
    if name is None:
        return output
    data = {key.removeprefix(layout.GLUE_PREFIX): value for key, value in output["data"].items()}
    if set(data) == {"text/plain"}:  # a number or a string: say which one it is
        data["text/plain"] = f"{name}: {data['text/plain']}"
    output["data"] = data
    output["metadata"] = {"glue": name}
    return output


def offline_notebook(chapter: Path, cache):
    """The chapter's notebook, with the outputs of its execution in `cache`."""
    import jupytext

    nb = jupytext.read(chapter)
    try:
        _, executed = cache.merge_match_into_notebook(nb)
    except KeyError:
        raise SystemExit(f"offline_notebooks: {chapter} is not in the build's cache as it is "
                         "now: build the book first (make book)") from None
    executed.metadata.pop("jupytext", None)
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = [unglue(o) for o in cell.outputs]
    return executed


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
    for chapter in args.chapters or layout.executed_pages(ROOT):
        nb = offline_notebook(chapter, cache)
        nbformat.validate(nb)
        target = args.out / f"{chapter.stem}.ipynb"
        nbformat.write(nb, target)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        figures = sum("image/png" in o.get("data", {}) for o in outputs)
        print(f"offline_notebooks: {target} ({len(nb.cells)} cells, {len(outputs)} outputs, "
              f"{figures} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
