"""The book as one PDF (`make pdf`, tools/make_pdf.py), checked against the page it was printed
from (`_build/singlehtml/makemore-book.html`): every chapter starts a page, in order; every figure
is in it, pixel for pixel; every equation is drawn; every code block is there whole, not cut at
the margin; its page count is that of a book, neither blank pages nor a runaway print; and a
rendered page shows its figure. The intro links to the PDF, which `make pdf` puts in the site.

Locally these skip without a PDF (`make pdf`); in CI a missing PDF fails.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
import sitecheck
import yaml
from PIL import Image, ImageChops, ImageStat

PDF = Path(os.environ.get("MAKEMORE_PDF",
                          sitecheck.ROOT / "_build" / "pdf" / "makemore-book.pdf"))
PRINTED = PDF.parents[1] / "singlehtml" / f"{PDF.stem}.html"  # the page make_pdf printed
FOOTER = re.compile(r"^.*·\s*\d+\s*/\s*\d+\s*$")  # "title · 3 / 77", make_pdf's footer
MIN_CHARS_PER_PAGE = 700  # this book prints about 1,000 a page: far fewer means a sparse print
RENDER_DPI = 100


@pytest.fixture(scope="module")
def pdf():
    if not PDF.is_file():
        sitecheck.need(f"no PDF at {PDF}: make pdf")
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(PDF))
    yield doc
    doc.close()


@pytest.fixture(scope="module")
def printed() -> str:
    if not PRINTED.is_file():
        sitecheck.need(f"no {PRINTED}: make pdf")
    return PRINTED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    """The text of every page, the footer left out."""
    texts = []
    for page in pdf:
        text = page.get_textpage().get_text_range().replace("\r", "")
        text = text.replace("\ufffe", "-")  # pdfium's mark for a hyphen that ends a line
        lines = text.split("\n")
        texts.append("\n".join(line for line in lines if not FOOTER.match(line)))
    return texts


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def chapter_titles(printed: str) -> list[str]:
    """The title of each document after the first, as the single page shows it."""
    return [plain(t).strip() for t in re.findall(
        r'<span id="document-[^"]+"></span>\s*<section[^>]*>\s*<h\d>(.*?)<a class="headerlink"',
        printed, re.S)]


def image_objects(pdf):
    import pypdfium2.raw as raw

    for index, page in enumerate(pdf):
        for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=8):
            yield index, obj


# -----------------------------------------------------------------------------


CITATION_LABEL = re.compile(r"^\[[^\]\s]+\]$")  # "[BKH16]", a bibliography entry's label


def page_start(text: str) -> str:
    """A page's text without its leading citation labels: pdfium reads the labels column of a
    bibliography before the heading above it."""
    lines = text.split("\n")
    while lines and CITATION_LABEL.match(lines[0].strip()):
        lines.pop(0)
    return squeeze("\n".join(lines))


def test_every_chapter_starts_a_page_in_order(pages, printed):
    titles = chapter_titles(printed)
    assert len(titles) >= 3, f"chapters not found in {PRINTED}: {titles}"
    starts = []
    for title in titles:
        first = [i for i, text in enumerate(pages) if page_start(text).startswith(squeeze(title))]
        assert first, f"no page of the PDF starts with the chapter {title!r}"
        starts.append(first[0])
    in_order = starts == sorted(starts) and len(set(starts)) == len(starts)
    assert in_order, f"chapters and their first pages: {list(zip(titles, starts, strict=True))}"


def test_the_page_count_is_that_of_a_book(pdf, pages, printed):
    count = len(pdf)
    documents = len(chapter_titles(printed)) + 1
    chars = sum(len(squeeze(text)) for text in pages)
    print(f"{PDF.name}: {count} pages, {chars} characters of text")
    assert count > documents, f"{count} pages for {documents} documents"
    assert chars / count >= MIN_CHARS_PER_PAGE, (
        f"{count} pages for {chars} characters: a sparse or broken print")
    with_image = {index for index, _ in image_objects(pdf)}
    blank = [i + 1 for i, text in enumerate(pages)
             if len(squeeze(text)) < 100 and i not in with_image]
    assert not blank, f"blank pages: {blank}"


def test_every_figure_is_in_the_pdf_pixel_for_pixel(pdf, printed):
    sources = re.findall(r'<img[^>]*\bsrc="([^"]+)"', printed.split("<article", 1)[-1])
    embedded = [obj for _, obj in image_objects(pdf)]
    assert len(embedded) == len(sources), f"{len(embedded)} images in the PDF, {len(sources)} " \
        "on the page it was printed from"
    for obj, src in zip(embedded, sources, strict=True):
        original = Image.open(PRINTED.parent / src).convert("RGB")
        inside = obj.get_bitmap().to_pil().convert("RGB")
        assert inside.size == original.size, f"{src}: {inside.size} in the PDF"
        diff = ImageStat.Stat(ImageChops.difference(inside, original)).mean
        assert max(diff) < 2, f"{src}: differs in the PDF (mean difference {diff})"


def test_every_equation_is_drawn(pdf, printed):
    """MathJax draws equations in its own web fonts, which Chromium embeds as Type 3 fonts: the
    PDF's text in those fonts is the math, and holds every symbol the equations need."""
    import ctypes

    import pypdfium2.raw as raw

    equations = len(re.findall(r'class="math[ "]', printed))
    assert equations > 0, f"no equation on {PRINTED}"
    math_chars, name = [], ctypes.create_string_buffer(256)
    for page in pdf:
        textpage = page.get_textpage()
        for i in range(textpage.count_chars()):
            flags = ctypes.c_int()
            raw.FPDFText_GetFontInfo(textpage, i, name, 256, ctypes.byref(flags))
            if name.value == b"":  # an embedded web font: MathJax's
                math_chars.append(chr(raw.FPDFText_GetUnicode(textpage, i)))
    math = squeeze("".join(math_chars))
    assert len(math) >= equations, f"{len(math)} math glyphs for {equations} equations"
    assert "softmax" in math and "∑" in math, f"math glyphs: {math[:200]}"


