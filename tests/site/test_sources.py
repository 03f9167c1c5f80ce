"""The built site links its sources and says how it may be reused: every page of the book has
the repository, issues and edit-this-page links (`repository:` and `html:` in _config.yml), one
search field at desktop width (the theme's header bar with a second one is off), the favicon and
the sharing image, and a footer that gives the licences (CC BY 4.0 text, MIT code)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

import pytest
import sitecheck
import yaml

SITE = sitecheck.site_dir()
BOOK_PAGES = [p for p in sitecheck.pages(SITE) if p.startswith("book/")] if SITE.is_dir() else []
CONFIG = yaml.safe_load((sitecheck.ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO = CONFIG["repository"]["url"].rstrip("/")


def hrefs(page_html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page_html))


def normalized(url: str) -> str:
    """The address a browser follows: dot segments removed (`main/./book` is `main/book`)."""
    parts = urlsplit(url)
    path = posixpath.normpath(parts.path) if parts.path else ""
    return parts._replace(path=path).geturl()


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_every_page_links_its_repository_issues_and_source(page, site):
    links = {normalized(h) for h in hrefs((site / page).read_text(encoding="utf-8"))}
    source = page.removesuffix(".html") + ".md"
    assert (sitecheck.ROOT / source).is_file(), f"{page}: no source {source} in the repository"
    branch = CONFIG["repository"]["branch"]
    wanted = {
        "repository": REPO,
        "edit this page": f"{REPO}/edit/{branch}/{source}",
    }
    missing = [what for what, url in wanted.items() if url not in links]
    assert not missing, f"{page}: no link to {missing}"
    assert any(h.startswith(f"{REPO}/issues/new") for h in links), f"{page}: no issue link"


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_every_page_has_the_favicon_and_the_sharing_image(page, site):
    text = (site / page).read_text(encoding="utf-8")
    icon = re.search(r'<link rel="icon" href="([^"]+)"', text)
    assert icon, f"{page}: no <link rel=icon>"
    assert (site / page).parent.joinpath(icon.group(1)).resolve().is_file(), icon.group(1)
    image = re.search(r'<meta property="og:image" content="([^"]+)"', text)
    base = CONFIG["html"]["baseurl"]
    assert image and image.group(1).startswith(base), f"{page}: og:image {image}"
    assert (site / image.group(1).removeprefix(base)).is_file(), image.group(1)


@pytest.mark.parametrize("page", BOOK_PAGES)
def test_the_footer_gives_both_licences(page, site):
    text = (site / page).read_text(encoding="utf-8")
    start = text.find('<div class="extra_footer">')
    assert start >= 0, f"{page}: no extra_footer (html: extra_footer in _config.yml)"
    footer = text[start:text.find("</div>", start)]
    assert "creativecommons.org/licenses/by/4.0/" in footer, f"{page}: no CC BY 4.0 link"
    assert "MIT licence" in footer, f"{page}: the code's licence is not in the footer"


def test_one_search_control_is_visible_on_a_desktop_and_on_a_phone(site, site_url, driver):
    """A reader at 1200 px sees one search field (the sidebar's), not the header's too; on a
    narrow window, with the sidebar folded away, the header's search icon is the one."""
    try:
        for width in (1200, 700):
            driver.set_window_size(width, 900)
            for page in BOOK_PAGES[:3]:
                driver.get(site_url + page)
                shown = driver.execute_script("""
                    return [...document.querySelectorAll(
                        '.search-button__button, input[type=search], form.bd-search input')]
                      .filter(el => {
                        const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
                               && !el.closest('dialog');
                      }).length;""")
                assert shown == 1, f"{page}: {shown} search controls visible at {width} px"
    finally:
        driver.set_window_size(1200, 900)
