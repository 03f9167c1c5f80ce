"""The site checker itself, on small synthetic pages: it must see every kind of problem."""

from __future__ import annotations

import pytest
import sitecheck
from PIL import Image

from tools.book.browser import serve

GOOD = """<!doctype html><html><body id="top"><main><article>
<h1>A good page</h1>
<p>The loss is <span class="pasted-text">2.1234</span>.</p>
<figure><img src="opaque.png" alt="a figure"></figure>
<div class="admonition note"><p>A note is fine.</p></div>
<p><a href="good.html#top">a link</a>, <a href="good.html">itself</a>, <a href="#">top</a>.</p>
</article></main></body></html>"""

BAD = """<!doctype html><html><body><main><article>
<h1>A bad page</h1>
<p>Loss <span class="pasted-text"></span> and <span class="pasted-text">tensor(2.1234)</span>.</p>
<p>Unpasted: {glue:text}`dev_loss:.4f`</p>
<p>Math that no MathJax typeset: <span class="math notranslate nohighlight">\\(x^2\\)</span></p>
<img src="missing.png" alt="broken">
<img src="transparent.png" alt="see-through">
<div class="cell_output docutils container"><div class="output traceback highlight-ipythontb">
<pre>Traceback (most recent call last):
  File "x.py", line 1, in &lt;module&gt;
ZeroDivisionError: division by zero</pre></div>
<div class="output stderr"><pre>RuntimeWarning: overflow</pre></div></div>
<div class="admonition warning"><p>Something is off.</p></div>
<p><a href="gone.html">a dead link</a> and <a href="good.html#nowhere">a dead anchor</a>.</p>
</article></main></body></html>"""


@pytest.fixture(scope="module")
def synthetic_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic-site")
    (folder / "good.html").write_text(GOOD, encoding="utf-8")
    (folder / "bad.html").write_text(BAD, encoding="utf-8")
    Image.new("RGB", (40, 20), (255, 255, 255)).save(folder / "opaque.png")
    Image.new("RGBA", (40, 20), (255, 255, 255, 0)).save(folder / "transparent.png")
    with serve(folder) as url:
        yield url, folder


def test_a_good_page_has_no_problem(driver, synthetic_site):
    url, _ = synthetic_site
    assert sitecheck.check_page(driver, url + "good.html", site=synthetic_site) == []


def test_every_problem_of_a_bad_page_is_found(driver, synthetic_site):
    url, _ = synthetic_site
    problems = sitecheck.check_page(driver, url + "bad.html", site=synthetic_site)
    report = "\n".join(problems)
    for expected in [
        "image did not load: missing.png",
        "transparent pixel(s), illegible in dark mode: transparent.png",
        "an empty glued value",
        "a Python repr, not a number: tensor(2.1234)",
        "raw glue role in the page text: {glue:text}",
        "a traceback: Traceback (most recent call last)",
        "an error output (traceback) block",
        "a stderr output block: RuntimeWarning: overflow",
        "a warning box: Something is off.",
        "1 of 1 math expression(s) not rendered (did MathJax load?): \\(x^2\\)",
        "broken link: gone.html (no such file)",
        "broken link: good.html#nowhere (no such anchor)",
    ]:
        assert expected in report, f"not found: {expected!r} in\n{report}"


def test_a_glued_source_without_pasted_values_is_a_problem(driver, synthetic_site):
    url, _ = synthetic_site
    source = "The loss is {glue:text}`loss:.4f`.\n```{glue:figure} fig\n```"
    problems = sitecheck.check_page(driver, url + "bad.html", source)
    assert not any("no glued value" in p for p in problems)  # bad.html does show spans
    problems = sitecheck.check_page(driver, url + "missing-page.html", source)
    assert "the source uses {glue:text} but no glued value is on the page" in problems
    assert "the source uses {glue:figure} but no image is on the page" in problems


