"""The built book for readers who do not read it the way its authors do.

- axe-core (pinned in package-lock.json, injected into the page) on every page, in light and in
  dark mode: no violation of impact "serious" or "critical", each named with its page, the rule
  and the CSS selector of the element.
- Every figure has alternative text that says what it shows: not missing, not empty, not the
  image's file name or a hash (what Sphinx writes when a figure is given no `:alt:`).
- Code, equations and tables stay readable in a narrow view: the desktop window at 200% zoom
  and a 390-pixel-wide phone. Nothing makes the page scroll sideways, nothing is cut off: a
  block wider than the view scrolls inside its own box, which the keyboard can reach. A
  screenshot of each chapter in both views lands beside the light and dark ones.

The first tests run the same checks on small synthetic pages: each check must see the problem it
is there for, so an audit that cannot fail would fail here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sitecheck
from PIL import Image

from tools.book.browser import serve

SITE = sitecheck.site_dir()
PAGES = sitecheck.pages(SITE) if SITE.is_dir() else []
BOOK_PAGES = [p for p in PAGES if p.startswith("book/")]
THEMES = ("light", "dark")


@pytest.fixture(scope="session")
def axe():
    missing = sitecheck.axe_missing()
    if missing:
        sitecheck.need(missing)


def screenshots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SITECHECK_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


# -----------------------------------------------------------------------------
# the checks themselves, on synthetic pages: each must find what it looks for

FIGURES = """
<figure id="fig-none"><img src="opaque.png"></figure>
<figure id="fig-empty"><img src="opaque.png" alt=""></figure>
<figure id="fig-file"><img src="opaque.png" alt="../_images/0a1b2c3d4e5f60718293a4b5c6d7e8f9.png">
  <figcaption>A glued figure given no alt.</figcaption></figure>
<figure id="fig-hash"><img src="opaque.png" alt="0a1b2c3d4e5f60718293a4b5c6d7e8f9"></figure>
<figure id="fig-name"><img src="opaque.png" alt="opaque"></figure>
"""
BAD = f"""<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><article>
<h1>An inaccessible page</h1>
{FIGURES}
<p style="color:#c8c8c8;background:#ffffff">Pale grey text on white.</p>
<button aria-label="Search">Search Ctrl+K</button>
</article></main></body></html>"""
GOOD = """<!doctype html><html lang="en"><head><title>Good</title></head><body><main><article>
<h1>An accessible page</h1>
<figure id="fig-good"><img src="opaque.png" alt="A white rectangle, twice as wide as tall.">
  <figcaption>A figure with alternative text.</figcaption></figure>
<p>Dark text on white.</p>
<button>Search Ctrl+K</button>
</article></main></body></html>"""
LONG = "x = " + " + ".join(f"weight_{i} * input_{i}" for i in range(40))
NARROW = f"""<!doctype html><html lang="en"><head><title>Narrow</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0"><main><article style="max-width:100%">
<h1>Blocks in a narrow view</h1>
<div class="highlight"><pre id="fine" tabindex="0" style="overflow-x:auto">{LONG}</pre></div>
<div style="overflow:hidden"><div class="highlight"><pre id="clipped">{LONG}</pre></div></div>
<div class="highlight"><pre id="unreachable" style="overflow-x:auto">{LONG}</pre></div>
<div class="highlight"><pre id="tiny" style="font-size:9px">short</pre></div>
<div class="math"><mjx-container display="true" style="display:block;white-space:nowrap"
  >{LONG}</mjx-container></div>
