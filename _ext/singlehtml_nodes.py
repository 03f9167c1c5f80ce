"""Give the single-page build (`make pdf`) every node visitor the HTML build has.

Sphinx looks a node's visitor up under the builder's name first and under its format ("html")
only when no extension registered anything for that name. sphinx-exercise registers its nodes
for "singlehtml" by name, so from then on the "html"-only visitors of the other extensions
(myst-nb's hidden-cell toggle among them) are not found by the singlehtml builder, and the build
fails on the first `hide-input` cell. This extension copies each missing "html" visitor to
"singlehtml" once every extension has registered its own.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def copy_html_visitors(app: Sphinx) -> None:
    """Fill the singlehtml visitor table with the html visitors it lacks."""
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node_name, visitors in handlers.get("html", {}).items():
        single.setdefault(node_name, visitors)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", copy_html_visitors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
