"""Each page loads only the scripts and fonts it uses, is styled once in the theme its
mode shows, and its figures below the first screen wait until they are needed
(bookbuild/sphinxext/page_speed.py).

On a phone's screen (Lighthouse's mobile one), in Chromium from the local server. How
fast the pages are is measured by `make lighthouse` into benchmarks/RESULTS.md, never
asserted here: a busy machine must not fail a check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fontTools.ttLib import TTFont

from bookbuild.config import toc_pages
from bookbuild.sphinxext.page_speed import ICONS_DIR
from checks.browser import SITE

if TYPE_CHECKING:
    from playwright.sync_api import Page

PAGES = toc_pages()
PHONE = (412, 823)  # Lighthouse's mobile screen, in CSS pixels
#: No page loads the icon kit, the search index away from search, or MathJax (formulas
#: are drawn at build time, math_svg.py).
UNUSED = (
    "fontawesome.js",
    "searchindex.js",
    "searchtools.js",
    "language_data.js",
    "tex-chtml.js",
)

# The private-use code points (Font Awesome's icons) that each icon font draws on the
# page: every element and ::before/::after whose computed font is an icon font.
DRAWN_ICONS = """() => {
  const drawn = {solid: new Set(), brands: new Set()};
  for (const element of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(element, pseudo);
      if (!style.fontFamily.includes("Font Awesome") || style.display === "none") {
        continue;
      }
      const text = pseudo ? style.content.replace(/^"|"$/g, "") : element.textContent;
      const font = style.fontFamily.includes("Brands") ? "brands" : "solid";
      for (const char of text) {
        const point = char.codePointAt(0);
        if (point >= 0xe000 && point <= 0xf8ff) drawn[font].add(point);
      }
    }
  }
  return {solid: [...drawn.solid], brands: [...drawn.brands]};
}"""

# What closed <details> (dropdowns, hidden cells) hold and still render: the theme's
# scroll check on load would lay each of them out afresh (_static/cnnbook.css).
FOLDED_AND_RENDERED = """() => [
  ...document.querySelectorAll("details:not([open]) > :not(summary)")
].filter((element) => getComputedStyle(element).display !== "none")
 .map((element) => element.className)"""

IMAGES = """() => [...document.images].map((image) => ({
  src: image.getAttribute("src"),
  top: image.getBoundingClientRect().top + window.scrollY,
  shown: image.getClientRects().length > 0,
  article: image.closest("article") !== null,
  loading: image.getAttribute("loading"),
  width: image.getAttribute("width"),
  height: image.getAttribute("height"),
}))"""


@contextmanager
def _phone(browser, site: str, page: str) -> Iterator[tuple[Page, list[str]]]:
    """``page`` loaded on a phone's screen, with the URL of every request it made."""
    size = {"width": PHONE[0], "height": PHONE[1]}
    context = browser.new_context(viewport=size, screen=size, color_scheme="light")
    tab = context.new_page()
    requested: list[str] = []
    tab.on("request", lambda request: requested.append(request.url))
    tab.goto(f"{site}/{page}.html", wait_until="networkidle")
    tab.evaluate("() => document.fonts.ready")
    try:
        yield tab, requested
    finally:
        context.close()


@pytest.mark.parametrize("page", PAGES)
def test_a_page_loads_no_script_or_font_it_does_not_use(browser, site, page):
    with _phone(browser, site, page) as (tab, requested):
        has_toggle = tab.locator(".toggle, .admonition.dropdown").count() > 0
        drawn = tab.evaluate(DRAWN_ICONS)
        folded = tab.evaluate(FOLDED_AND_RENDERED)
    assert not folded, f"{page}: closed <details> content is rendered: {folded}"
    names = [urlsplit(url).path.rsplit("/", 1)[-1] for url in requested]
    assert not set(names) & set(UNUSED), f"{page} loads {set(names) & set(UNUSED)}"
    toggles = {"togglebutton.js", "togglebutton.css"} & set(names)
    assert bool(toggles) == has_toggle, f"{page}: {toggles or 'no togglebutton'}"
    fonts = [url for url in requested if url.endswith((".woff", ".woff2", ".ttf"))]
    icon_fonts = [url for url in fonts if "fa-" in url.rsplit("/", 1)[-1]]
    assert all(f"/_static/{ICONS_DIR}/" in url for url in icon_fonts), icon_fonts
    assert fonts == icon_fonts, f"{page}: fonts other than the icons: {fonts}"
    for font, stem in (("solid", "fa-solid-900"), ("brands", "fa-brands-400")):
        fetched = any(url.endswith(f"/{stem}.woff") for url in icon_fonts)
        assert fetched == bool(drawn[font]), f"{page}: {stem} fetched {fetched}"
        with TTFont(SITE / "_static" / ICONS_DIR / f"{stem}.woff") as subset:
            cmap = subset.getBestCmap()
        missing = sorted(hex(point) for point in set(drawn[font]) - set(cmap))
        assert not missing, f"{page}: {stem} lacks the icons {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_images_below_the_first_screen_wait_and_keep_their_room(browser, site, page):
    with _phone(browser, site, page) as (tab, _):
        images = tab.evaluate(IMAGES)
    for image in images:
        if image["src"].startswith("data:"):
            continue  # small inline pictures: nothing to fetch
        if image["article"]:
            assert image["width"] and image["height"], f"{page}: {image['src']} unsized"
        if not image["shown"] or image["top"] > PHONE[1]:
            assert image["loading"] == "lazy", f"{page}: {image['src']} loads eagerly"


# Every value the root's data-theme takes after the parser set it, and whether the body
# existed yet: recorded from the first script on.
RECORD_THEMES = """window.cnnbookThemes = [];
const themes = new MutationObserver((changes) => {
  for (const change of changes) {
    window.cnnbookThemes.push([change.target.dataset.theme, document.body !== null]);
  }
});
themes.observe(
  document, {attributes: true, subtree: true, attributeFilter: ["data-theme"]},
);
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", ["book/cnn-in-pytorch", "search"])
def test_a_first_visit_is_styled_once_in_the_systems_theme(browser, site, page, scheme):
    size = {"width": PHONE[0], "height": PHONE[1]}
    context = browser.new_context(viewport=size, color_scheme=scheme)
    try:
        tab = context.new_page()
        tab.add_init_script(RECORD_THEMES)
        tab.goto(f"{site}/{page}.html", wait_until="load")
        themes = tab.evaluate("() => window.cnnbookThemes")
    finally:
        context.close()
    (first, body), *later = themes
    assert (first, body) == (scheme, False), f"{page}: first theme {themes}"
    assert all(theme == scheme for theme, _ in later), f"{page}: themes {themes}"
