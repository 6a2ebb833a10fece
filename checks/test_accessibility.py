"""Every built page passes axe-core's WCAG 2.0 and 2.1 A/AA rules, light and dark.

axe-core (Deque, MPL-2.0) is the engine of Lighthouse's accessibility audit; the copy
run here is the ``axe.min.js`` that the axe-playwright-python package ships. Each page
is opened from a local server in Debian's Chromium (``browser.py``, ``conftest.py``).
Once its math is typeset, it is audited in light mode, then switched to
dark mode with the theme's own button, as a reader would, and audited again. A failure
names the rule, its impact, and the first few elements that break it.

The site served is ``_build/html``, or the folder that the environment variable
``CNNBOOK_HTML`` names (see ``browser.py``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bookbuild.config import toc_pages
from checks.browser import Visit, check_math

# WCAG 2.0 and 2.1, levels A and AA
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MODES = ("light", "dark")
SHOWN = 5  # offending elements listed per rule
WIDTH, HEIGHT = 1280, 900  # Visit's window


@functools.cache
def _axe_script() -> str:
    """axe-core's browser bundle, as axe-playwright-python ships it."""
    bundle = resources.files("axe_playwright_python") / "axe.min.js"
    return bundle.read_text(encoding="utf-8")


def _visit(browser: Browser, site: str, path: str) -> Visit:
    """Open ``path`` in light mode, in a window as tall as the side bar's contents."""
    stored = [{"name": "mode", "value": "light"}, {"name": "theme", "value": "light"}]
    state = {"cookies": [], "origins": [{"origin": site, "localStorage": stored}]}
    visit = Visit(browser, site, path, width=WIDTH, storage_state=state)
    tab = visit.page
    # The side bar scrolls on its own: in a 900 px window its last entries are
    # clipped, and axe leaves clipped text unchecked. A window as tall as the side
    # bar's contents lets it check every entry.
    sidebar = tab.evaluate(
        "() => { const s = document.querySelector('.bd-sidebar-primary');"
        " return s ? Math.ceil(s.getBoundingClientRect().top + s.scrollHeight) : 0 }"
    )
    if sidebar > HEIGHT:
        # (the theme marks scrolling boxes focusable again 300 ms after a resize; the
        # width is the same, so are the boxes that scroll)
        tab.set_viewport_size({"width": WIDTH, "height": sidebar})
    return visit


def _switch_to(tab: Page, mode: str) -> None:
    """Turn the theme's switch (light, dark, auto) until the page is in ``mode``."""
    button = tab.locator("button.theme-switch-button").first
    for _ in range(3):
        if tab.evaluate("() => document.documentElement.dataset.theme") == mode:
            break
        button.click()
    assert tab.evaluate("() => document.documentElement.dataset.theme") == mode
    # colours are judged as drawn: let any transition of the theme finish first
    tab.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished))")


# axe-core's audit of a page, resolving to its violations. Code (listings, where
# Pygments wraps each token in its own element; inline code; API signatures) is most
# of a page's text elements (3,794 of 4,076 in what-drives-a-decision, 2,434 of 3,421
# in api), and axe's colour-contrast rule, the slowest, takes its time element by
# element. Judged once, a look (colour, size, weight, opacity, shadow, background)
# gets the same verdict every time: so the rule skips an element of code whose look
# an earlier one on the page had, which more than halves the audit
# (what-drives-a-decision: 2.5 s of CPU, then 1.1 s). Only a visible element with a
# letter or digit counts as judged: axe does not judge punctuation alone ("." as an
# operator) or hidden text (a folded cell's). Looks are found anew in each mode. With
# everyToken, the rule as axe-core ships it.
_AUDIT = """async ([tags, everyToken]) => {
    for (const e of document.querySelectorAll('[data-cnnbook-judged]')) {
        e.removeAttribute('data-cnnbook-judged');
    }
    if (!everyToken) {
        const ground = e => {
            for (; e; e = e.parentElement) {
                const colour = getComputedStyle(e).backgroundColor;
                if (colour !== 'rgba(0, 0, 0, 0)') return colour;
            }
            return null;
        };
        const looks = new Set();
        const code = ['div.highlight', 'code', 'dt.sig'].map(c => `${c}, ${c} *`);
        for (const e of document.querySelectorAll(code.join(', '))) {
            const text = [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE
                && /[\\p{L}\\p{N}]/u.test(n.textContent));
            if (!text || !e.checkVisibility({opacityProperty: true})) continue;
            const s = getComputedStyle(e);
            const look = [s.color, s.fontSize, s.fontWeight, s.opacity, s.textShadow,
                          ground(e)].join('|');
            if (looks.has(look)) e.setAttribute('data-cnnbook-judged', '');
            looks.add(look);
        }
        axe.configure({rules: [
            {id: 'color-contrast', selector: '*:not([data-cnnbook-judged])'},
        ]});
    }
    const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
    return (await axe.run(document, options)).violations;
}"""
# CNNBOOK_AXE_EVERY_TOKEN=1 judges every element of code (slower)
EVERY_TOKEN = os.environ.get("CNNBOOK_AXE_EVERY_TOKEN", "") not in ("", "0")


