"""tools/check_reproducible.py on synthetic glue data (no kernel): what it compares and reports."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "check_reproducible.py"
spec = importlib.util.spec_from_file_location("check_reproducible", TOOL)
check = importlib.util.module_from_spec(spec)
sys.modules["check_reproducible"] = check
spec.loader.exec_module(check)

PREFIX = "application/papermill.record/"


def glue_output(name: str, data: dict, prefix: str = PREFIX) -> dict:
    """An output as myst_nb.glue(name, value, display=False) writes it into a notebook."""
    return {"output_type": "display_data", "data": {prefix + k: v for k, v in data.items()},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}


def test_glued_values_are_read_from_notebook_outputs():
    cells = [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "hello"},
        glue_output("loss", {"text/plain": "2.1234"}),
        glue_output("shown", {"text/plain": "3"}, prefix=""),  # glue(..., display=True)
    ]}, {"cell_type": "markdown", "source": "text"}]
    assert check.glue_of_outputs(cells) == {"loss": {"text/plain": "2.1234"},
                                            "shown": {"text/plain": "3"}}


def test_references_are_read_from_glue_json_and_ipynb(tmp_path):
    glue_json = tmp_path / "ch.glue.json"
    glue_json.write_text(json.dumps({"loss": {"data": {"text/plain": "2.5"}}}))
    notebook = tmp_path / "ch.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "code", "outputs": [glue_output("loss", {"text/plain": "2.5"})]}]}))
    assert check.load_reference(glue_json) == check.load_reference(notebook)


def test_differences_are_reported_and_timings_can_be_left_out():
    build = {"loss": {"text/plain": "2.5"}, "fig": {"image/png": "AAAA", "text/plain": "<F>"},
             "gone": {"text/plain": "1"}, "train_ms": {"text/plain": "12.0"}}
    again = {"loss": {"text/plain": "2.6"}, "fig": {"image/png": "BBBB", "text/plain": "<F>"},
             "new": {"text/plain": "1"}, "train_ms": {"text/plain": "15.0"}}
    diffs = check.compare(build, again, ignore=check.TIMINGS)
    report = "\n".join(diffs)
    assert len(diffs) == 4
    assert "loss [text/plain]:\n    build: 2.5\n    again: 2.6" in report
    assert "fig [image/png]" in report and "sha256" in report
    assert "gone: glued by the build, not by this run" in report
    assert "new: glued by this run, not by the build" in report
    assert "train_ms" not in report
    assert check.compare(build, build, ignore=[]) == []


def test_a_missing_chapter_or_build_is_bad_usage(tmp_path, capsys):
    assert check.main([str(tmp_path / "nope.md")]) == 2
    chapter = tmp_path / "ch.md"
    chapter.write_text("# x\n")
    assert check.main([str(chapter), "--reference", str(tmp_path / "none.glue.json")]) == 2
    assert "build the book first" in capsys.readouterr().err
