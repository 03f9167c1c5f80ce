"""The site checker itself, on small synthetic pages: it must see every kind of problem."""

from __future__ import annotations

import pytest
import sitecheck
from PIL import Image

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
    with sitecheck.serve(folder) as url:
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
