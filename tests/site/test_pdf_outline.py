"""The book's PDF can be navigated (`make pdf`, tools/make_pdf.py): its bookmarks (Chromium's
document outline of a tagged PDF) hold every page of `_toc.yml` by its title, in reading order,
each pointing at a page at or after the one before, and under each page a bookmark for each of
its sections. Titles are read from the pages' sources with the build's MyST parser.

Set MAKEMORE_PDF to check another PDF, and MAKEMORE_PDF_SOURCES to the folder of the book it
was printed from (a mini book's, say; default: this repository). Locally these skip without a
PDF (`make pdf`); in CI a missing PDF fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sitecheck

from tools.book import layout, myst

PDF = Path(os.environ.get("MAKEMORE_PDF",
                          sitecheck.ROOT / "_build" / "pdf" / "makemore-book.pdf"))
SOURCES = Path(os.environ.get("MAKEMORE_PDF_SOURCES", sitecheck.ROOT))


def plain(markdown: str) -> str:
    """A heading's text as a reader sees it: no markup, roles shown by their text, spaces once."""
    text = re.sub(r"\{[\w:-]+\}`([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", markdown)  # {role}`text <x>`
    parts = re.split(r"(`[^`]*`)", text)  # code spans keep their underscores
    text = "".join(p.strip("`") if p.startswith("`") else re.sub(r"[*_]", "", p)
                   for p in parts)
    return quotes(" ".join(text.split()))


def quotes(text: str) -> str:
    """Straight quotes for curly ones: Sphinx prints 'a network's' with a typographic one."""
    return text.translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"',
                                         "\u201d": '"'}))


def headings(page: Path) -> list[tuple[int, str]]:
    """(level, title) of each Markdown heading of the page, outside code and directives."""
    found, toks = [], myst.tokens(page.read_text(encoding="utf-8"))
    for i, tok in enumerate(toks):
        if tok.type == "heading_open":
            found.append((int(tok.tag[1]), plain(toks[i + 1].content)))
    return found


@pytest.fixture(scope="module")
def outline():
    if not PDF.is_file():
        sitecheck.need(f"no PDF at {PDF}: make pdf")
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(PDF))
    try:
        marks = [(b.level, quotes(" ".join(b.get_title().split())),
                  b.get_dest().get_index() if b.get_dest() else None) for b in doc.get_toc()]
    finally:
        doc.close()
    assert marks, f"{PDF} has no bookmarks (make_pdf asks Chromium for its document outline)"
    return marks


def test_every_page_is_a_bookmark_in_reading_order(outline):
    titles = [title for _, title, _ in outline]
    at = 0
    last_page = -1
    for page in layout.toc_pages(SOURCES):
        title = headings(page)[0][1]
        assert title in titles[at:], (f"{page.name}: no bookmark {title!r} after "
                                      f"{titles[at - 1] if at else 'the start'!r}")
        at = titles.index(title, at)
        target = outline[at][2]
        assert target is not None and target >= last_page, f"{title!r} points to page {target}"
        last_page = target
        at += 1


def test_every_section_is_a_bookmark_under_its_page(outline):
    titles = [title for _, title, _ in outline]
    pages = layout.toc_pages(SOURCES)
    for page, following in zip(pages, [*pages[1:], None], strict=True):
        start = titles.index(headings(page)[0][1])
        end = titles.index(headings(following)[0][1], start) if following else len(titles)
        level = outline[start][0]
        under = {title for lvl, title, _ in outline[start + 1:end] if lvl > level}
        sections = [title for lvl, title in headings(page) if lvl == 2]
        missing = [s for s in sections if s not in under]
        assert not missing, f"{page.name}: sections with no bookmark: {missing}"
