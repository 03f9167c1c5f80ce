"""makemore.results: a chapter glues its records, and the results page reads them back from the
chapter's execution that the build shows, so a record cannot disagree with its page.

The notebooks here are made as a build makes them: the page read as myst-nb reads it, its code
cell given the outputs `record` really sends (captured from an IPython shell), stored in a
jupyter-cache under the page's path.
"""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from makemore import results
from makemore.stats import mean_std

PAGE = """---
kernelspec:
  name: python3
  display_name: Python 3
---
# A chapter

```{{code-cell}} ipython3
losses = {losses}
```
"""


def recorded(*calls: dict) -> list:
    """The outputs `record(**call)` sends to the notebook, for each call."""
    InteractiveShell.instance()  # glue formats its values through the shell's formatters
    with capture_output() as captured:
        for call in calls:
            results.record(**call)
    return [nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata)
            for o in captured.outputs]


def call(key: str, dev: float, **more) -> dict:
    return {"key": key, "model": key.upper(), "losses": {"train": 2.0, "dev": dev},
            "params": 4321, "steps": 100, "chapter": "ch", **more}


@pytest.fixture
def book(tmp_path, monkeypatch):
    """An empty book (its _config.yml and _toc.yml) whose cache the kernels are told about."""
    (tmp_path / "_config.yml").write_text("title: toy\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/ch\n")
    (tmp_path / "book").mkdir()
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "cache"))
    return tmp_path


def execute(page, dev: float, *calls: dict) -> None:
    """Write the page (its source depends on `dev`), and store it in the cache as a build that
    executed it would: its code cell holding what `calls` glued."""
    page.write_text(PAGE.format(losses={"dev": dev}), encoding="utf-8")
    nb = results.read_page(page)
    next(c for c in nb.cells if c.cell_type == "code").outputs = recorded(*calls)
    get_cache(str(results.cache_dir())).cache_notebook_bundle(
        CacheBundleIn(nb, str(page)), check_validity=False, overwrite=True)


# ---------------------------------------------------------------------------- writing
def test_record_glues_what_the_prose_quotes_and_the_whole_record():
    cells = [{"outputs": recorded(call("mlp", 2.2, seeds={"dev": [2.2, 2.3, 2.25]}))}]
    glued = results.glue_of(cells)
    assert set(glued) == {"mlp_train", "mlp_dev", "mlp_params", "mlp_steps", "mlp_dev_mean",
                          "mlp_dev_std", "mlp_seeds", "record.mlp"}
    assert glued["mlp_dev"] == {"text/plain": "2.2"} and glued["mlp_params"]["text/plain"] == "4321"
    mean, std = mean_std([2.2, 2.3, 2.25])
    assert float(glued["mlp_dev_mean"]["text/plain"]) == mean
    assert float(glued["mlp_dev_std"]["text/plain"]) == std
    assert glued["mlp_seeds"]["text/plain"] == "3"
    whole = json.loads(ast.literal_eval(glued["record.mlp"]["text/plain"]))  # a str's repr
    assert whole == {"key": "mlp", "model": "MLP", "chapter": "ch", "params": 4321, "steps": 100,
                     "losses": {"train": 2.0, "dev": 2.2}, "seeds": {"dev": [2.2, 2.3, 2.25]}}


def test_unknown_split_or_too_few_seeds_are_refused():
    with pytest.raises(ValueError, match="val"):
        recorded({**call("m", 1.0), "losses": {"val": 1.0}})
    with pytest.raises(ValueError, match="at least two"):
        recorded(call("m", 1.0, seeds={"dev": [1.0]}))


def test_glue_is_read_from_outputs_whatever_their_shape():
    prefix = results.GLUE_PREFIX
    cells = [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "hello"},
        {"output_type": "display_data", "data": {prefix + "text/plain": ["2.1", "234"]},
         "metadata": {"scrapbook": {"name": "loss", "mime_prefix": prefix}}},
        {"output_type": "display_data", "data": {"text/plain": "3"},  # glue(..., display=True)
         "metadata": {"scrapbook": {"name": "shown", "mime_prefix": ""}}},
        {"output_type": "display_data", "data": {"text/plain": "4"}, "metadata": {}}]},
        {"cell_type": "markdown", "source": "text"}]
    assert results.glue_of(cells) == results.glue_of({"cells": cells}) == {
        "loss": {"text/plain": "2.1234"}, "shown": {"text/plain": "3"}}


