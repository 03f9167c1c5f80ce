#!/usr/bin/env python3
"""Print the whole book as one PDF from its single-page HTML build, in headless Chromium.

`make pdf` builds the book as one HTML page (`jupyter-book build --builder singlehtml`, which
reuses the executed chapters of `make book`: nothing is executed again) and then runs this
script, which serves that page on a local port, opens it in the Debian `chromium` the site tests
already use (the same session: tools/book/browser.py; no TeX), waits until a reader would see
everything (every image loaded, every equation typeset by MathJax, the web fonts in), opens the
cells that a page hides behind a toggle (unfolded into plain blocks, which Chromium can break
across pages), and prints it with Chromium's own PDF printer (DevTools `Page.printToPDF`): A4,
page numbers in the footer, bookmarks for every chapter and section (the document outline
of a tagged PDF), the site's print styles (`_static/print.css`: a new page per
chapter, code wrapped instead of cut). Jupyter Book's own `pdfhtml` builder does the same with a
browser that pyppeteer downloads; this one uses the browser that is installed.

It refuses to write a PDF of a page that is not whole: an image that did not load, an equation
that MathJax did not typeset, or a page with no chapter on it is an error (exit status 1).
With `--site`, the PDF is also copied into the HTML site, where the intro links to it.

Usage: make_pdf.py [SINGLEHTML_DIR] [OUT_PDF] [--site HTML_DIR]
       (defaults: _build/singlehtml _build/pdf/makemore-book.pdf)
"""

from __future__ import annotations

import argparse
import base64
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools.book
from tools.book.browser import browser, serve  # the site tests' browser session

ROOT = Path(__file__).resolve().parents[1]

PRINT_TIMEOUT = 180  # seconds to load the whole book as one page, and to typeset it

# -----------------------------------------------------------------------------
# the page, made ready to print

# Opens what is folded away, waits for images, MathJax and fonts, then says what the page holds
# and what is wrong with it.
READY_JS = r"""
const done = arguments[arguments.length - 1];
// Chromium prints an open <details> as one unbreakable box: a hidden cell longer than a page
// would be cut at the page's end. So each one becomes a plain <div> holding what it folded
// away (its classes kept, its toggle dropped).
document.querySelectorAll("details").forEach(d => {
  const div = document.createElement("div");
  div.className = d.className;
  for (const child of Array.from(d.childNodes)) {
    if (child.nodeName !== "SUMMARY") div.appendChild(child);
  }
  d.replaceWith(div);
});
const imgs = Array.from(document.images);
const settle = img => new Promise(resolve => {
  img.loading = "eager";
  if (img.complete) return resolve();
  img.addEventListener("load", resolve, {once: true});
  img.addEventListener("error", resolve, {once: true});
  setTimeout(resolve, 30000);
});
const typeset = new Promise(resolve => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(resolve, resolve);
  else resolve();
  setTimeout(resolve, 60000);
});
const fonts = document.fonts ? document.fonts.ready : Promise.resolve();
Promise.all([...imgs.map(settle), typeset, fonts]).then(() => {
  const problems = [];
  const article = document.querySelector("article") || document.body;
  const figures = Array.from(article.querySelectorAll("img"));
  for (const img of figures) {
    if (!img.complete || img.naturalWidth === 0)
      problems.push(`image did not load: ${img.getAttribute("src")}`);
  }
  const math = Array.from(article.querySelectorAll(".math"));
  const raw = math.filter(el => !el.querySelector("mjx-container"));
  if (raw.length) problems.push(`${raw.length} of ${math.length} equation(s) not typeset: ` +
                                raw[0].textContent.trim().slice(0, 60));
  for (const el of document.querySelectorAll("mjx-merror"))
    problems.push(`a math error: ${el.textContent.trim().slice(0, 80)}`);
  const chapters = Array.from(document.querySelectorAll("span[id^='document-']"))
    .map(s => s.id.slice("document-".length));
  const result = {problems: problems, images: figures.length, math: math.length,
                  code: article.querySelectorAll("div.highlight pre").length, chapters: chapters,
                  title: document.title};
  setTimeout(() => done(result), 1000);  // past the fade-in of what <details> opened
});
"""

A4 = {"paperWidth": 8.27, "paperHeight": 11.69}  # inches
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555;">'
          '<span class="title"></span> &middot; <span class="pageNumber"></span> / '
          '<span class="totalPages"></span></div>')


# The text of every section heading, as the outline should show it (no permalink sign).
HEADINGS_JS = r"""
return [...document.querySelectorAll('section > :is(h1, h2, h3, h4, h5, h6)')].map(h => {
  const copy = h.cloneNode(true);
  copy.querySelectorAll('.headerlink').forEach(a => a.remove());
  return copy.textContent.replace(/\s+/g, ' ').trim();
});
"""


