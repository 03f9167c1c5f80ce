"""_ext/page_dependencies.py: which pages a re-read page takes with it (the graph; the
extension itself runs in every `make book`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

EXT = Path(__file__).resolve().parents[1] / "_ext" / "page_dependencies.py"
spec = importlib.util.spec_from_file_location("page_dependencies", EXT)
deps = importlib.util.module_from_spec(spec)
sys.modules["page_dependencies"] = deps
spec.loader.exec_module(deps)


def test_pages_showing_a_changed_page_s_values_are_stale_too():
    graph = {
        "book/03_batchnorm": {"book/02_mlp"},  # cross-page glue
        "book/results": {"book/01_bigram", "book/02_mlp", "book/03_batchnorm"},  # records
        "book/summary": {"book/results"},  # pastes from the results page
        "book/intro": set(),
    }
    assert deps.dependents(graph, {"book/02_mlp"}) == {
        "book/03_batchnorm", "book/results", "book/summary"}
    assert deps.dependents(graph, {"book/01_bigram"}) == {"book/results", "book/summary"}
    assert deps.dependents(graph, {"book/results"}) == {"book/summary"}
    assert deps.dependents(graph, {"book/intro"}) == set()


def test_code_that_reads_or_writes_records_is_recognised():
    reader = "```{code-cell} ipython3\nfrom makemore import plots, results\n" \
             "entries = results.load(KEYS)\n```\n"
    writer = "```{code-cell} ipython3\nresults.record('mlp', 'MLP', final, params=n, steps=s,\n" \
             "               chapter='02_mlp')\n```\n"
    imported = "from makemore.results import load, as_rows\nload(['mlp'])\n"
    assert deps.READS_RECORDS.search(reader) and not deps.WRITES_RECORDS.search(reader)
    assert deps.WRITES_RECORDS.search(writer) and not deps.READS_RECORDS.search(writer)
    assert deps.READS_RECORDS.search(imported)
    assert not deps.READS_RECORDS.search("The results page loads them; def record(step): ...")
