"""Fixtures of the browser checks: the built site on a local server, and Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from checks.browser import CHROMIUM, FLAGS, SITE, QuietHandler

if TYPE_CHECKING:  # the site checks run where Playwright is not installed
    from playwright.sync_api import Browser


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Serve the built site on a free localhost port; yield its base URL."""
    assert (SITE / "index.html").is_file(), f"{SITE}: run `make book` first"
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser here."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: apt-get install chromium, or set CNNBOOK_CHROMIUM"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()
