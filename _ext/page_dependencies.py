"""No stale page in a local build: a page that shows another page's values is rebuilt with it.

Sphinx re-reads a page when its own source changes. Two kinds of page also show numbers that
come from *other* pages, and would otherwise keep showing the old ones:

- a page that pastes values from another page with cross-page glue
  ({glue:text}`02_mlp.md::mlp_dev:.4f`): myst-nb resolves those at write time, from the glue the
  other page's last execution stored, so the page only shows new values if it is written again.
  This extension keeps, for every page, the documents its cross-page glue points at (from
  myst-nb's pending glue references, when the page is read), and re-reads a page whenever a
  page it pastes from is re-read, directly or through another (`env-get-outdated`);
- a page that reads the records the chapters glue (the results page: `results.load`, which
  tools/book/layout.py recognises): its code reads them from the chapters' executions in the
  build's jupyter-cache, so it must run after every chapter, and in every build, or the cache
  would replay what it read from older executions. So it is re-read in every build, after the
  others (`env-before-read-docs`), its cached executions dropped: myst-nb executes it again,
  on the chapters this build shows (it takes seconds). Its kernel is told where that cache is
  through `$MAKEMORE_RESULTS`.

Every page is also written on every build (`env-get-updated`). Registered in `_config.yml` under
`sphinx: local_extensions`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book import layout

logger = logging.getLogger(__name__)


# -----------------------------------------------------------------------------
# what depends on what


def _glue_deps(env: BuildEnvironment) -> dict[str, set[str]]:
    if not hasattr(env, "makemore_glue_deps"):
        env.makemore_glue_deps = {}
    return env.makemore_glue_deps


def note_glue_references(app: Sphinx, doctree: nodes.document) -> None:
    """Remember which documents this page pastes values from (cross-page glue)."""
    from myst_nb.ext.glue.utils import PendingGlueReference

    env = app.env
    refdocs = {node.refdoc for node in doctree.findall(PendingGlueReference)}
    refdocs.discard(env.docname)
    _glue_deps(env)[env.docname] = refdocs


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _glue_deps(env).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment):
    for docname in docnames:
        if docname in _glue_deps(other):
            _glue_deps(env)[docname] = _glue_deps(other)[docname]


def dependents(deps: dict[str, set[str]], changed: set[str]) -> set[str]:
    """Every page that depends, directly or through others, on one of `changed` (not those)."""
    stale: set[str] = set()
    grew = True
    while grew:
        grew = False
        for doc, sources in deps.items():
            if doc not in changed and doc not in stale and sources & (changed | stale):
                stale.add(doc)
                grew = True
    return stale


def readers(env: BuildEnvironment) -> set[str]:
    """The pages whose code reads the chapters' records."""
    return {d for d in env.found_docs if Path(env.doc2path(d)).suffix == ".md"
            and layout.reads_records(Path(env.doc2path(d)))}


# -----------------------------------------------------------------------------
# the Sphinx events


def outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """Re-read the pages that read records, and every page that shows values of a page being
    re-read."""
    again = readers(env) - set(added) - set(changed)
    deps = {doc: refs for doc, refs in _glue_deps(env).items() if doc in env.found_docs}
    stale = dependents(deps, set(added) | set(changed) | set(removed) | again)
    if stale - again:
        logger.info(f"[page_dependencies] re-reading {', '.join(sorted(stale - again))}: "
                    "they show values of pages being re-read")
    return sorted((stale | again) & env.found_docs)


def read_readers_last(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Pages that read records go after every other page, and are executed again: their cached
    executions are dropped."""
    reading = readers(env)
    docnames.sort(key=lambda d: d in reading)  # stable: the rest keeps Sphinx's order
    config = env.mystnb_config
    if config.execution_mode != "cache":
        logger.warning("[page_dependencies] the results page reads the chapters' records from "
                       "the jupyter-cache: set `execute: execute_notebooks: cache`",
                       type="makemore", subtype="records")
        return
    os.environ[layout.RESULTS_ENV] = config.execution_cache_path  # the kernels inherit it
    from jupyter_cache import get_cache

    cache = get_cache(config.execution_cache_path)
    paths = {Path(env.doc2path(d)).resolve(): d for d in docnames if d in reading}
    for record in cache.list_cache_records():
        docname = paths.get(Path(record.uri).resolve()) if record.uri else None
        if docname is not None:
            logger.info(f"[page_dependencies] {docname} will be executed again: it reads the "
                        "records of the chapters this build shows")
            cache.remove_cache(record.pk)


def write_every_page(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Write every page on every build, not only those re-read: a page written at build time
    (the sitemap's list, a results table, a cross-page link) must never be a leftover of an
    earlier build. Writing the few pages of this book takes seconds."""
    return sorted(env.found_docs)


def setup(app: Sphinx) -> dict:
    app.connect("env-get-updated", write_every_page)
    app.connect("doctree-read", note_glue_references)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", outdated)
    app.connect("env-before-read-docs", read_readers_last)
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True,
            "parallel_write_safe": True}
