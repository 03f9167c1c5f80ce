"""Fixtures for the browser tests of the built site (not part of the default `pytest` run).

Run them after building the book: `.venv/bin/pytest tests/site`. Locally they skip when the
site or the browser is missing; in CI (CI=true) a missing site or browser is a failure.
"""

from __future__ import annotations

import pytest
import sitecheck

from tools.book.browser import browser, browser_missing, serve


def need(reason: str) -> None:
    """Skip locally; fail in CI, where the site and the browser must be there."""
    if sitecheck.in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def driver():
    missing = browser_missing()
    if missing:
        need(missing)
    with browser() as d:
        yield d


@pytest.fixture(scope="session")
def site():
    folder = sitecheck.site_dir()
    if not (folder / "index.html").is_file():
        need(f"no built site at {folder}: build the book first (make book)")
    return folder


@pytest.fixture(scope="session")
def site_url(site):
    with serve(site) as url:
        yield url
