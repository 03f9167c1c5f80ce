"""A headless Chromium looking at a folder served on localhost: the site tests and the PDF.

The browser tests (tests/site/sitecheck.py) open every page of the built site and the PDF tool
(tools/make_pdf.py) prints the single-page build; both need the same two things. The folder is
served over HTTP from a thread of this process (as a reader would get it: a page loaded from a
file:// URL may not read its images back through a canvas, nor run MathJax's fonts), and the
browser is Debian's `chromium`, driven by selenium through `chromedriver` (apt: chromium
chromium-driver), with a fresh profile removed afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--window-size=1200,900",
]

# -----------------------------------------------------------------------------
# a folder on localhost


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on a free local port for the duration of the block; yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# -----------------------------------------------------------------------------
# the browser


def browser_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            return f"{exe} not found (apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def browser(timeout: int = 60) -> Iterator:
    """A headless chromium with a fresh profile, closed (and its profile removed) afterwards.
    `timeout`: seconds allowed to load a page and to run a script in it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="makemore-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(timeout)
    driver.set_script_timeout(timeout)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