def mend_outline(pdf: Path, headings: list[str]) -> int:
    """Chromium's document outline doubles the text of a heading that opens a page ("The data"
    becomes "The dataThe data", Chromium 156), or of a wrapped heading's first line. Each
    bookmark whose title is some heading with (part of) its start repeated before it gets that
    heading's text (`undoubled`); the PDF is rewritten only when one did (pypdf).
    Returns how many were mended."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    known = set(headings)
    writer = PdfWriter(clone_from=str(pdf))
    mended = 0
    stack = [writer.root_object["/Outlines"].get_object().get("/First")]
    while stack:
        item = stack.pop()
        item = item.get_object() if item is not None else None
        if item is None:
            continue
        title = " ".join(str(item.get("/Title", "")).split())
        heading = undoubled(title, known)
        if heading != title:
            item[NameObject("/Title")] = TextStringObject(heading)
            mended += 1
        stack += [item.get("/Next"), item.get("/First")]
    if mended:
        tmp = pdf.with_suffix(".mended.part")
        with tmp.open("wb") as f:
            writer.write(f)
        tmp.replace(pdf)
    return mended


def undoubled(title: str, known: set[str]) -> str:
    """The heading a bookmark's title stands for: `title` itself when it is a heading or none
    fits, else the heading it ends with when what comes before is that heading's start (the
    whole heading, or its first line as the page wrapped it: "What it buys, and what it What
    it buys, and what it does not")."""
    if title in known:
        return title
    fits = [h for h in known if title.endswith(h) and title != h
            and h.startswith(title[: -len(h)].strip() or "\0")]
    return max(fits, key=len) if fits else title


def root_page(folder: Path) -> str:
    """The single page of a singlehtml build: where its index.html redirects, else the largest
    HTML file outside _static."""
    index = folder / "index.html"
    if index.is_file():
        found = re.search(r"""url=([^"'>\s]+\.html)""", index.read_text(encoding="utf-8"), re.I)
        if found and (folder / found.group(1)).is_file():
            return found.group(1)
    pages = [p for p in folder.rglob("*.html") if "_static" not in p.relative_to(folder).parts]
    if not pages:
        raise SystemExit(f"make_pdf: no HTML page in {folder} (build it: make pdf)")
    return max(pages, key=lambda p: p.stat().st_size).relative_to(folder).as_posix()


# -----------------------------------------------------------------------------
# print


def make_pdf(source: Path, out: Path) -> dict:
    """Print the single page in `source` to `out`; return what the page held."""
    page = root_page(source)
    # Sphinx's singlehtml writes the page under the root document's name (book/intro.html) but
    # with links relative to the build's root (_static/, _images/): print a copy placed there.
    printable = source / f"{out.stem}.html"
    if (source / page).resolve() != printable.resolve():
        shutil.copyfile(source / page, printable)
    with serve(source) as url, browser(PRINT_TIMEOUT) as driver:
        driver.get(url + printable.name)
        ready = driver.execute_async_script(READY_JS)
        if ready["problems"]:
            raise SystemExit("make_pdf: the page is not whole, no PDF written:\n  "
                             + "\n  ".join(ready["problems"]))
        if not ready["chapters"]:
            raise SystemExit(f"make_pdf: {page} holds no chapter: is it a singlehtml build?")
        headings = driver.execute_script(HEADINGS_JS)
        printed = driver.execute_cdp_cmd("Page.printToPDF", {
            **A4, "marginTop": 0.6, "marginBottom": 0.7, "marginLeft": 0.6, "marginRight": 0.6,
            "printBackground": True, "displayHeaderFooter": True,
            "headerTemplate": "<div></div>", "footerTemplate": FOOTER,
            # a reader can navigate: bookmarks from the headings (every chapter and section),
            # which Chromium builds from the tagged PDF's structure (both need Chromium >= 126)
            "generateTaggedPDF": True, "generateDocumentOutline": True,
        })
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".pdf.part")
    tmp.write_bytes(base64.b64decode(printed["data"]))
    ready["mended"] = mend_outline(tmp, headings)
    tmp.replace(out)
    return ready


def page_count(pdf: Path) -> int:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=ROOT / "_build" / "singlehtml",
                        help="the singlehtml build (default: _build/singlehtml)")
    parser.add_argument("out", nargs="?", type=Path,
                        default=ROOT / "_build" / "pdf" / "makemore-book.pdf",
                        help="the PDF to write (default: _build/pdf/makemore-book.pdf)")
    parser.add_argument("--site", type=Path, default=None,
                        help="an HTML site to copy the PDF into (where the intro links to it)")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(f"make_pdf: no singlehtml build at {args.source}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    ready = make_pdf(args.source, args.out)
    pages = page_count(args.out)
    size = args.out.stat().st_size / 1e6
    print(f"make_pdf: {args.out} ({pages} pages, {size:.1f} MB) with {len(ready['chapters'])} "
          f"chapters, {ready['images']} images, {ready['math']} equations, {ready['code']} "
          f"code blocks, in {time.perf_counter() - start:.0f} s; {ready['mended']} bookmark "
          f"titles mended")
    if args.site is not None and args.site.is_dir():
        shutil.copy2(args.out, args.site / args.out.name)
        print(f"make_pdf: copied into the site as {args.site / args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
