"""Offer every executable chapter as a notebook a reader can run anywhere, and open it in Colab.

The chapters are MyST Markdown notebooks (`.md`). sphinx-book-theme's download menu offers a
page's source and a PDF, and an `.ipynb` only when the page came from one. This extension fills
the gap: while the HTML of a chapter is written, it writes the chapter as a reader's notebook
(tools/book/reader.py: the prose's MyST turned into Markdown with this build's glued values,
links to the site, and a first cell that installs the companion package where it is missing),
without outputs, as `_sources/<page>.ipynb` beside the `.md` the theme already publishes, and
sets the page context's `ipynb_source`, which adds an ".ipynb" entry to the menu.

It also adds a launch button, "Colab", that opens the same notebook in Google Colab. Colab
opens notebooks from GitHub: the site's workflow (.github/workflows/book.yml) publishes these
notebooks on the repository's `notebooks` branch, at the page's path, on every build of main.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout, reader  # noqa: E402

logger = logging.getLogger(__name__)

COLAB = "https://colab.research.google.com/github"
NOTEBOOKS_BRANCH = "notebooks"  # where the workflow publishes the reader notebooks


def colab_url(repository: str, pagename: str) -> str | None:
    """The Colab address of the page's notebook on the `notebooks` branch of `repository`
    (a GitHub address), or None for a repository elsewhere."""
    prefix = "https://github.com/"
    if not repository.startswith(prefix):
        return None
    org_repo = "/".join(repository.removeprefix(prefix).strip("/").split("/")[:2])
    return f"{COLAB}/{org_repo}/blob/{NOTEBOOKS_BRANCH}/{pagename}.ipynb"


def add_notebook(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write the page's reader notebook, point the download menu at it, add the Colab button."""
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return  # not an executable chapter
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md":
        return  # an .ipynb source is offered by the theme itself
    import nbformat
    from myst_nb.sphinx_ import NbMetadataCollector

    executed = Path(app.outdir).parent / "jupyter_execute"

    def glue_of(name: str) -> dict:
        path = executed / Path(pagename).parent / f"{name}.glue.json"
        return layout.read_glue(path) if path.is_file() else {}

    run = NbMetadataCollector.get_exec_data(app.env, pagename) or {}
    nb = reader.reader_notebook(source, glue_of, seconds=run.get("runtime"))
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def add_colab_button(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree) -> None:
    """A launch button that opens the page's notebook (add_notebook's) in Colab."""
    if not context.get("ipynb_source") or "header_buttons" not in context:
        return
    url = colab_url(app.config.html_theme_options.get("repository_url", ""), pagename)
    if url:
        context["header_buttons"].append({
            "type": "group", "tooltip": "Run this chapter", "icon": "fas fa-rocket",
            "label": "launch-buttons",
            "buttons": [{"type": "link", "text": "Colab", "url": url,
                         "tooltip": "Open this chapter's notebook in Google Colab",
                         "icon": "fas fa-laptop-code"}]})  # an icon font: legible in dark mode


def setup(app: Sphinx) -> dict:
    # the download entry before sphinx-book-theme builds its header buttons (priority 501);
    # the launch button after, where the theme has made the list of header buttons
    app.connect("html-page-context", add_notebook, priority=400)
    app.connect("html-page-context", add_colab_button, priority=502)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