# ---------------------------------------------------------------------------- figures and values
FIGURE_HASH = "ab" * 32  # myst-nb names a glued figure's image by its sha256
FIGURES_PAGE = """<!doctype html><html><body><main><article>
<h1>A page with glued figures</h1>
<p>The loss is <span class="pasted-text">2.1234</span>.</p>
<figure id="fig-a"><img src="{h}.png" alt="a"><figcaption>A.</figcaption></figure>
<figure id="fig-b"><img src="{h}.png" alt="b"><figcaption>B.</figcaption></figure>
<figure id="fig-static"><img src="opaque.png" alt="not glued"></figure>
<div class="cell_output"><figure><img src="{h}.png" alt="a cell's own output"></figure></div>
<table><tr><th>model</th><th>dev</th></tr><tr><td>mlp</td><td>2.1664</td></tr></table>
</article></main></body></html>"""
SOURCE_TWO_FIGURES = """# A page with glued figures
The loss is {glue:text}`loss:.4f`.
```{glue:figure} fig_a
:name: fig-a
A.
```
:::{glue:figure} fig_b
B.
:::
"""


@pytest.fixture(scope="module")
def page_copies(synthetic_site):
    """Write a copy of FIGURES_PAGE with one defect injected; return its URL."""
    url, folder = synthetic_site
    Image.new("RGB", (40, 20), (255, 255, 255)).save(folder / f"{FIGURE_HASH}.png")

    def copy(name: str, old: str = "", new: str = "") -> str:
        html = FIGURES_PAGE.replace("{h}", FIGURE_HASH)
        assert old in html
        (folder / name).write_text(html.replace(old, new, 1), encoding="utf-8")
        return url + name

    return copy


def test_glued_figures_are_counted_against_the_source(driver, page_copies):
    good = page_copies("figures.html")
    assert sitecheck.check_page(driver, good, SOURCE_TWO_FIGURES) == []
    # a figure the page lost: one directive more in the source than figures on the page
    lost = page_copies("figure-lost.html", '<figure id="fig-b">', '<div id="fig-b">')
    assert sitecheck.check_page(driver, lost, SOURCE_TWO_FIGURES) == [
        "the source has 2 {glue:figure} directive(s) but the article shows 1 glued figure(s)"]
    # a glued figure the source does not account for
    extra = SOURCE_TWO_FIGURES.replace(":::{glue:figure} fig_b", ":::{note}")
    assert sitecheck.check_page(driver, good, extra) == [
        "the source has 1 {glue:figure} directive(s) but the article shows 2 glued figure(s)"]


@pytest.mark.parametrize(
    "name, old, new, expected",
    [
        ("nan", "2.1234", "nan", 'a glued value is not a finite number: nan (after "…The loss is '),
        ("minus-inf", "2.1234", "-inf", "a glued value is not a finite number: -inf"),
        ("mixed", "2.1234", "Inf or NaN", "a glued value is not a finite number: Inf or NaN"),
        ("table", "<td>2.1664</td>", "<td>inf</td>", "a table cell is not a finite number: inf"),
    ],
)
def test_a_pasted_value_that_is_not_finite_is_a_problem(driver, page_copies, name, old, new,
                                                         expected):
    page = page_copies(f"nonfinite-{name}.html", old, new)  # one file each: no browser cache
    problems = sitecheck.check_page(driver, page, SOURCE_TWO_FIGURES)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_words_that_contain_nan_or_inf_are_fine(driver, page_copies):
    page = page_copies("words.html", "2.1234", "infinite, inflation, nanoGPT, banana")
    assert sitecheck.check_page(driver, page, SOURCE_TWO_FIGURES) == []


def test_a_code_block_that_scrolls_sideways_is_a_problem(driver, synthetic_site):
    url, folder = synthetic_site
    line = "x = " + " + ".join(["value"] * 60)  # far wider than the article
    page = GOOD.replace("</article>", '<div class="highlight"><pre style="overflow-x:auto">'
                        f"{line}</pre></div></article>")
    (folder / "wide-code.html").write_text(page, encoding="utf-8")
    problems = sitecheck.check_page(driver, url + "wide-code.html")
    assert len(problems) == 1 and problems[0].startswith("a code block scrolls sideways")
    short = GOOD.replace("</article>", '<div class="highlight"><pre>x = 1</pre></div></article>')
    (folder / "short-code.html").write_text(short, encoding="utf-8")
    assert sitecheck.check_page(driver, url + "short-code.html") == []