</article></main></body></html>"""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("a11y-site")
    for name, html in {"bad.html": BAD, "good.html": GOOD, "narrow.html": NARROW}.items():
        (folder / name).write_text(html, encoding="utf-8")
    Image.new("RGB", (40, 20), (255, 255, 255)).save(folder / "opaque.png")
    with serve(folder) as url:
        yield url


def test_axe_finds_serious_violations_and_names_the_element(driver, axe, synthetic):
    sitecheck.open_page(driver, synthetic + "bad.html")
    report = "\n".join(sitecheck.axe_violations(driver))
    for expected in ["image-alt (critical)", "#fig-none > img",
                     "color-contrast (serious)", "label-content-name-mismatch (serious)"]:
        assert expected in report, f"not found: {expected!r} in\n{report}"
    sitecheck.open_page(driver, synthetic + "good.html", "dark")
    assert sitecheck.axe_violations(driver) == []


def test_alt_text_that_is_a_file_name_or_missing_is_found(driver, synthetic):
    sitecheck.open_page(driver, synthetic + "bad.html")
    found = sitecheck.figures_without_alt(driver)
    for figure in ["#fig-none", "#fig-empty", "#fig-file", "#fig-hash", "#fig-name"]:
        assert any(f.startswith(figure + " ") for f in found), f"{figure} not found in {found}"
    assert any("caption: A glued figure given no alt." in f for f in found)
    sitecheck.open_page(driver, synthetic + "good.html")
    assert sitecheck.figures_without_alt(driver) == []


def test_blocks_cut_off_in_a_narrow_view_are_found(driver, synthetic):
    result = sitecheck.reflow_problems(driver, synthetic + "narrow.html", "phone")
    assert result["width"] == sitecheck.VIEWS["phone"]["width"]
    report = "\n".join(result["problems"])
    for expected in ["the page scrolls sideways", "code cut off by a box that hides its overflow",
                     "code scrolls sideways but the keyboard cannot reach it: pre#unreachable",
                     "code in a 9 px font", "math past the edge of the view"]:
        assert expected in report, f"not found: {expected!r} in\n{report}"
    assert "pre#fine" not in report


# -----------------------------------------------------------------------------
# the built book


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_nothing_serious(page, theme, site_url, driver, axe):
    sitecheck.open_page(driver, site_url + page, theme)
    problems = sitecheck.axe_violations(driver)
    assert not problems, (f"{page} ({theme} mode): {len(problems)} serious or critical "
                          "axe-core violation(s):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_says_what_it_shows(page, site_url, driver):
    sitecheck.open_page(driver, site_url + page)
    missing = sitecheck.figures_without_alt(driver)
    assert not missing, (f"{page}: {len(missing)} figure(s) without alternative text that says "
                         "what they show (give the figure an :alt:):\n  " + "\n  ".join(missing))


@pytest.mark.parametrize("view", list(sitecheck.VIEWS))
@pytest.mark.parametrize("page", BOOK_PAGES)
def test_code_and_math_readable_in_a_narrow_view(page, view, site, site_url, driver, axe,
                                                 tmp_path):
    shot = screenshots(tmp_path) / f"{Path(page).stem}-{view}.png"
    result = sitecheck.reflow_problems(driver, site_url + page, view, shot)
    assert shot.stat().st_size > 0
    assert result["width"] == sitecheck.VIEWS[view]["width"], "the view was not narrowed"
    problems = list(result["problems"])
    html = (site / page).read_text(encoding="utf-8")
    # the checks see the blocks the page has (they would pass vacuously if the theme's markup
    # changed under their selectors)
    if 'class="highlight' in html and not result["present"]["code"]:
        problems.append("the page has code blocks but the check found none")
    if 'class="math' in html and not (result["present"]["math"]
                                      + result["present"]["inline math"]):
        problems.append("the page has math but the check found none")
    sitecheck.set_view(driver, view)  # axe in the narrow view too: the phone's menus and buttons
    try:
        sitecheck.open_page(driver, site_url + page)
        problems += [f"axe: {p}" for p in sitecheck.axe_violations(driver)]
    finally:
        sitecheck.set_view(driver, None)
    assert not problems, f"{page} ({view}, {result['width']} px):\n  " + "\n  ".join(problems)
