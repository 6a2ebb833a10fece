"""The built site in a real browser: Debian's Chromium, driven by Playwright.

The site is served from a local server. For every page: it loads with no console errors
and no failed requests, nothing is fetched from outside localhost, every image loads and
has descriptive alt text, math is typeset, and a full-page screenshot lands in
_build/screenshots/ for review. Then, site-wide: search, the copy button, and dark mode.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from bookbuild.config import toc_pages
from bookbuild.paths import BUILD
from checks.browser import Visit, check_math

SHOTS = BUILD / "screenshots"
PAGES = toc_pages()


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly_offline_with_described_images(browser, site, page):
    visit = Visit(browser, site, f"{page}.html")
    try:
        tab = visit.page
        check_math(tab, page)
        images = tab.eval_on_selector_all(
            "img",
            "els => els.map(e => ({src: e.getAttribute('src'), alt: e.alt,"
            " width: e.naturalWidth,"
            " figure: e.closest('article figure') !== null}))",
        )
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(
            path=str(SHOTS / f"{page.replace('/', '--')}.png"), full_page=True
        )
    finally:
        visit.close()
    assert not visit.outside, f"{page} requested outside localhost: {visit.outside}"
    assert not visit.failed, f"{page}: failed requests {visit.failed}"
    assert not visit.errors, f"{page}: console errors {visit.errors}"
    for image in images:
        assert image["width"] > 0, f"{page}: image {image['src']} did not load"
        alt = image["alt"].strip()
        # a figure needs a description; an icon (the theme's launch-button logos) a name
        shortest = 20 if image["figure"] else 4
        is_path = re.fullmatch(r"\S*/\S*|\S+\.(png|jpe?g|svg|gif)", alt)
        assert len(alt) >= shortest and not is_path, (
            f"{page}: image {image['src']} lacks alt text: {alt!r}"
        )


PHONE = 400  # px


@pytest.mark.parametrize("page", PAGES)
def test_page_fits_a_phone_and_glued_values_read_as_prose(browser, site, page):
    visit = Visit(browser, site, f"{page}.html", width=PHONE)
    try:
        tab = visit.page
        check_math(tab, page)
        page_width = tab.evaluate("() => document.documentElement.scrollWidth")
        weights = tab.evaluate(
            "() => [...document.querySelectorAll('span.pasted-text')].map(e =>"
            " [getComputedStyle(e).fontWeight,"
            " getComputedStyle(e.parentElement).fontWeight])"
        )
    finally:
        visit.close()
    # wide code outputs and tables scroll inside their own boxes; the page must not
    assert page_width <= PHONE, f"{page} is {page_width} px wide on a {PHONE} px screen"
    assert all(own == around for own, around in weights), (
        f"{page}: glued values are set apart from their sentence: {weights}"
    )


def test_search_finds_maxpool2d(browser, site):
    visit = Visit(browser, site, "search.html?q=MaxPool2d")
    try:
        results = visit.page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=15_000)
        # the magnifier sits before the typed text, not over it
        overlap = visit.page.evaluate(
            """() => {
              const form = document.querySelector("#main-content form.bd-search");
              const icon = form.querySelector(".fa-magnifying-glass");
              const input = form.querySelector("input");
              const text = input.getBoundingClientRect().left
                + parseFloat(getComputedStyle(input).paddingLeft);
              return icon.getBoundingClientRect().right - text;
            }"""
        )
        links = results.locator("a").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))"
        )
    finally:
        visit.close()
    assert any("cnn-in-pytorch" in link for link in links), links
    assert overlap <= 0, f"the search icon covers {overlap:.1f} px of the typed text"
    assert not visit.errors and not visit.outside


def test_copy_button_copies_code_without_prompts_or_outputs(browser, site):
    visit = Visit(
        browser,
        site,
        "book/cnn-in-pytorch.html",
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        tab = visit.page
        cell = tab.locator("div.cell:has(div.cell_output)").first
        source = cell.locator("div.cell_input pre").inner_text()
        output = cell.locator("div.cell_output").inner_text()
        cell.locator("div.cell_input").hover()
        cell.locator("div.cell_input button.copybtn").click()
        copied = tab.evaluate("() => navigator.clipboard.readText()")
    finally:
        visit.close()
    assert copied.strip() == source.strip()
    assert output.strip() and output.strip() not in copied
    assert not copied.lstrip().startswith((">>>", "In ["))


def _luminance(rgb: str) -> float:
    """Relative luminance (WCAG) of a CSS colour ``rgb(r, g, b)`` or ``rgba(...)``."""
    values = [
        float(v) / 255 for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]
    ]
    linear = [
        v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# The colour of the first element matching a selector, and the background it is drawn
# on: that of the nearest ancestor whose background is not transparent (None if there
# is none).
_TEXT_AND_GROUND = """selector => {
    const element = document.querySelector(selector);
    for (let e = element; e; e = e.parentElement) {
        const ground = getComputedStyle(e).backgroundColor;
        if (ground !== "rgba(0, 0, 0, 0)") {
            return [getComputedStyle(element).color, ground];
        }
    }
    return [getComputedStyle(element).color, null];
}"""


def test_dark_mode_toggle_and_readable_figures(browser, site):
    visit = Visit(browser, site, "book/cnn-in-pytorch.html")
    try:
        tab = visit.page
        assert tab.evaluate("() => document.documentElement.dataset.theme") == "light"
        button = tab.locator("button.theme-switch-button").first
        for _ in range(3):
            if tab.evaluate("() => document.documentElement.dataset.theme") == "dark":
                break
            button.click()
        assert tab.evaluate("() => document.documentElement.dataset.theme") == "dark"
        background = tab.evaluate(
            "() => getComputedStyle(document.body).backgroundColor"
        )
        text = tab.evaluate(
            "() => getComputedStyle(document.querySelector('main p')).color"
        )
        caption = tab.evaluate(
            "() => getComputedStyle(document.querySelector('figcaption')).color"
        )
        figure = tab.locator("figure img").first
        figure.scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        figure.screenshot(path=str(SHOTS / "dark-mode-figure.png"))
        tab.screenshot(path=str(SHOTS / "dark-mode.png"))
        filters = tab.evaluate(
            "() => [...document.querySelectorAll('div.cell_output img, figure img')]"
            ".map(e => getComputedStyle(e).filter)"
        )
        record, record_ground = tab.evaluate(_TEXT_AND_GROUND, "p.cnnbook-build-facts")
    finally:
        visit.close()
    assert _luminance(background) < 0.05, (
        f"dark mode kept a light background: {background}"
    )
    assert _contrast(record, record_ground or background) >= 4.5, (
        f"the build record is hard to read in dark mode: {record} on {record_ground}"
    )
    assert _contrast(text, background) >= 4.5
    assert _contrast(caption, background) >= 4.5
    # Figures are measurements: the theme must not dim or invert them (it dims every
    # image by default), so white stays white, as 0 does on a red-blue scale.
    assert filters and set(filters) == {"none"}, filters
    # The title strip at the top of the figure: black text on the figure's own white.
    with Image.open(SHOTS / "dark-mode-figure.png") as shot:
        grey = shot.convert("L")
        strip = np.asarray(grey.crop((0, 0, grey.width, min(30, grey.height))))
    ground, ink = np.percentile(strip, 90), np.percentile(strip, 1)
    assert ground >= 250 and ink < 90, (
        f"figure colours are changed in dark mode ({ink=}, {ground=})"
    )
