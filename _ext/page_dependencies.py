"""No stale page in a local build: a page that pastes another page's values is rebuilt with it.

Sphinx re-reads a page when its own source changes. Two kinds of page also show numbers that
come from *other* pages, and would otherwise keep showing the old ones:

- a page that pastes values from another page with cross-page glue
  ({glue:text}`02_mlp.md::mlp_dev:.4f`): myst-nb resolves those at write time, from the glue the
  other page's last execution stored, so the page only shows new values if it is written again;
- a page that reads the records the chapters write (`results.load(...)`, the results page): its
  code cells read `_build/results/*.json`, so its figure and numbers are only new if it is
  executed again after the chapters.

This extension keeps, for every page, the pages it depends on: the documents its cross-page glue
references point at (collected from myst-nb's pending glue references when the page is read),
and, for a page whose code reads records, every page whose code writes them (`results.record`,
found in the sources). When Sphinx decides which pages to re-read (`env-get-outdated`), every
page that depends on a page being re-read (added, changed or removed), directly or through
another, is re-read too; pages that read records are read last, after the chapters that
(re-)write them (`env-before-read-docs`), and their cached execution is dropped, so that they
are executed again on the records this build's chapters wrote, when a chapter that writes
records executes in this build or a record is newer than that cached execution (with
`execute_notebooks: cache` the cache would otherwise replay the outputs of an execution that
read older records).

The records themselves can be stale too. The cache replays a chapter's outputs without running
its code, so it does not write its records again: after a chapter is edited, built, and the edit
undone, the cache shows the old version while the records hold the edited one's numbers. So a
chapter whose page (its last executed glue) disagrees with the records it left is re-read, and
a chapter about to be read loses every cached execution whose glue disagrees with its records:
it is executed again, and writes records that match what it shows.

Registered in `_config.yml` under `sphinx: local_extensions`.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)

# code that reads the chapters' records, and code that writes them (makemore.results)
READS_RECORDS = re.compile(
    r"\bresults\.load\(|^\s*from\s+makemore\.results\s+import\b[^\n]*\bload\b", re.MULTILINE
)
WRITES_RECORDS = re.compile(
    r"\bresults\.record\(|^\s*from\s+makemore\.results\s+import\b[^\n]*\brecord\b", re.MULTILINE
)


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


def _source(env: BuildEnvironment, docname: str) -> str:
    try:
        return Path(env.doc2path(docname)).read_text(encoding="utf-8")
    except OSError:
        return ""


def record_pages(env: BuildEnvironment) -> tuple[set[str], set[str]]:
    """(pages whose code reads records, pages whose code writes them), from their sources."""
    readers, writers = set(), set()
    for docname in env.found_docs:
        text = _source(env, docname)
        if READS_RECORDS.search(text):
            readers.add(docname)
        if WRITES_RECORDS.search(text):
            writers.add(docname)
    return readers, writers - readers


def dependencies(env: BuildEnvironment) -> dict[str, set[str]]:
    """For every page, the pages whose new values it shows: glue sources and record writers."""
    deps = {doc: set(refs) for doc, refs in _glue_deps(env).items() if doc in env.found_docs}
    readers, writers = record_pages(env)
    for doc in readers:
        deps.setdefault(doc, set()).update(writers)
    return deps


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


# -----------------------------------------------------------------------------
# the Sphinx events


def _glue_text(outputs: dict) -> dict[str, str]:
    """{key: text/plain} of glued values, from a .glue.json or from a notebook's outputs."""
    return {key: "".join(data.get("text/plain", "")) for key, data in outputs.items()}


def _glue_of_notebook(nb) -> dict[str, dict]:
    glued = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            if meta is not None:
                prefix = len(meta.get("mime_prefix", ""))
                glued[meta["name"]] = {k[prefix:]: v for k, v in output.get("data", {}).items()}
    return glued


def _records_disagree(app: Sphinx, docname: str, glued: dict[str, str]) -> list[str]:
    from makemore import results

    folder = results.results_dir(app.srcdir)
    return results.disagreeing_records(docname.split("/")[-1], glued, folder)


