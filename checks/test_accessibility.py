"""Every built page passes axe-core's WCAG 2.0 and 2.1 A/AA rules, light and dark.

axe-core (Deque, MPL-2.0) is the engine of browsers' accessibility panels; the copy
run here is the ``axe.min.js`` that the axe-playwright-python package ships. Each page
is opened from a local server in Debian's Chromium (test_browser.py's browser and
page visit) as a reader who chose light or dark mode sees it (the theme keeps that
choice in localStorage), and audited once its math is typeset. The two modes are
audited side by side, in two tabs, which halves the wait. A failure names the rule,
its impact, and the first few elements that break it.

The site served is ``_build/html``, or the folder that the environment variable
``CNNBOOK_HTML`` names (to audit a copy while a build rewrites the original).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from bookbuild.config import toc_pages
from bookbuild.paths import HTML
from checks.test_browser import CHROMIUM, FLAGS, Visit, _QuietHandler, _wait_for_math

SITE = Path(os.environ.get("CNNBOOK_HTML") or HTML)
# WCAG 2.0 and 2.1, levels A and AA (what EN 301 549 and Section 508 refer to)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MODES = ("light", "dark")
SHOWN = 5  # offending elements listed per rule
WIDTH, HEIGHT = 1280, 900  # Visit's window


@functools.cache
def _axe_script() -> str:
    """axe-core's browser bundle, as axe-playwright-python ships it."""
    bundle = resources.files("axe_playwright_python") / "axe.min.js"
    return bundle.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Serve SITE on a free localhost port; yield its base URL."""
    assert (SITE / "index.html").is_file(), f"{SITE}: run `make book` first"
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, launched as test_browser.py launches it."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: see test_browser.py"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _visit(browser: Browser, site: str, path: str, mode: str) -> Visit:
    """Open ``path`` as a reader whose last choice in the theme switch was ``mode``."""
    stored = [{"name": "mode", "value": mode}, {"name": "theme", "value": mode}]
    state = {"cookies": [], "origins": [{"origin": site, "localStorage": stored}]}
    visit = Visit(browser, site, path, width=WIDTH, storage_state=state)
    tab = visit.page
    assert tab.evaluate("() => document.documentElement.dataset.theme") == mode
    # The side bar scrolls on its own: in a 900 px window its last entries are
    # clipped, and axe leaves clipped text unchecked. A window as tall as the side
    # bar's contents lets it check every entry.
    sidebar = tab.evaluate(
        "() => { const s = document.querySelector('.bd-sidebar-primary');"
        " return s ? Math.ceil(s.getBoundingClientRect().top + s.scrollHeight) : 0 }"
    )
    if sidebar > HEIGHT:
        tab.set_viewport_size({"width": WIDTH, "height": sidebar})
    # colours are judged as drawn: let any transition of the theme finish first
    tab.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished))")
    return visit


# Starts the audit of a page (window.cnnbookAxe awaits its violations), in three runs:
# every rule of TAGS but colour contrast; colour contrast outside the code cells; and
# colour contrast of one token of each look in the code cells. Pygments wraps every
# token of a listing in its own element, four in five of a chapter's text elements, and
# axe costs the same per element: judging each look once (colour, size, weight,
# opacity, shadow, background) gives the same verdict in a fifth of the time. With
# every_token, one run judges every element. Samples have a letter or digit and are
# visible: axe does not judge punctuation alone ("." as an operator) or hidden text (a
# folded cell's), and a look first met there would go unjudged.
_START_AUDIT = """([tags, everyToken]) => {
    const all = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
    let runs = [[document, all]];
    if (!everyToken) {
        const contrast = {
            runOnly: {type: 'rule', values: ['color-contrast']},
            resultTypes: ['violations'],
        };
        const ground = e => {
            for (; e; e = e.parentElement) {
                const colour = getComputedStyle(e).backgroundColor;
                if (colour !== 'rgba(0, 0, 0, 0)') return colour;
            }
            return null;
        };
        const looks = new Set(), samples = [];
        for (const cell of document.querySelectorAll('div.cell_input')) {
            for (const e of [cell, ...cell.querySelectorAll('*')]) {
                const text = [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE
                    && /[\\p{L}\\p{N}]/u.test(n.textContent));
                if (!text || !e.checkVisibility({opacityProperty: true})) continue;
                const s = getComputedStyle(e);
                const look = [s.color, s.fontSize, s.fontWeight, s.opacity,
                              s.textShadow, ground(e)].join('|');
                if (!looks.has(look)) { looks.add(look); samples.push(e); }
            }
        }
        runs = [
            [document, {...all, rules: {'color-contrast': {enabled: false}}}],
            [{exclude: [['div.cell_input']]}, contrast],
        ];
        if (samples.length) runs.push([{include: samples}, contrast]);
    }
    window.cnnbookAxe = (async () => {
        const found = [];
        for (const [context, options] of runs) {
            found.push(...(await axe.run(context, options)).violations);
        }
        return found;
    })();
}"""
# CNNBOOK_AXE_EVERY_TOKEN=1 judges every token of the code cells (slower)
EVERY_TOKEN = os.environ.get("CNNBOOK_AXE_EVERY_TOKEN", "") not in ("", "0")


def start_audit(visit: Visit) -> None:
    """Start axe-core's TAGS audit of the visited page; :func:`violations` awaits it."""
    tab = visit.page
    tab.add_script_tag(content=_axe_script())
    tab.evaluate(_START_AUDIT, [TAGS, EVERY_TOKEN])


def violations(visit: Visit) -> list[dict[str, Any]]:
    """The violations found by the audit :func:`start_audit` started, rule by rule."""
    found: list[dict[str, Any]] = visit.page.evaluate("() => window.cnnbookAxe")
    rules: dict[str, dict[str, Any]] = {}
    for rule in found:  # colour contrast may be found in two runs: one entry
        if rule["id"] in rules:
            rules[rule["id"]]["nodes"] += rule["nodes"]
        else:
            rules[rule["id"]] = rule
    return list(rules.values())


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


def audit(browser: Browser, site: str, path: str, ready: Any = None) -> str:
    """Audit ``path`` in every mode at once; a report of what failed (empty if none).

    ``ready(tab)`` runs on each page before its audit starts.
    """
    visits = []
    try:
        for mode in MODES:
            visits.append(_visit(browser, site, path, mode))
            if ready is not None:
                ready(visits[-1].page)
        for visit in visits:
            start_audit(visit)
        found = {
            mode: violations(visit) for mode, visit in zip(MODES, visits, strict=True)
        }
    finally:
        for visit in visits:
            visit.close()
    return "\n".join(
        f"{path} in {mode} mode:\n{report(rules)}"
        for mode, rules in found.items()
        if rules
    )


@pytest.mark.parametrize("page", toc_pages())
def test_page_meets_wcag_aa_in_light_and_dark_mode(browser, site, page):
    failures = audit(
        browser, site, f"{page}.html", lambda tab: _wait_for_math(tab, page)
    )
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
