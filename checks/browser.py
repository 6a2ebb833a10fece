"""What the browser checks share: Debian's Chromium, the served site, and a page visit
that records everything that went wrong.

The fixtures that serve the site and launch Chromium are in ``conftest.py``. The site
served is ``_build/html``, or the folder that the environment variable
``CNNBOOK_HTML`` names (to check a copy while a build rewrites the original).
"""

from __future__ import annotations

import functools
import http.server
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bookbuild.paths import HTML

if TYPE_CHECKING:  # the site checks run where Playwright is not installed
    from playwright.sync_api import Browser, Page

SITE = Path(os.environ.get("CNNBOOK_HTML") or HTML)
CHROMIUM = Path(
    os.environ.get("CNNBOOK_CHROMIUM", "/usr/bin/chromium")
)  # Debian's, by default
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


#: Images load lazily (bookbuild/sphinxext/page_speed.py): as for a reader who scrolls
#: through the page and opens every menu, each one is loaded now, and awaited.
_LOAD_EVERY_IMAGE = """() => Promise.all([...document.images].map((image) => {
  image.loading = "eager";
  return image.complete ? null : new Promise((done) => {
    image.addEventListener("load", done);
    image.addEventListener("error", done);
  });
}))"""


class Visit:
    """One page in a fresh browser context, every image loaded, with everything that
    went wrong recorded."""

    def __init__(
        self,
        browser: Browser,
        site: str,
        path: str,
        width: int = 1280,
        **context_options: Any,
    ) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme="light",
            **context_options,
        )
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []
        host = urlsplit(site).netloc
        self.context.route("**/*", functools.partial(self._route, host))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "requestfailed",
            lambda req: self.failed.append(f"{req.url} ({req.failure})"),
        )
        self.page.on(
            "response",
            lambda res: (
                self.failed.append(f"{res.url} ({res.status})")
                if res.status >= 400
                else None
            ),
        )
        self.page.goto(f"{site}/{path}", wait_until="networkidle")
        self.page.evaluate(_LOAD_EVERY_IMAGE)

    def _route(self, host: str, route, request) -> None:
        """Let localhost through; record and block anything else."""
        if urlsplit(request.url).netloc == host:
            route.continue_()
        else:
            self.outside.append(request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


def check_math(tab: Page, page: str) -> None:
    """Assert every formula of the page is drawn: one SVG image, named by its TeX,
    and no TeX left as text (bookbuild/sphinxext/math_svg.py)."""
    formulas = tab.eval_on_selector_all(
        "span.math, div.math",
        """els => els.map(e => ({
          svgs: e.querySelectorAll(":scope > svg[role=img][aria-label]").length,
          text: [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE)
            .map(n => n.textContent).join("").trim(),
          width: e.querySelector("svg")?.getBoundingClientRect().width ?? 0,
        }))""",
    )
    for formula in formulas:
        assert formula["svgs"] == 1 and formula["width"] > 0, f"{page}: {formula}"
        assert not formula["text"], f"{page}: TeX left as text: {formula['text']!r}"