def test_every_code_block_is_whole(pages, printed):
    blocks = [plain(b) for b in re.findall(r'<div class="highlight"><pre>(.*?)</pre>', printed,
                                          re.S)]
    assert len(blocks) > 10, f"{len(blocks)} code blocks on {PRINTED}"
    text = squeeze("".join(pages))

    def whole(block: str) -> bool:
        """In the text, in one piece; or, for a block the print split across pages (pdfium may
        read a page's continued block after the prose below it), every line of it."""
        return squeeze(block) in text or all(squeeze(line) in text
                                             for line in block.splitlines())

    missing = [b.strip().splitlines()[0][:70] for b in blocks if squeeze(b) and not whole(b)]
    assert not missing, f"{len(missing)} of {len(blocks)} code blocks not whole in the PDF, " \
        "e.g.:\n  " + "\n  ".join(missing[:5])


def test_a_rendered_page_shows_its_figure(pdf, tmp_path):
    """Render the first page with a figure, as a reader's viewer would, and find the figure on it:
    the rendered area where the PDF places the image looks like the image."""
    index, obj = next(image_objects(pdf))
    page = pdf[index]
    scale = RENDER_DPI / 72
    rendered = page.render(scale=scale).to_pil().convert("RGB")
    out = Path(os.environ.get("SITECHECK_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    rendered.save(out / f"pdf-page-{index + 1}.png")
    width, height = page.get_size()
    assert abs(rendered.size[0] - width * scale) <= 1, rendered.size
    assert abs(rendered.size[1] - height * scale) <= 1, rendered.size
    left, bottom, right, top = obj.get_bounds()  # PDF points, origin at the bottom left
    box = (round(left * scale), round((height - top) * scale),
           round(right * scale), round((height - bottom) * scale))
    area = rendered.crop(box)
    assert area.size[0] > 100 and area.size[1] > 100, f"figure area {box} too small"
    expected = obj.get_bitmap().to_pil().convert("RGB").resize(area.size, Image.LANCZOS)
    diff = ImageStat.Stat(ImageChops.difference(area, expected)).mean
    assert max(diff) < 12, f"page {index + 1}: the figure does not show (difference {diff})"
    assert ImageStat.Stat(area.convert("L")).stddev[0] > 10, "the figure's area is flat"
    ink = ImageStat.Stat(rendered.convert("L")).mean[0]
    assert ink < 250, f"page {index + 1} renders almost blank (mean {ink})"


def test_the_intro_links_to_the_pdf(site):
    config = yaml.safe_load((sitecheck.ROOT / "_config.yml").read_text(encoding="utf-8"))
    url = config["html"]["baseurl"] + PDF.name
    intro = (site / "book" / "intro.html").read_text(encoding="utf-8")
    assert f'href="{url}"' in intro, f"the intro does not link to {url}"
    if not PDF.is_file():
        sitecheck.need(f"no PDF at {PDF}: make pdf")
    copy = site / PDF.name
    assert copy.is_file(), f"the site has no {PDF.name}, where the intro's link points"
    assert copy.read_bytes() == PDF.read_bytes(), f"{copy} is not the PDF make pdf wrote"