def violations(tab: Page) -> list[dict[str, Any]]:
    """axe-core's violations of TAGS on the page as it is drawn now."""
    if not tab.evaluate("() => typeof window.axe === 'object'"):
        tab.add_script_tag(content=_axe_script())
    found: list[dict[str, Any]] = tab.evaluate(_AUDIT, [TAGS, EVERY_TOKEN])
    return found


def report(found: list[dict[str, Any]]) -> str:
    """One line per broken rule, then the first SHOWN elements that break it."""
    lines = []
    for rule in found:
        nodes = rule["nodes"]
        lines.append(
            f"  {rule['id']} ({rule['impact']}, {len(nodes)} element(s)):"
            f" {rule['help']} <{rule['helpUrl']}>"
        )
        for node in nodes[:SHOWN]:
            target = " >> ".join(map(str, node["target"]))
            # "Fix any (all) of the following:", then one reason a line: the first
            why = (node["failureSummary"].strip().splitlines() + [""])[1].strip()
            lines.append(f"      {target}: {why}")
        if len(nodes) > SHOWN:
            lines.append(f"      ... and {len(nodes) - SHOWN} more")
    return "\n".join(lines)


def audit(
    browser: Browser,
    site: str,
    path: str,
    ready: Callable[[Page], None] | None = None,
) -> str:
    """Audit ``path`` in light mode, then in dark; what failed (empty if nothing).

    ``ready(tab)`` runs on the page once it has loaded, before the audits.
    """
    visit = _visit(browser, site, path)
    try:
        if ready is not None:
            ready(visit.page)
        found = {}
        for mode in MODES:
            _switch_to(visit.page, mode)
            found[mode] = violations(visit.page)
    finally:
        visit.close()
    failures = [
        f"{path} in {mode} mode:\n{report(rules)}"
        for mode, rules in found.items()
        if rules
    ]
    if failures and not EVERY_TOKEN:
        failures.append(
            "(colour contrast of code: one element of each look is judged;"
            " CNNBOOK_AXE_EVERY_TOKEN=1 lists every one)"
        )
    return "\n".join(failures)


@pytest.mark.parametrize("page", toc_pages())
def test_page_meets_wcag_aa_in_light_and_dark_mode(browser, site, page):
    failures = audit(browser, site, f"{page}.html", lambda tab: check_math(tab, page))
    if failures:
        pytest.fail(failures, pytrace=False)


def test_search_results_meet_wcag_aa(browser, site):
    def results_shown(tab):
        tab.locator("#search-results ul.search li").first.wait_for(timeout=15_000)

    failures = audit(browser, site, "search.html?q=MaxPool2d", results_shown)
    if failures:
        pytest.fail(failures, pytrace=False)


def test_the_audit_finds_a_missing_alt_text_and_faint_text_and_code(browser, site):
    # The audit of a page spoilt on purpose must fail, and name what broke: an image
    # without alt text, a faint paragraph, and a faint token in a code cell.
    def spoil(tab):
        tab.evaluate(
            """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('afterbegin',
                '<img id="no-alt" src="../_static/file.png">'
                + '<p id="faint" style="color: #888; background: #999">Grey</p>'
                + '<div class="cell_input"><pre style="background: #999">'
                + '<span class="k">import</span> <span id="faint-code"'
                + ' style="color: #888">torch</span></pre></div>');
        }"""
        )

    failures = audit(browser, site, "book/intro.html", spoil)
    for mode in MODES:
        assert f"book/intro.html in {mode} mode:" in failures, failures
    for name in ("image-alt (critical", "color-contrast (serious"):
        assert failures.count(name) == len(MODES), failures
    for element in ("#no-alt:", "#faint:", "#faint-code:"):
        assert failures.count(element) == len(MODES), failures