# ---------------------------------------------------------------------------- reading
def test_load_reads_the_records_the_executed_chapters_glued(book):
    execute(book / "book" / "ch.md", 2.2, call("mlp", 2.2), call("bigram", 2.4))
    execute(book / "book" / "other.md", 2.0, call("wavenet", 2.0))
    got = results.load(["wavenet", "mlp"])
    assert [(e["key"], e["losses"]["dev"]) for e in got] == [("wavenet", 2.0), ("mlp", 2.2)]
    assert [(r["key"], r["split"], r["loss"]) for r in results.as_rows(got[:1])] == [
        ("wavenet", "train", 2.0), ("wavenet", "dev", 2.0)]
    assert {(r["steps"], r["cpu_seconds"], r["seeds"]) for r in results.as_rows(got)} == {
        (100, None, None)}
    assert set(results.records(pages={(book / "book" / "other.md").resolve()})) == {"wavenet"}


def test_a_record_cannot_disagree_with_its_page(book):
    """An edited chapter executed, then the edit undone: the cache holds both executions, and
    the results read the one the page shows now. Edited and not executed again: no record, not
    the other version's numbers."""
    page = book / "book" / "ch.md"
    execute(page, 2.2, call("mlp", 2.2))
    execute(page, 2.5, call("mlp", 2.5))  # the edit, executed
    page.write_text(PAGE.format(losses={"dev": 2.2}), encoding="utf-8")  # undone
    assert results.load(["mlp"])[0]["losses"]["dev"] == 2.2
    shown = results.glue_of(results.executed_notebook(page, get_cache(str(results.cache_dir()))))
    assert float(shown["mlp_dev"]["text/plain"]) == 2.2
    page.write_text(PAGE.format(losses={"dev": 2.9}), encoding="utf-8")  # edited again
    with pytest.raises(LookupError, match="'mlp'"):
        results.load(["mlp"])


def test_missing_record_names_the_model(book):
    execute(book / "book" / "ch.md", 2.2, call("mlp", 2.2))
    with pytest.raises(LookupError, match="'deep'.*build the chapters"):
        results.load(["mlp", "deep"])


def test_a_model_recorded_by_two_pages_is_an_error(book):
    execute(book / "book" / "ch.md", 2.2, call("mlp", 2.2))
    execute(book / "book" / "copy.md", 2.3, call("mlp", 2.3))
    with pytest.raises(ValueError, match="'mlp' is glued by two pages"):
        results.load(["mlp"])


def test_default_cache_is_the_books(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    (tmp_path / "_config.yml").write_text("")
    (tmp_path / "_toc.yml").write_text("")
    (tmp_path / "book").mkdir()
    monkeypatch.chdir(tmp_path / "book")  # where the build executes a chapter
    assert results.cache_dir() == tmp_path.resolve() / "_build" / ".jupyter_cache"
    with pytest.raises(LookupError, match="'mlp'"):  # nothing built: no cache made either
        results.load(["mlp"])
    assert not (tmp_path / "_build").exists()


def test_a_record_s_cpu_seconds_travel_as_a_timing_and_come_back(book):
    """The run's CPU seconds differ from build to build: they are glued apart, declared as a
    timing (left out of the reproducibility check), and `load` puts them back in the record."""
    cells = [{"outputs": recorded(call("mlp", 2.2, cpu_seconds=12.5))}]
    glued = results.glue_of(cells)
    assert "cpu_seconds" not in json.loads(ast.literal_eval(glued["record.mlp"]["text/plain"]))
    assert float(glued["mlp_cpu"]["text/plain"]) == 12.5 and "timing_keys.mlp_cpu" in glued
    execute(book / "book" / "ch.md", 2.2,
            call("mlp", 2.2, cpu_seconds=12.5, seeds={"dev": [2.2, 2.3]}), call("bigram", 2.4))
    mlp, bigram = results.load(["mlp", "bigram"])
    assert mlp["cpu_seconds"] == 12.5 and bigram["cpu_seconds"] is None
    # results.json's rows carry each run's budget and its seeds' losses on that split
    assert [(r["split"], r["cpu_seconds"], r["seeds"]) for r in results.as_rows([mlp])] == [
        ("train", 12.5, None), ("dev", 12.5, [2.2, 2.3])]


def test_claims_come_back_from_the_pages_that_made_them(book):
    from makemore import compare

    InteractiveShell.instance()
    with capture_output() as captured:
        v = compare.compare_paired([2.10, 2.12, 2.11], [2.20, 2.21, 2.23], "MLP", "bigram")
        compare.claim("mlp_vs_bigram", v, "ahead", page="ch")
    page = book / "book" / "ch.md"
    page.write_text(PAGE.format(losses={"dev": 1}), encoding="utf-8")
    nb = results.read_page(page)
    next(c for c in nb.cells if c.cell_type == "code").outputs = [
        nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata)
        for o in captured.outputs]
    get_cache(str(results.cache_dir())).cache_notebook_bundle(
        CacheBundleIn(nb, str(page)), check_validity=False, overwrite=True)
    (row,) = results.claims()
    assert (row["key"], row["word"], row["page"], row["n"]) == ("mlp_vs_bigram", "ahead", "ch", 3)
    assert row["low"] == pytest.approx(v.low) and row["high"] == pytest.approx(v.high)
