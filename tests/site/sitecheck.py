"""Check the built book in a real browser: what a reader sees, page by page.

Used by the tests in this folder (run after `make book`, by `.ci/run`). A page passes when
every image loaded and is opaque (a transparent figure loses its black text on the theme's dark
background), every glued value was pasted and formatted (no empty `pasted-text` span, no raw
`{glue:...}` role, no tensor or numpy repr, no `nan` or `inf` in a pasted value or a table),
the article shows one glued figure per `{glue:figure}` directive of the page's source, all math
was typeset by MathJax, every link into the site reaches a file and an anchor, and nothing went
wrong on it: no traceback, no error output, no stderr output block, no warning or error box, no
docutils system message.

The site is served over HTTP from a local thread (as a reader would get it, and so that images
can be read back through a canvas) to a headless Debian `chromium` driven by selenium: the
browser session tools/make_pdf.py uses too (tools/book/browser.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", ".doctrees"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def site_dir() -> Path:
    """The built HTML: $MAKEMORE_SITE, else the repository's _build/html."""
    return Path(os.environ.get("MAKEMORE_SITE", ROOT / "_build" / "html"))


def pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to it."""
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not SKIP_DIRS & set(p.relative_to(site).parts)
    )


# -----------------------------------------------------------------------------
# the checks, run inside the page

# Waits for every image to settle, then reports what a reader would see go wrong.
CHECK_JS = r"""
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
const settle = img => new Promise(resolve => {
  img.loading = "eager";
  if (img.complete) return resolve();
  img.addEventListener("load", resolve, {once: true});
  img.addEventListener("error", resolve, {once: true});
  setTimeout(resolve, 15000);
});
const typeset = new Promise(resolve => {  // MathJax typesets after load, asynchronously
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(resolve, resolve);
  else resolve();
  setTimeout(resolve, 20000);
});
Promise.all([...imgs.map(settle), typeset]).then(() => {
  const problems = [];
  const name = img => img.getAttribute("src") || "(no src)";
  for (const img of imgs) {
    if (!img.complete || img.naturalWidth === 0) {
      problems.push(`image did not load: ${name(img)}`);
      continue;
    }
    if (!img.closest("article, main")) continue;  // the theme's own icons
    try {
      const w = img.naturalWidth, h = img.naturalHeight;
      const canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, w, h).data;
      let clear = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] < 255) clear++;
      if (clear > 0) problems.push(
        `image has ${clear} transparent pixel(s), illegible in dark mode: ${name(img)}`);
    } catch (err) {
      problems.push(`image could not be read back (${err.name}): ${name(img)}`);
    }
  }
  const math = Array.from(document.querySelectorAll("article .math"));
  const raw_math = math.filter(el => !el.querySelector("mjx-container"));
  if (raw_math.length) problems.push(`${raw_math.length} of ${math.length} math expression(s) ` +
    `not rendered (did MathJax load?): ${raw_math[0].textContent.trim().slice(0, 60)}`);
  for (const el of document.querySelectorAll("mjx-merror")) {
    problems.push(`a math error: ${el.textContent.trim().slice(0, 80)}`);
  }
  const pasted = Array.from(document.querySelectorAll(".pasted-text, .pasted-inline"));
  const nonfinite = /\b(nan|inf)\b/i;  // a number that is not one: nan, inf, -inf
  pasted.forEach(el => {
    const text = el.textContent.trim();
    if (text === "") problems.push("an empty glued value (pasted-text span)");
    else if (/tensor\(|np\.\w+\(|array\(|<[A-Za-z][\w.]* object at/.test(text))
      problems.push(`a glued value shows a Python repr, not a number: ${text.slice(0, 80)}`);
    else if (nonfinite.test(text)) {
      const range = document.createRange();  // the text of its paragraph up to the value
      range.setStart(el.closest("p, li, td, th, figcaption") || el.parentElement, 0);
      range.setEndBefore(el);
      const before = range.toString().replace(/\s+/g, " ");
      problems.push(`a glued value is not a finite number: ${text.slice(0, 80)} ` +
        `(after "…${before.slice(-60)}")`);
    }
  });
  // tables in the prose (glued with {glue:md}, or typed), not a cell's own output
  for (const td of document.querySelectorAll("article td, article th")) {
    if (td.closest(".cell_output, pre, code")) continue;
    const text = td.textContent.trim();
    const row = td.closest("tr") ? td.closest("tr").cells[0].textContent.trim() : "";
    if (nonfinite.test(text))
      problems.push(`a table cell is not a finite number: ${text.slice(0, 80)} ` +
        `(row "${row.slice(0, 40)}")`);
  }
  // code shown on the page (a cell's source or its printed output) fits its column: a block
  // that scrolls sideways hides part of the code (the chapters keep lines within 80 columns,
  // which _static/makemore.css fits into a desktop window). Hidden blocks (a closed toggle)
  // have no width, and are checked when opened by a reader: not here.
  const code = "article div.highlight pre, article .cell_output pre";
  for (const pre of document.querySelectorAll(code)) {
    if (pre.offsetParent === null || pre.clientWidth === 0) continue;
    if (pre.scrollWidth > pre.clientWidth + 1) {
      const longest = pre.textContent.split("\n")
        .reduce((a, b) => (b.length > a.length ? b : a), "");
      problems.push(`a code block scrolls sideways (${pre.scrollWidth} px in ${pre.clientWidth}` +
        ` px): ${longest.trim().slice(0, 60)}`);
    }
  }
  // figures pasted by {glue:figure}: a <figure> whose image myst-nb named by its checksum
  const glued_image = /(^|\/)[0-9a-f]{64}\.(png|jpe?g|gif|svg)$/;
  const figures = Array.from(document.querySelectorAll("article figure")).filter(f =>
    !f.closest(".cell_output") &&
    Array.from(f.querySelectorAll("img")).some(i => glued_image.test(i.getAttribute("src") || "")));
  const body = document.body ? document.body.innerText : "";
  const raw = body.match(/\{glue(:\w+)?\}`?[^\s`]*/);
  if (raw) problems.push(`raw glue role in the page text: ${raw[0].slice(0, 80)}`);
  const tb = body.indexOf("Traceback");
  if (tb >= 0) problems.push(`a traceback: ${body.slice(tb, tb + 120).replace(/\s+/g, " ")}`);
  const boxes = {
    "div.output.traceback": "an error output (traceback) block",
    "div.output.error, div.cell_output .error": "an error-classed output",
    "div.output.stderr": "a stderr output block",
    ".admonition.warning": "a warning box",
    ".admonition.error, .admonition.danger": "an error box",
    ".system-message, .problematic": "a docutils system message",
  };
  for (const [selector, what] of Object.entries(boxes)) {
    for (const el of document.querySelectorAll(selector)) {
      problems.push(`${what}: ${el.innerText.trim().slice(0, 120).replace(/\s+/g, " ")}`);
    }
  }
  const links = Array.from(document.querySelectorAll("a[href]"))
    .map(a => a.href).filter(h => h.startsWith(location.origin));
  done({problems: problems, pasted: pasted.length, images: imgs.length, links: links,
        figures: figures.length});
});
"""


def broken_links(links: list[str], base: str, site: Path) -> list[str]:
    """Links into the site (absolute URLs under `base`) whose file or #anchor does not exist."""
    problems, ids = [], {}
    for link in sorted(set(links)):
        target, _, fragment = link[len(base):].partition("#")
        target = target.partition("?")[0]
        path = site / (target or "index.html")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            problems.append(f"broken link: {link[len(base):]} (no such file)")
            continue
        if fragment and path.suffix == ".html":
            if path not in ids:
                text = path.read_text(encoding="utf-8", errors="replace")
                ids[path] = set(re.findall(r"""\b(?:id|name)=["']([^"']+)["']""", text))
            if fragment not in ids[path]:
                problems.append(f"broken link: {link[len(base):]} (no such anchor)")
    return problems


