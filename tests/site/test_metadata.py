"""The built site as search engines and link previews see it: a sitemap, and for every page of
the book a canonical address, a title and a description to share (sphinx-sitemap and
sphinxext-opengraph), all under the one base URL set in `_config.yml` (`html: baseurl`)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
import sitecheck
import yaml

SITE = sitecheck.site_dir()
PAGES = sitecheck.pages(SITE) if SITE.is_dir() else []
NOT_IN_SITEMAP = {"index.html", "search.html", "genindex.html"}  # a redirect and two tools


def base_url() -> str:
    config = yaml.safe_load((sitecheck.ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["html"]["baseurl"]


def meta(page_html: str) -> dict[str, str]:
    """The page's <meta property|name=... content=...> tags."""
    found = {}
    for tag in re.findall(r"<meta\s[^>]*>", page_html):
        key = re.search(r'\b(?:property|name)="([^"]+)"', tag)
        content = re.search(r'\bcontent="([^"]*)"', tag)
        if key and content:
            found[key.group(1)] = html.unescape(content.group(1))
    return found


def test_the_base_url_is_an_absolute_folder():
    url = base_url()
    assert re.fullmatch(r"https://[^\s/]+/(\S*/)?", url), f"html.baseurl: {url!r}"


def test_the_sitemap_lists_every_page_under_the_base_url(site):
    sitemap = site / "sitemap.xml"
    assert sitemap.is_file(), "no sitemap.xml at the root of the site (sphinx-sitemap)"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = {loc.text for loc in ET.parse(sitemap).getroot().findall("s:url/s:loc", ns)}
    expected = {base_url() + page for page in PAGES if page not in NOT_IN_SITEMAP}
    assert listed == expected, (f"missing: {sorted(expected - listed)}, "
                                f"unexpected: {sorted(listed - expected)}")


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("book/")])
def test_every_page_has_a_description_to_share(page, site):
    tags = meta((site / page).read_text(encoding="utf-8"))
    assert tags.get("og:url") == base_url() + page, f"{page}: og:url {tags.get('og:url')!r}"
    assert tags.get("og:title"), f"{page}: no og:title"
    description = tags.get("og:description", "")
    assert len(description) >= 50, f"{page}: og:description too short: {description!r}"
    assert tags.get("description") == description, f"{page}: no <meta name=description>"
    assert "{glue" not in description and "Traceback" not in description, description
