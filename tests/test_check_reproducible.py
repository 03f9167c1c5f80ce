"""tools/check_reproducible.py: what it compares and reports, on synthetic notebooks, and on two
tiny pages executed in real kernels (a chapter that records a model, a page that reads it)."""

from __future__ import annotations

import json

import pytest

from tools import check_reproducible as check

PREFIX = "application/papermill.record/"


def glue_output(name: str, data: dict, prefix: str = PREFIX) -> dict:
    """An output as myst_nb.glue(name, value, display=False) writes it into a notebook."""
    return {"output_type": "display_data", "data": {prefix + k: v for k, v in data.items()},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def code(*outputs: dict, source: str = "x = 1") -> dict:
    return {"cell_type": "code", "source": source, "outputs": list(outputs)}


# ---------------------------------------------------------------------------- glued values
def test_references_are_read_from_glue_json_and_ipynb(tmp_path):
    glue_json = tmp_path / "ch.glue.json"
    glue_json.write_text(json.dumps({"loss": {"data": {"text/plain": "2.5"}}}))
    notebook = tmp_path / "ch.ipynb"
    notebook.write_text(json.dumps({"cells": [
        code(glue_output("loss", {"text/plain": "2.5"}))]}))
    assert check.load_reference(glue_json) == check.load_reference(notebook)


def test_the_build_keeps_glue_beside_the_notebook(tmp_path):
    """myst-nb saves the executed notebook without its glue outputs, and the glue beside it."""
    (tmp_path / "ch.glue.json").write_text(json.dumps({"loss": {"data": {"text/plain": "2.5"}}}))
    cells = [code(stream("emma\n"))]
    (tmp_path / "ch.ipynb").write_text(json.dumps({"cells": cells}))
    for path in ("ch.ipynb", "ch.glue.json"):
        assert check.load_build(tmp_path / path) == ({"loss": {"text/plain": "2.5"}}, cells)


def test_differences_are_reported_and_timings_left_out_by_name():
    build = {"loss": {"text/plain": "2.5"}, "fig": {"image/png": "AAAA", "text/plain": "<F>"},
             "gone": {"text/plain": "1"}, "train_ms": {"text/plain": "12.0"},
             "eval_ms": {"text/plain": "3.0"}}
    again = {"loss": {"text/plain": "2.6"}, "fig": {"image/png": "BBBB", "text/plain": "<F>"},
             "new": {"text/plain": "1"}, "train_ms": {"text/plain": "15.0"},
             "eval_ms": {"text/plain": "4.0"}}
    diffs = check.compare(build, again, ignore={"train_ms"})
    report = "\n".join(diffs)
    assert len(diffs) == 5
    assert "loss [text/plain]:\n    build: 2.5\n    again: 2.6" in report
    assert "fig [image/png]" in report and "sha256" in report
    assert "gone: glued by the build, not by this run" in report
    assert "new: glued by this run, not by the build" in report
    assert "train_ms" not in report  # named: left out
    assert "eval_ms [text/plain]" in report  # looks like a timing, but not declared as one
    assert check.compare(build, build, ignore=set()) == []


# ---------------------------------------------------------------------------- printed outputs
def test_printed_output_is_read_as_the_page_shows_it():
    chunks = [stream("step 1\n"), stream("step 2\n"), stream("step 3\nstep 4\n")]
    fresh = code(*chunks, glue_output("loss", {"text/plain": "2.5"}),
                 {"output_type": "execute_result", "data": {"text/plain": "42"}})
    # the notebook the build saves: myst-nb merged the chunks into the first, kept the others
    built = code(stream("step 1\nstep 2\nstep 3\nstep 4\n"), *chunks[1:],
                 glue_output("loss", {"text/plain": "2.6"}),
                 {"output_type": "execute_result", "data": {"text/plain": "42"}})
    assert check.printed(fresh) == check.printed(built, saved_by_build=True) == {
        "stdout": "step 1\nstep 2\nstep 3\nstep 4\n", "result": "42\n"}  # glue left out
    assert check.compare_printed([built], [fresh]) == []
    # where a stream splits depends on timing, and myst-nb starts a line at each split
    split = code(stream("True"), stream(" True\n"))
    assert check.compare_printed([code(stream("True True\n"))], [split]) == []
    assert check.compare_printed([code(stream("True False\n"))], [split]) != []


def test_a_printed_difference_is_a_short_diff_naming_the_cell(tmp_path):
    page = tmp_path / "ch.md"
    page.write_text("# ch\n\n```{code-cell} ipython3\nx = 1\n```\n\ntext\n\n"
                    "```{code-cell} ipython3\nprint(names)\n```\n", encoding="utf-8")
    built = [code(), code(stream("emma\nolivia\nava\n"), source="print(names)")]
    again = [code(), code(stream("emma\nolive\nava\n"), source="print(names)")]
    diffs = check.compare_printed(built, again, page)
    assert len(diffs) == 1
    assert diffs[0].startswith(f"printed output of code cell 2 ({page}:9: print(names)):")
    assert "\n    -olivia\n    +olive" in diffs[0] and "emma" not in diffs[0]
    stale = check.compare_printed(built, again[:1], page)
    assert stale == ["printed outputs: the build has 2 code cells, this run 1 "
                     "(was the page edited after the build?)"]


# ---------------------------------------------------------------------------- pages and usage
NOTEBOOK = "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n# {title}\n\n"
WRITER = NOTEBOOK + """```{{code-cell}} ipython3
import os, time
from makemore import results
from makemore.publish import timing
assert "makemore-reproducible-" in os.environ["MAKEMORE_RESULTS"]  # never the build's cache
results.record("toy", "a toy model", {{"train": 1.5, "dev": 1.75}}, params=3, steps=2,
               chapter="writer")
print("sampled: emma, ava")
timing("t_first_ms", 1000 * time.perf_counter())
timing("t_second_ms", 2000 * time.perf_counter())  # ends the cell: must print nothing
```
"""
READER = NOTEBOOK + """```{{code-cell}} ipython3
from myst_nb import glue
from makemore import results
entry, = results.load(["toy"])
glue("toy_dev", entry["losses"]["dev"], display=False)
print(entry["model"], entry["losses"])
```
"""


@pytest.fixture
def pages(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "intro.md").write_text("# Not a notebook\n", encoding="utf-8")
    (book / "writer.md").write_text(WRITER.format(title="writer"), encoding="utf-8")
    (book / "reader.md").write_text(READER.format(title="reader"), encoding="utf-8")
    return book


def test_pages_that_write_records_run_before_pages_that_read_them(pages):
    names = lambda ps: [p.name for p in ps]  # noqa: E731
    assert names(check.plan([pages])) == ["writer.md", "reader.md"]  # intro is no notebook
    assert names(check.plan([pages / "reader.md"])) == ["writer.md", "reader.md"]
    assert names(check.plan([pages / "writer.md"])) == ["writer.md"]
    # in a book, a folder means the pages its _toc.yml lists (the ones the build executes)
    (pages.parent / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n"
                                           "chapters:\n  - file: book/reader\n")
    assert names(check.plan([pages])) == ["reader.md"]
    assert names(check.plan([pages / "writer.md"])) == ["writer.md"]  # named: executed


def test_bad_usage(tmp_path, pages, capsys):
    assert check.main([str(tmp_path / "nope.md")]) == 2
    assert check.main([str(pages / "intro.md")]) == 2  # nothing to execute
    assert check.main([str(pages / "writer.md"), "--build", str(tmp_path / "_build")]) == 2
    assert "build the book first" in capsys.readouterr().err
    assert check.main([str(pages / "reader.md"), "--reference", str(tmp_path / "x.ipynb")]) == 2
    assert "--reference needs exactly one page" in capsys.readouterr().err


def test_two_executions_of_the_pages_agree(pages, capsys):
    """Real kernels: the reader reads the record the writer glued, from this run's execution
    of it; the declared timings differ between the runs and are left out."""
    assert check.main([str(pages / "reader.md"), "--twice"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "writer.md: left out (timings, --ignore): t_first_ms, t_second_ms" in out
    # toy_train, toy_dev, toy_params, toy_steps, record.toy and the two timing declarations
    assert "writer.md: the same 7 glued value(s) and the printed output of 1 code cell(s)" in out
    assert "reader.md: the same 1 glued value(s) and the printed output of 1 code cell(s)" in out
    assert not (pages.parent / "_build").exists()


def test_a_page_that_prints_something_else_is_not_reproducible(tmp_path, capsys):
    """A printed time differs; so does a glued one that was not declared with `timing`, however
    it is named."""
    page = tmp_path / "clock.md"
    page.write_text(NOTEBOOK.format(title="clock") + "```{code-cell} ipython3\n"
                    "import time\nfrom myst_nb import glue\nglue('n', 3, display=False)\n"
                    "glue('t_wall_ms', time.perf_counter(), display=False)\n"
                    "print('took', time.perf_counter_ns(), 'ns')\n```\n", encoding="utf-8")
    assert check.main([str(page), "--twice"]) == 1
    out = capsys.readouterr().out
    assert f"NOT REPRODUCIBLE: {page} differs from a first execution in 2 place(s):" in out
    assert "t_wall_ms [text/plain]:" in out
    assert f"printed output of code cell 1 ({page}:8: import time):" in out
    assert "-took " in out and "+took " in out
