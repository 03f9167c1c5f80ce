"""Every page of the built book, opened in headless chromium: what a reader sees is right."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sitecheck

SITE = sitecheck.site_dir()
PAGES = sitecheck.pages(SITE) if SITE.is_dir() else []


def test_the_site_has_pages(site):
    assert "index.html" in PAGES
    assert any(p.startswith("book/") for p in PAGES), "no chapter page in the built site"


def page_source(site: Path, page: str) -> str | None:
    """The Markdown the page was built from, as Sphinx published it under _sources/."""
    stem = site / "_sources" / Path(page).with_suffix("")
    for suffix in (".md", ".md.txt", ".ipynb", ".rst", ".txt"):
        candidate = stem.parent / (stem.name + suffix)
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_problem(page, site, site_url, driver):
    problems = sitecheck.check_page(driver, site_url + page, page_source(site, page),
                                    site=(site_url, site))
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("book/")])
def test_chapter_offers_its_notebook(page, site):
    """The download menu's .ipynb exists for every executable chapter (_ext/ipynb_download.py):
    the reader's notebook, the chapter's code after the install cell, no MyST left, every link
    into the site pointing at an anchor the site has; and a Colab button opens it."""
    import re

    from tools.book import reader

    source = page_source(site, page) or ""
    if "kernelspec:" not in source:
        pytest.skip("not an executable chapter")
    notebook = site / "_sources" / Path(page).with_suffix(".ipynb")
    assert notebook.is_file(), f"{page}: no {notebook.name} to download"
    html = (site / page).read_text(encoding="utf-8")
    assert f"{Path(page).stem}.ipynb" in html, f"{page}: no .ipynb entry in the download menu"
    import jupytext

    chapter = jupytext.reads(source, fmt="md:myst")
    offered = jupytext.read(notebook)
    code = [c.source for c in chapter.cells if c.cell_type == "code"]
    assert [c.source for c in offered.cells if c.cell_type == "code"] == [
        reader.INSTALL_SOURCE, *code], f"{page}: not the chapter's code"
    assert offered.metadata["kernelspec"]["name"] == chapter.metadata["kernelspec"]["name"]
    assert reader.leftover_myst(offered) == [], f"{page}: MyST left as text in its notebook"
    prose = "\n".join(c.source for c in offered.cells if c.cell_type == "markdown")
    base = reader.site_url()
    for target, anchor in re.findall(re.escape(base) + r"([^)#\s]+)#([^)\s]+)\)", prose):
        there = (site / target).read_text(encoding="utf-8")
        assert f'id="{anchor}"' in there, f"{page}: its notebook links {target}#{anchor}"
    colab = ("colab.research.google.com/github/makemore-book/makemore-book/blob/notebooks/"
             f"{Path(page).with_suffix('.ipynb')}")
    assert colab in html, f"{page}: no Colab button for its notebook"


def test_screenshots_in_light_and_dark_mode(site, site_url, driver, tmp_path):
    """Screenshots of every chapter in both modes, kept where SITECHECK_SCREENSHOTS points."""
    out = Path(os.environ.get("SITECHECK_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    for page in (p for p in PAGES if p.startswith("book/")):
        for theme in ("light", "dark"):
            path = out / f"{Path(page).stem}-{theme}.png"
            sitecheck.screenshot(driver, site_url + page, path, theme)
            assert path.stat().st_size > 0


def test_results_json_holds_the_models_the_results_page_shows(site):
    """<site>/results.json (_ext/results_json.py): stamped with the time of the build that
    wrote it, no later than the site's own pages, and every loss the one the results page
    shows."""
    import json
    import re
    from datetime import UTC, datetime

    payload = json.loads((site / "results.json").read_text(encoding="utf-8"))
    assert payload["format"] == "makemore-results"
    built = datetime.strptime(payload["built"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    written = datetime.fromtimestamp((site / "book" / "results.html").stat().st_mtime, UTC)
    assert built >= written.replace(microsecond=0), "results.json is older than the site"
    rows = payload["rows"]
    assert rows and {"model", "key", "chapter", "split", "loss", "parameters", "steps",
                     "cpu_seconds", "seeds"} == set(rows[0])
    page = re.sub(r"<[^>]+>", " ", (site / "book" / "results.html").read_text(encoding="utf-8"))
    shown = set(re.findall(r"\d+\.\d{4}", page))
    missing = [f"{r['key']} {r['split']} {r['loss']:.4f}" for r in rows
               if f"{r['loss']:.4f}" not in shown]
    assert not missing, f"results.json rows not on the results page: {missing}"
