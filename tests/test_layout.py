"""tools/book/layout.py: the book's pages, which execute, which read and write records, and the
timings a page declared, on a toy book (and the rule on the real one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from makemore.publish import TIMING_PREFIX
from tools.book import layout

NOTEBOOK = "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n" \
           "  name: python3\n  display_name: Python 3\n---\n# {title}\n\n"


def cell(code: str) -> str:
    return f"```{{code-cell}} ipython3\n{code}\n```\n\n"


PAGES = {
    "intro": "# Not a notebook\n\nIt mentions `results.load(KEYS)` and kernelspec: in prose.\n",
    "part1/writer": NOTEBOOK + cell("from makemore import results")
    + cell("%matplotlib inline\nfor k in KEYS:\n    results.record(k, 'm', {}, params=1, steps=1,"
           " chapter='w')"),
    "part1/sections/aside": NOTEBOOK + cell("x = 1") + "Prose: `results.record(...)`.\n",
    "part2/imports": NOTEBOOK + cell("from makemore.results import load as get, record")
    + cell("entries = get(['a'])"),
    "part2/aliased": NOTEBOOK + cell("import makemore.results as r\nr.record('a', 'm', {}, "
                                     "params=1, steps=1, chapter='x')"),
    "reader": NOTEBOOK + cell("from makemore import results\nentries = results.load(KEYS)")
    + "```python\nresults.record('not', 'run', {})\n```\n",
    "unlisted": NOTEBOOK + cell("from makemore import results\nresults.record('u')"),
}
TOC = """format: jb-book
root: intro
parts:
  - caption: One
    chapters:
      - file: part1/writer
        sections:
          - file: part1/sections/aside
  - caption: Two
    chapters:
      - file: part2/imports
      - file: part2/aliased
      - file: reader
      - url: https://example.org
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    for name, text in PAGES.items():
        path = tmp_path / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "_toc.yml").write_text(TOC, encoding="utf-8")
    return tmp_path


def names(book: Path, pages: list[Path]) -> list[str]:
    return [p.relative_to(book).with_suffix("").as_posix() for p in pages]


def test_pages_come_in_the_order_of_the_toc(book):
    assert names(book, layout.toc_pages(book)) == [
        "intro", "part1/writer", "part1/sections/aside", "part2/imports", "part2/aliased",
        "reader"]  # a url is no page; a page the toc does not list is not the book's
    assert layout.book_root(book / "part1" / "sections" / "aside.md") == book.resolve()


def test_the_pages_that_name_a_kernel_execute(book):
    assert not layout.executes(book / "intro.md")  # "kernelspec:" in prose is not front matter
    assert names(book, layout.executed_pages(book)) == [
        "part1/writer", "part1/sections/aside", "part2/imports", "part2/aliased", "reader"]


def test_one_rule_says_which_pages_write_records_and_which_read_them(book):
    calls = {name: layout.record_calls(book / f"{name}.md") for name in PAGES}
    assert calls == {
        "intro": set(),  # no code: prose that names a call calls nothing
        "part1/writer": {"record"},  # imported in one cell, called in another, magics and all
        "part1/sections/aside": set(),
        "part2/imports": {"load"},  # load called under another name; record imported, not called
        "part2/aliased": {"record"},
        "reader": {"load"},  # a code block is shown, not run
        "unlisted": {"record"},
    }
    assert [layout.writes_records(book / f"{n}.md") for n in ("part1/writer", "reader")] == [
        True, False]
    assert [layout.reads_records(book / f"{n}.md") for n in ("part1/writer", "reader")] == [
        False, True]


def test_the_real_book_has_chapters_that_write_and_one_page_that_reads():
    pages = layout.executed_pages()
    writers = [p.name for p in pages if layout.writes_records(p)]
    readers = [p.name for p in pages if layout.reads_records(p)]
    assert len(writers) >= 6 and readers == ["results.md"]
    assert pages.index(layout.ROOT / "book" / "results.md") > max(
        pages.index(layout.ROOT / "book" / w) for w in writers)


def test_timing_keys_are_the_ones_the_page_declared():
    glued = {"t_cat_ms": {"text/plain": "4.7"},
             TIMING_PREFIX + "t_cat_ms": {"text/plain": "'t_cat_ms'"},
             TIMING_PREFIX + "train_seconds": {"text/plain": "'train_seconds'"},
             "steps_per_s": {"text/plain": "17626.7"},
             "timing_keys": {"text/plain": "'inline_ms, package_ms'"}}  # no longer a declaration
    assert layout.timing_keys(glued) == {"t_cat_ms", "train_seconds"}
    assert layout.timing_keys({"steps_per_s": {"text/plain": "1.0"}}) == set()
