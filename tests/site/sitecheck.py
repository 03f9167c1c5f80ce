"""Check the built book in a real browser: what a reader sees, page by page.

Used by the tests in this folder (run after `make book`, by `.ci/run`). A page passes when
every image loaded and is opaque (a transparent figure loses its black text on the theme's dark
background), every glued value was pasted and formatted (no empty `pasted-text` span, no raw
`{glue:...}` role, no tensor or numpy repr), all math was typeset by MathJax, every link into
the site reaches a file and an anchor, and nothing went wrong on it: no traceback, no error
output, no stderr output block, no warning or error box, no docutils system message.

The site is served over HTTP from a local thread (as a reader would get it, and so that images
can be read back through a canvas) to a headless Debian `chromium` driven by selenium.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", ".doctrees"}
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--window-size=1200,900",
]


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
# a local web server and a headless browser


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on a free local port for the duration of the block; yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def browser_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            return f"{exe} not found (apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def browser() -> Iterator:
    """A headless chromium with a fresh profile, closed (and its profile removed) afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sitecheck-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


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
  pasted.forEach(el => {
    const text = el.textContent.trim();
    if (text === "") problems.push("an empty glued value (pasted-text span)");
    else if (/tensor\(|np\.\w+\(|array\(|<[A-Za-z][\w.]* object at/.test(text))
      problems.push(`a glued value shows a Python repr, not a number: ${text.slice(0, 80)}`);
  });
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
  done({problems: problems, pasted: pasted.length, images: imgs.length, links: links});
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
    pasted values, and a page whose source glues figures must show images. `site` is the
    (base URL, folder) the page is served from: links into it must reach a file and an anchor.
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
