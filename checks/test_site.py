"""Checks that hold for every page of the built site in _build/html.

Run them after `make book`, with `make check`. They fail when a page shows an error, a
traceback or stderr output, when a figure has no caption or no real alt text, when a
page outgrows its weight budget, or when a page does not end with its build record.
What particular chapters must print is checked in test_chapter_outputs.py.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from bookbuild.config import notebook_pages, toc_pages
from bookbuild.paths import HTML
from checks.site_html import outputs_text, page_soup

PAGE_BUDGET_BYTES = 1_500_000
PAGES = toc_pages()


def test_the_site_was_built():
    assert (HTML / "index.html").is_file()
    assert not (HTML / "reports").exists(), (
        "a page failed to execute: see _build/html/reports"
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_error_traceback_or_stderr(page):
    soup = page_soup(page)
    bad = []
    for cell in soup.select("div.cell"):
        if "tag_raises-exception" in cell.get("class", []):
            continue
        for out in cell.select("div.cell_output .output"):
            classes = set(out.get("class", []))
            text = out.get_text()
            if (
                classes & {"traceback", "error", "stderr"}
                or "Traceback (most recent call last)" in text
            ):
                bad.append(f"{sorted(classes)}: {text[:200]!r}")
    assert not bad, f"{page} shows errors or stderr:\n" + "\n".join(bad)


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_has_a_caption_and_real_alt_text(page):
    soup = page_soup(page)
    images = soup.select("article.bd-article img")  # the content, not the theme's icons
    if page == "book/cnn-in-pytorch":
        assert len(images) >= 5, (
            "the selector no longer finds the seed chapter's figures"
        )
    for img in images:
        alt = (img.get("alt") or "").strip()
        src = img.get("src", "")
        assert len(alt) >= 20, (
            f"{page}: image {src} has no descriptive alt text ({alt!r})"
        )
        # myst-nb's default alt is the image's path: one word with slashes or an image
        # suffix
        looks_like_path = re.fullmatch(r"\S*/\S*|\S+\.(png|jpe?g|svg|gif)", alt)
        assert not looks_like_path and src not in alt, f"{page}: alt of {src} is a path"
        figure = img.find_parent("figure")
        assert figure is not None and figure.find("figcaption"), (
            f"{page}: image {src} has no caption"
        )


@pytest.mark.parametrize("page", PAGES)
def test_page_weight_is_within_budget(page):
    html_path = HTML / f"{page}.html"
    soup = page_soup(page)
    total = html_path.stat().st_size
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if src.startswith(("http:", "https:", "data:")):
            continue
        total += (html_path.parent / src).resolve().stat().st_size
    assert total <= PAGE_BUDGET_BYTES, (
        f"{page} weighs {total / 1e6:.2f} MB (budget {PAGE_BUDGET_BYTES / 1e6} MB)"
    )


CODE_COLUMNS = 88  # the line length of ruff's configuration (pyproject.toml)


@pytest.mark.parametrize("page", PAGES)
def test_code_shown_to_readers_fits_the_page(page):
    """Code cells and included cnnbook sources, not outputs, fit CODE_COLUMNS."""
    soup = page_soup(page)
    long_lines = [
        line
        for block in soup.select("div.highlight pre")
        if not block.find_parent("div", class_="cell_output")
        for line in block.get_text().splitlines()
        if len(line) > CODE_COLUMNS
    ]
    assert not long_lines, (
        f"{page}: {len(long_lines)} code lines over {CODE_COLUMNS} columns, "
        f"the first: {long_lines[0]!r}"
    )


BUILD_FACTS = re.compile(
    r"^Built on (CPU|NVIDIA .+) · torch \d+\.\d+\S* "
    r"(· CUDA \d+\.\d+ · cuDNN \d+\.\d+\.\d+ )?"
    r"(· seed \d+ )?· \d+\.\d s from kernel start$"
)


@pytest.mark.parametrize("page", notebook_pages())
def test_page_ends_with_its_build_facts(page):
    soup = page_soup(page)
    facts = soup.select("p.cnnbook-build-facts")
    assert len(facts) == 1, f"{page}: expected one build-facts line, found {len(facts)}"
    text = facts[0].get_text()
    assert BUILD_FACTS.match(text), f"{page}: unexpected build facts {text!r}"
    assert ("CPU" in text) == ("CUDA" not in text), (
        f"{page}: a GPU build must name CUDA and cuDNN"
    )
    last_output = soup.select("div.cell_output")[-1]
    assert facts[0] in last_output.descendants, (
        f"{page}: the build facts are not the page's last output"
    )


REFERENCE_PAGES = ("book/how-it-was-built", "book/api")


@pytest.mark.parametrize("page", [p for p in PAGES[1:] if p not in REFERENCE_PAGES])
def test_chapter_ends_with_exercises_and_folded_solutions(page):
    """The intro promises exercises, with executed solutions, in every chapter."""
    soup = page_soup(page)
    headings = [h.get_text(strip=True).rstrip("#") for h in soup.select("section h2")]
    assert headings and headings[-1] == "Exercises", (
        f"{page}: last section is {headings[-1:]}, not Exercises"
    )
    assert soup.select("details.hide.above-input"), f"{page}: no folded solution"


def test_build_page_has_the_execution_table_and_environment():
    soup = page_soup("book/how-it-was-built")
    table = soup.select_one("table")
    assert table is not None, "the nb-exec-table is missing"
    listed = table.get_text()
    for page in notebook_pages():
        assert page in listed, f"{page} is missing from the execution table"
    statuses = [
        row.select("td")[-1].get_text(strip=True) for row in table.select("tbody tr")
    ]
    # words, not emoji: a reader with no emoji font would see empty boxes
    assert statuses and set(statuses) == {"succeeded"}, statuses
    text = outputs_text(soup)
    for name in (
        "Python",
        "torch",
        "torchvision",
        "GPU",
        "NVIDIA driver",
        "jupyter-book",
        "myst-nb",
    ):
        assert re.search(rf"^{re.escape(name)}\b.*\S", text, re.MULTILINE), (
            f"build page lacks {name}"
        )


def _local_targets(page_path, soup):
    """(href, file, fragment) for every link of the page that stays inside the site."""
    for anchor in soup.select("a[href]"):
        href = anchor["href"]
        if href.startswith(("http:", "https:", "mailto:", "javascript:")):
            continue
        path, _, fragment = href.partition("#")
        target = (page_path.parent / path).resolve() if path else page_path
        yield href, target, fragment


@pytest.mark.parametrize("page", [*PAGES, "genindex", "search"])
def test_internal_links_resolve(page):
    page_path = (HTML / f"{page}.html").resolve()
    soup = page_soup(page)
    cache: dict = {}
    for href, target, fragment in _local_targets(page_path, soup):
        assert target.is_relative_to(HTML.resolve()), f"{page}: {href} leaves the site"
        assert target.exists(), f"{page}: broken link {href}"
        if fragment and target.suffix == ".html":
            if target not in cache:
                cache[target] = BeautifulSoup(
                    target.read_text(encoding="utf-8"), "html.parser"
                )
            assert cache[target].find(id=fragment), (
                f"{page}: {href} points to a missing anchor"
            )


# 10 MB until the interactive figures: the first chapter's feature-map explorer embeds
# 24 full-size maps, losslessly (about 0.6 MB), in its page and again in its notebook.
SITE_BUDGET_BYTES = 11_000_000


def test_site_without_theme_assets_is_within_budget():
    # _static/ holds Sphinx's and the theme's assets;
    # everything else is the book: pages, figures, sources and notebooks for download,
    # the search index.
    files = [
        p
        for p in HTML.rglob("*")
        if p.is_file() and "_static" not in p.relative_to(HTML).parts
    ]
    total = sum(p.stat().st_size for p in files)
    assert total <= SITE_BUDGET_BYTES, (
        f"the site weighs {total / 1e6:.2f} MB (budget {SITE_BUDGET_BYTES / 1e6} MB)"
    )
