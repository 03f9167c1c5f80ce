"""tools/prose_numbers.py, the CI gate for "no number in prose is typed by hand", on small pages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "prose_numbers.py"
spec = importlib.util.spec_from_file_location("prose_numbers", TOOL)
prose_numbers = importlib.util.module_from_spec(spec)
sys.modules["prose_numbers"] = prose_numbers  # dataclasses look their module up
spec.loader.exec_module(prose_numbers)


def found(text: str) -> list[str]:
    return [token for _, token, _ in prose_numbers.find(text)]


# ---------------------------------------------------------------------------- what is flagged
@pytest.mark.parametrize(
    "prose, token",
    [
        ("The loss falls to 2.45 after training.", "2.45"),
        ("There are 32033 names.", "32033"),
        ("There are 32,033 names.", "32,033"),
        ("We train for 200k steps.", "200k"),
        ("It runs 3x faster.", "3x"),
        ("It runs 2.5× faster.", "2.5×"),
        ("A learning rate of 1e-3 works.", "1e-3"),
        ("About 12.5% of neurons are dead.", "12.5"),
        ("| model | loss |\n|---|---|\n| mlp | 2.17 |", "2.17"),
        ("A loss of -2.5 is impossible.", "2.5"),
    ],
)
def test_typed_numbers_are_flagged(prose, token):
    assert found(prose) == [token]


@pytest.mark.parametrize(
    "page",
    [
        "```{note}\nThe dev loss is 2.17.\n```",  # an admonition is prose
        ":::{warning}\nThis takes 120 seconds.\n:::",
        "```{glue:figure} fig_loss\n:name: fig-loss\n:width: 600px\n\nThe loss ends at 2.17.\n```",
        "````{tip}\n```python\nx = 1.5\n```\nand then 2.75 in prose\n````",  # nested fences
        "::::{admonition} Note\n:class: tip\n---\nmore: 1\n---\nA rate of 0.1 here.\n::::",
    ],
)
def test_prose_inside_directives_is_checked(page):
    assert len(found(page)) == 1


# ---------------------------------------------------------------------------- what is not
@pytest.mark.parametrize(
    "page",
    [
        "---\njupytext:\n  format_version: 0.13\n---\nNo numbers here.",  # front matter
        "```{code-cell} ipython3\nlr = 0.1\nsteps = 200_000\n```",  # code cells
        "```python\nprint(3.14159)\n```",  # code blocks
        "~~~\n1234\n~~~",
        "The loss is {glue:text}`dev_loss:.4f` after {glue:text}`steps:,` steps.",  # glue roles
        "Cross-page: {glue:text}`01_bigram.md::nll:.3f`.",
        "Inline code `x = 0.01` and math $-\\ln(1/27) \\approx 3.2958$.",
        "$$\nL = 3.2958\n$$",  # display math
        "$$ L = 3.2958 $$",
        "```{math}\n\\sigma = 0.2\n```",
        "See [the paper](https://arxiv.org/abs/1502.03167) and <https://example.org/v1.5/x>.",
        "Ioffe and Szegedy (2015) introduced BatchNorm; Bengio et al. 2003.",  # years
        "The file is checked against a pinned SHA-256 checksum, read as UTF-8.",  # names
        "A 2x2 grid, log10 of the loss, GPT2 and x86.",
        "<!-- a comment with 3.14 -->\nText.\n<!--\n1234\n-->",
        "% a MyST comment with 2.71\n(sec-1.5)=\n+++ {\"tags\": [\"x\"]}",
        '<img src="fig.png" width="600"> an image',
        "```{glue} table_key\n:doc: 02_mlp.md\n```",
        "We use twenty-seven characters, one or two layers, and a 27-letter alphabet.",
    ],
)
def test_not_prose_or_not_a_result_is_skipped(page):
    assert found(page) == []


def test_line_numbers_point_at_the_typed_number():
    page = "---\ntitle: x\n---\n\n# Title\n\nfine\nthe loss is 2.17\n"
    assert [(n, t) for n, t, _ in prose_numbers.find(page)] == [(8, "2.17")]


# ---------------------------------------------------------------------------- the command
def test_exit_status_and_report(tmp_path, capsys):
    good, bad = tmp_path / "good.md", tmp_path / "bad.md"
    good.write_text("The loss is {glue:text}`loss:.3f`.\n", encoding="utf-8")
    bad.write_text("# Results\n\nThe loss is 2.17.\n", encoding="utf-8")
    assert prose_numbers.main([str(good)]) == 0
    assert prose_numbers.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:3: 2.17" in out and "1 hand-typed number(s) in the prose of 2 file(s)" in out


def test_a_gate_that_checks_nothing_does_not_pass(tmp_path):
    assert prose_numbers.main([str(tmp_path / "missing.md")]) == 2
    assert prose_numbers.main([str(tmp_path)]) == 2  # a folder without Markdown