def stale_writers(app: Sphinx, env: BuildEnvironment) -> set[str]:
    """Pages that write records whose last executed glue disagrees with the records they left."""
    _, writers = record_pages(env)
    folder = Path(env.mystnb_config.output_folder)
    stale = set()
    for docname in writers:
        path = folder.joinpath(*docname.split("/")[:-1], docname.split("/")[-1] + ".glue.json")
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        why = _records_disagree(app, docname, _glue_text(
            {key: output.get("data", {}) for key, output in data.items()}))
        if why:
            logger.info(f"[page_dependencies] re-reading {docname}: its records are not what "
                        f"its page shows ({'; '.join(why)})")
            stale.add(docname)
    return stale


def outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """Re-read every page that shows values of a page being re-read, and every chapter whose
    records are not what its page shows."""
    again = stale_writers(app, env) - set(added) - set(changed)
    stale = dependents(dependencies(env), set(added) | set(changed) | set(removed) | again)
    stale = (stale | again) & env.found_docs
    if stale - again:
        logger.info(f"[page_dependencies] re-reading {', '.join(sorted(stale - again))}: "
                    "they show values of pages being re-read")
    return sorted(stale)


def _cache(app: Sphinx):
    """myst-nb's execution cache, or None when the build does not use one."""
    nb_config = app.env.mystnb_config
    if nb_config.execution_mode != "cache":
        return None  # "force"/"auto" execute a Markdown notebook every time it is read
    from jupyter_cache import get_cache

    return get_cache(nb_config.execution_cache_path or ".jupyter_cache")


def _drop_cached_executions(app: Sphinx, cache, docnames: list[str], why: str,
                            keep=lambda docname, record: False) -> set[str]:
    """Make myst-nb execute these pages again instead of replaying their cached outputs: drop
    every cached execution of them but those `keep(docname, record)` accepts. Returns the
    pages that lost one."""
    paths = {Path(app.env.doc2path(d)).resolve(): d for d in docnames}
    dropped = set()
    for record in cache.list_cache_records():
        docname = paths.get(Path(record.uri).resolve()) if record.uri else None
        if docname is None or keep(docname, record):
            continue
        logger.info(f"[page_dependencies] {docname} will be executed again: {why}")
        cache.remove_cache(record.pk)
        dropped.add(docname)
    return dropped


def _in_cache(app: Sphinx, cache, docname: str) -> bool:
    """Whether myst-nb will find the page, as it is now, in the cache (else it executes it)."""
    from myst_nb.core.read import create_nb_reader

    path = app.env.doc2path(docname)
    text = Path(path).read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), app.env.myst_config, app.env.mystnb_config, text)
    if reader is None:
        return True  # not a notebook: nothing to execute
    try:
        cache.match_cache_notebook(reader.read(text))
    except KeyError:
        return False
    return True


def _newest_record(app: Sphinx) -> float:
    from makemore import results

    folder = results.results_dir(app.srcdir)
    return max((p.stat().st_mtime for p in folder.glob("*.json")), default=0.0)


def _created(record) -> float:
    created = record.created  # jupyter-cache stores UTC, read back without its zone
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.UTC)
    return created.timestamp()


def read_readers_last(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Pages that read records go after the chapters that write them; a chapter that writes
    records is replayed from the cache only if they are what it shows; and a page that reads
    them only if its cached execution came after every record, and no chapter writes any
    before it in this build."""
    readers, writers = record_pages(env)
    docnames.sort(key=lambda d: d in readers)  # stable: the rest keeps Sphinx's order
    cache = _cache(app)
    if cache is None:
        return

    def agrees(docname: str, record) -> bool:
        nb = cache.get_cache_bundle(record.pk).nb
        return not _records_disagree(app, docname, _glue_text(_glue_of_notebook(nb)))

    writing = [d for d in docnames if d in writers]
    executed = _drop_cached_executions(app, cache, writing,
                                       "its cached outputs are not the records it left", agrees)
    executed |= {d for d in writing if not _in_cache(app, cache, d)}
    newest = _newest_record(app)
    _drop_cached_executions(
        app, cache, [d for d in docnames if d in readers],
        f"it reads the records of {', '.join(sorted(executed))}, executed in this build"
        if executed else "it reads records written after its cached execution",
        keep=lambda docname, record: not executed and _created(record) >= newest,
    )


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
