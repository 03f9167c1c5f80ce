"""Accessible HTML for what the theme and myst-nb write: fixes found by the axe-core audit.

`tests/site/test_accessibility.py` runs axe-core on every page of the built book and fails on a
serious or critical violation. The ones that came from the tools, not from the chapters, are
fixed where they are made: two of the theme's templates are overridden by name (`_templates/`,
on `templates_path` in `_config.yml`), and, here, the HTML myst-nb writes for a code cell tagged
`hide-input`. myst-nb names its `<summary>` "Toggle hidden content" (aria-label) while it shows
"Show code cell source": the visible label is not part of the accessible name (axe-core's
label-content-name-mismatch, serious; WCAG 2.5.3). This writes the same `<details>` without the
aria-label, so the summary is named by the text it shows.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

from html import escape

from sphinx.application import Sphinx


def visit_hide_cell(self, node) -> None:
    """myst_nb.sphinx_.visit_HideCellInput (myst-nb 1.4.0), less the summary's aria-label."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append("<summary>\n")
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def depart_hide_cell(self, node) -> None:
    self.body.append("</details>\n")


def plain_citation_lists(app: Sphinx, exception: Exception | None) -> None:
    """docutils writes a bibliography as `<div role="list">` whose entries carry
    `role="doc-biblioentry"` and back-links: axe-core finds list children that are not list
    items (aria-required-children, critical). A plain container reads the same."""
    if exception is not None or app.builder.format != "html":
        return
    from pathlib import Path

    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text.replace('<div role="list" class="citation-list">',
                             '<div class="citation-list">')
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.setup_extension("myst_nb")  # registered first, then overridden here
    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_cell, depart_hide_cell))
    app.connect("build-finished", plain_citation_lists)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
