"""_ext/page_dependencies.py: which pages a build re-reads besides the changed ones (the graph,
and the pages that read records, on an environment as Sphinx would hand it; the extension itself
runs in every `make book`)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from _ext import page_dependencies as deps
from tools.book import layout

BOOK = layout.ROOT / "book"


def test_pages_showing_a_changed_page_s_values_are_stale_too():
    graph = {
        "book/03_batchnorm": {"book/02_mlp"},  # cross-page glue
        "book/summary": {"book/03_batchnorm"},  # pastes from a page that pastes
        "book/intro": set(),
    }
    assert deps.dependents(graph, {"book/02_mlp"}) == {"book/03_batchnorm", "book/summary"}
    assert deps.dependents(graph, {"book/03_batchnorm"}) == {"book/summary"}
    assert deps.dependents(graph, {"book/intro"}) == set()


def environment(glue_deps: dict[str, set[str]]):
    """The real book's pages, as the Sphinx environment names them."""
    docs = {f"book/{p.stem}" for p in BOOK.glob("*.md")}
    return SimpleNamespace(found_docs=docs, doc2path=lambda d: str(layout.ROOT / f"{d}.md"),
                           makemore_glue_deps=glue_deps)


def test_the_results_page_is_read_again_in_every_build_and_last():
    env = environment({"book/intro": {"book/results"}})  # say the intro pasted a result
    assert deps.readers(env) == {"book/results"}
    # nothing changed: the results page (it reads records) and what pastes from it
    assert deps.outdated(None, env, set(), set(), set()) == ["book/intro", "book/results"]
    assert deps.outdated(None, env, set(), {"book/02_mlp"}, set()) == ["book/intro",
                                                                     "book/results"]


def test_the_results_page_goes_last_and_loses_its_cached_executions(tmp_path, monkeypatch):
    monkeypatch.setenv(layout.RESULTS_ENV, "restored after the test")
    cache = get_cache(str(tmp_path / "cache"))
    for page, source in (("results", "x = 1"), ("results", "x = 2"), ("02_mlp", "y = 1")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(BOOK / f"{page}.md")),
                                    check_validity=False)
    env = environment({})
    env.mystnb_config = SimpleNamespace(execution_mode="cache",
                                        execution_cache_path=str(tmp_path / "cache"))
    docnames = ["book/01_bigram", "book/results", "book/02_mlp", "book/glossary"]
    deps.read_readers_last(None, env, docnames)
    assert docnames == ["book/01_bigram", "book/02_mlp", "book/glossary", "book/results"]
    assert [r.uri for r in cache.list_cache_records()] == [str(BOOK / "02_mlp.md")]
    assert os.environ[layout.RESULTS_ENV] == str(tmp_path / "cache")  # for its kernel
