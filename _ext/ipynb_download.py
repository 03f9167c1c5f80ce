"""Offer every executable chapter as a Jupyter notebook from its page's download menu.

The chapters are MyST Markdown notebooks (`.md`). sphinx-book-theme's download menu offers a
page's source and a PDF, and an `.ipynb` only when the page came from one (or when a launch
service is configured). This extension fills the gap: while the HTML of a chapter is written,
it converts the chapter's `.md` with jupytext into a clean notebook, without outputs, saved as
`_sources/<page>.ipynb` beside the `.md` the theme already publishes, and sets the page context's
`ipynb_source`, which makes the theme add an ".ipynb" entry to the menu. The notebook runs top
to bottom in Jupyter wherever the `makemore` package is installed (see the README).

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def add_notebook(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write the page's notebook and point the theme's download menu at it."""
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return  # not an executable chapter
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md":
        return  # an .ipynb source is offered by the theme itself
    import jupytext

    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)  # a plain notebook, not one paired with the .md
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", add_notebook, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
