"""Reading the built site's pages, for the checks."""

from __future__ import annotations

from bs4 import BeautifulSoup

from bookbuild.paths import HTML


def page_soup(page: str) -> BeautifulSoup:
    """The parsed HTML of ``page`` (e.g. ``"book/intro"``) in the built site."""
    path = HTML / f"{page}.html"
    assert path.is_file(), f"{path} is missing: run `make book` first"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def outputs_text(soup: BeautifulSoup) -> str:
    """The text of every cell output on a page, one output per line."""
    return "\n".join(div.get_text() for div in soup.select("div.cell_output"))