def check_page(driver, url: str, source: str | None = None,
               site: tuple[str, Path] | None = None) -> list[str]:
    """Open `url` and return what is wrong with it (an empty list when nothing is).

    `source` is the page's Markdown when there is one: a page whose source uses glue must show
    pasted values, and its article must show one glued figure per `{glue:figure}` directive.
    `site` is the (base URL, folder) the page is served from: links into it must reach a file
    and an anchor.
    """
    driver.get(url)
    result = driver.execute_async_script(CHECK_JS)
    problems = list(result["problems"])
    if site is not None:
        problems += broken_links(result["links"], *site)
    if source is not None:
        if "{glue:text}`" in source and result["pasted"] == 0:
            problems.append("the source uses {glue:text} but no glued value is on the page")
        if "{glue:figure}" in source and result["images"] == 0:
            problems.append("the source uses {glue:figure} but no image is on the page")
        directives = len(re.findall(r"^\s*(?:`{3,}|~{3,}|:{3,})\s*\{glue:figure\}", source,
                                    re.MULTILINE))
        if directives != result["figures"]:
            problems.append(f"the source has {directives} {{glue:figure}} directive(s) but the "
                            f"article shows {result['figures']} glued figure(s)")
    return problems


def screenshot(driver, url: str, path: Path, theme: str = "light") -> None:
    """Save a full-page screenshot of `url` in the theme's light or dark mode."""
    driver.get(url)
    driver.execute_script(
        "document.documentElement.dataset.theme = arguments[0];"
        "document.documentElement.dataset.mode = arguments[0];", theme
    )
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, max(900, min(int(height), 16000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1200, 900)


# -----------------------------------------------------------------------------
# accessibility: axe-core in the page, figures' alternative text, and reflow (zoom, phone)

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # pinned in package-lock.json
AXE_IMPACTS = ("serious", "critical")
# The two narrow views a reader may have: the desktop window at 200% zoom (the same layout as a
# 600-pixel-wide window, each CSS pixel drawn twice as large) and a 390-pixel-wide phone.
VIEWS = {
    "zoom200": {"width": 600, "height": 450, "deviceScaleFactor": 2, "mobile": False},
    "phone": {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
}
MAX_SHOT_PIXELS = 16000  # the tallest screenshot chromium reliably makes, in device pixels

# Resolves when the page is ready to be read: images settled, MathJax done, fonts loaded.
READY_JS = r"""
const done = arguments[arguments.length - 1];
const settle = img => new Promise(resolve => {
  img.loading = "eager";
  if (img.complete) return resolve();
  img.addEventListener("load", resolve, {once: true});
  img.addEventListener("error", resolve, {once: true});
  setTimeout(resolve, 15000);
});
const typeset = new Promise(resolve => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(resolve, resolve);
  else resolve();
  setTimeout(resolve, 20000);
});
const fonts = document.fonts ? document.fonts.ready : Promise.resolve();
Promise.all([...Array.from(document.images).map(settle), typeset, fonts])
  .then(() => requestAnimationFrame(() => setTimeout(() => done(true), 350)));
"""


def axe_missing() -> str | None:
    """Why axe-core cannot run here, or None when it can."""
    if not AXE_JS.is_file():
        return f"{AXE_JS.relative_to(ROOT)} not found (npm ci)"
    return None


def open_page(driver, url: str, theme: str = "light") -> None:
    """Open `url` in the theme's light or dark mode and wait until it is ready to be read."""
    driver.get(url)
    driver.execute_script(
        "document.documentElement.dataset.theme = arguments[0];"
        "document.documentElement.dataset.mode = arguments[0];", theme
    )
    driver.execute_async_script(READY_JS)


def axe_violations(driver, impacts: tuple[str, ...] = AXE_IMPACTS,
                   rules: list[str] | None = None) -> list[str]:
    """Run axe-core on the page open in `driver`: one line per violation of those impacts, with
    the rule, its impact, what it means and the CSS selector of every element that fails it."""
    if not hasattr(axe_violations, "source"):
        axe_violations.source = AXE_JS.read_text(encoding="utf-8")
    driver.execute_script(axe_violations.source)
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(r => done(r.violations),"
        " e => done({error: String(e)}));", options)
    if isinstance(result, dict) and "error" in result:
        return [f"axe-core failed to run: {result['error']}"]
    problems = []
    for violation in result:
        for node in violation["nodes"]:
            impact = node.get("impact") or violation.get("impact")
            if impact not in impacts:
                continue
            target = " ".join(" >>> ".join(t) if isinstance(t, list) else t
                              for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            problems.append(f"{violation['id']} ({impact}): {violation['help']}: {target}"
                            f" -- {summary[:200]}")
    return problems


# Images a reader sees in the article whose alternative text is missing, empty, or only a name.
ALT_JS = r"""
const looksLikeName = (alt, src) => {
  const a = alt.trim();
  const base = (src || "").split("/").pop().split("?")[0];
  return /\.(png|jpe?g|gif|svg|webp|bmp|tiff?|pdf)$/i.test(a)  // a file name
    || /^(\.{0,2}\/)?[\w.-]+\/[\w./-]+$/.test(a)                  // a path
    || /^[0-9a-f]{16,}$/i.test(a)                                 // a hash
    || (base !== "" && (a === base || a === base.replace(/\.\w+$/, "")));
};
return Array.from(document.querySelectorAll("article img, main img")).filter(img => {
  const alt = img.getAttribute("alt");
  return alt === null || alt.trim() === "" || looksLikeName(alt, img.getAttribute("src"));
}).map(img => {
  const fig = img.closest("figure");
  const id = fig && fig.id ? "#" + fig.id : `img[src="${img.getAttribute("src")}"]`;
  const cap = fig && fig.querySelector("figcaption");
  const caption = cap ? cap.innerText.trim().replace(/\s+/g, " ").slice(0, 60) : "";
  return `${id} alt=${JSON.stringify(img.getAttribute("alt"))}` +
    (caption ? ` (caption: ${caption})` : "");
});
"""


def figures_without_alt(driver) -> list[str]:
    """The page's figures whose <img> has no alternative text, or only a file name or hash."""
    return list(dict.fromkeys(driver.execute_script(ALT_JS)))


# What does not fit a narrow view: the page scrolling sideways, or a code block, a display
# equation or a table cut off (past the window's edge, or clipped by its box) rather than
# scrolling inside its own box. Scrollable boxes must be reachable with the keyboard.
REFLOW_JS = r"""
const vw = document.documentElement.clientWidth;
const slack = 3;  // px: rounding, and a glyph's side bearing past MathJax's box
const problems = [];
const describe = el => {
  const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 50);
  return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}` +
    `${el.className && typeof el.className === "string" ? "." +
       el.className.trim().split(/\s+/).slice(0, 2).join(".") : ""} "${text}"`;
};
const page = document.scrollingElement || document.documentElement;
if (page.scrollWidth > vw + 1)
  problems.push(`the page scrolls sideways: ${page.scrollWidth} px wide in a ${vw} px view`);
const article = document.querySelector("article") || document.body;
const blocks = article.querySelectorAll(
  "div.highlight pre, div.cell_output pre, div.math, mjx-container, table");
const present = {code: 0, math: 0, "inline math": 0, table: 0};
const checked = {code: 0, math: 0, "inline math": 0, table: 0};
for (const el of blocks) {
  if (el.matches("div.math") && el.querySelector("mjx-container")) continue;  // checked below
  const kind = el.matches("pre") ? "code" : el.matches("table") ? "table"
    : el.matches("mjx-container:not([display='true'])") ? "inline math" : "math";
  present[kind]++;
  if (el.closest("details:not([open])") || el.offsetParent === null) continue;  // not shown
  checked[kind]++;
  // what a reader sees of it: for math, MathJax's rendering (not the MathML copy kept for
  // screen readers, which is clipped to nothing); for the rest, its box and what overflows it
  const shown = el.matches("mjx-container") ? (el.querySelector("mjx-math") || el) : el;
  const sr = shown.getBoundingClientRect();
  const content = {left: sr.left,
                   right: shown === el ? sr.left + Math.max(sr.width, el.scrollWidth) : sr.right};
  const beyond = (inner, box) => {
    const b = box.getBoundingClientRect();
    return inner.right > b.right + slack || inner.left < b.left - slack;
  };
  // the nearest box, itself included, that scrolls sideways to show it
  let scroller = null;
  for (let box = el; box && box !== article.parentElement; box = box.parentElement) {
    const ox = getComputedStyle(box).overflowX;
    if ((ox === "auto" || ox === "scroll") && (box === el ? el.scrollWidth > el.clientWidth + 1
                                                          : beyond(content, box))) {
      scroller = box; break;
    }
  }
  // where it ends: the scrolling box's edge, else the content's own
  const seen = scroller ? scroller.getBoundingClientRect() : content;
  if (seen.left < -slack || seen.right > vw + slack)
    problems.push(`${kind} past the edge of the view (${Math.round(seen.left)}..` +
                  `${Math.round(seen.right)} px of ${vw}): ${describe(el)}`);
  if (scroller && scroller.tabIndex < 0 && !scroller.querySelector("a, button, [tabindex='0']"))
    problems.push(`${kind} scrolls sideways but the keyboard cannot reach it: ${describe(el)}`);
  // cut off without a scrollbar: wider than a box that hides what overflows it
  for (let box = scroller ? scroller.parentElement : el; box && box !== article.parentElement;
       box = box.parentElement) {
    const ox = getComputedStyle(box).overflowX;
    const cut = box === el ? el.scrollWidth > el.clientWidth + 1 : beyond(seen, box);
    if ((ox === "hidden" || ox === "clip") && cut) {
      problems.push(`${kind} cut off by a box that hides its overflow: ${describe(el)}`);
      break;
    }
  }
  const size = parseFloat(getComputedStyle(el).fontSize);
  if (kind !== "table" && size < 12)
    problems.push(`${kind} in a ${size} px font, too small to read: ${describe(el)}`);
}
return {problems: problems, present: present, checked: checked, width: vw};
"""


def set_view(driver, view: str | None) -> None:
    """Lay the page out as in one of VIEWS (None: back to the plain desktop window)."""
    if view is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWS[view])


def reflow_problems(driver, url: str, view: str, shot: Path | None = None) -> dict:
    """Open `url` in a narrow `view` and report what does not fit (see REFLOW_JS); with `shot`,
    save a screenshot of the page as seen in that view (as much of it as fits one image)."""
    set_view(driver, view)
    try:
        open_page(driver, url)
        result = driver.execute_script(REFLOW_JS)
        if shot is not None:
            metrics = dict(VIEWS[view])
            height = driver.execute_script("return document.documentElement.scrollHeight")
            tallest = MAX_SHOT_PIXELS // metrics["deviceScaleFactor"]
            metrics["height"] = max(metrics["height"], min(int(height), tallest))
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            driver.execute_async_script(READY_JS)
            driver.save_screenshot(str(shot))
    finally:
        set_view(driver, None)
    return result


def need(reason: str) -> None:
    """Skip locally; fail in CI, where everything the site tests need must be there."""
    import pytest

    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
