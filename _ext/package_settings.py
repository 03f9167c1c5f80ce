"""The package's settings, as MyST substitutions for the pages that execute no code.

The introduction and the glossary state the book's rule for comparisons, whose confidence
level is set once, in `makemore.compare.LEVEL`. Typing it into their prose would let the two
drift apart; instead this extension hands it to MyST as the substitution `{{ ci_level }}`
("95%" today), read from the package when the build starts.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config

from makemore import compare


def settings() -> dict[str, str]:
    """Each substitution's name and text, from the package."""
    return {"ci_level": f"{compare.LEVEL:.0%}"}


def add_settings(app: Sphinx, config: Config) -> None:
    config.myst_substitutions = {**settings(), **(config.myst_substitutions or {})}


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_settings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
