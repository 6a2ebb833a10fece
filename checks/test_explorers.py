"""The interactive figures in the built site, operated in Chromium.

Each explorer is driven with the mouse and with the keyboard, and what it shows is
compared with what the page computed at build time: the values the page glued (from
its own tensors), or :func:`cnnbook.conv_output_size` itself. Nothing may be fetched
from outside localhost, and nothing may be logged as an error.
"""

from __future__ import annotations

import ast
import itertools
import json

import pytest

from bookbuild.export_notebooks import load_glue
from bookbuild.paths import NOTEBOOKS
from checks.browser import Visit
from cnnbook import SIZE_RANGES, conv_output_size


def _glued(page: str, key: str) -> object:
    """A value the page glued as JSON text."""
    return json.loads(ast.literal_eval(load_glue(page)[key]))


def _open(browser, site, page: str, kind: str, **options):
    visit = Visit(browser, site, f"{page}.html", **options)
    figure = visit.page.locator(f"figure.cnnbook-explorer[data-kind='{kind}']")
    assert figure.count() == 1, f"{page}: expected one {kind} explorer"
    live = figure.locator(".cx-live")
    live.scroll_into_view_if_needed()
    assert live.is_visible() and figure.locator(".cx-fallback").is_hidden()
    return visit, figure, live


def _clean(visit: Visit) -> None:
    assert not visit.outside, f"requests left localhost: {visit.outside}"
    assert not visit.failed, f"failed requests: {visit.failed}"
    assert not visit.errors, f"console errors: {visit.errors}"


def test_slide_the_kernel_shows_the_pages_own_outputs(browser, site):
    page = "book/convolution-by-hand"
    expected = _glued(page, "explorer_outputs")  # the chapter's loops, 6 x 6
    visit, figure, live = _open(browser, site, page, "kernel")
    try:
        tab = visit.page
        seen = []

        def record() -> None:
            step = int(live.get_attribute("data-step"))
            shown = live.locator(".cx-output .cx-on").inner_text()
            products = live.locator(".cx-products .cx-cell").all_inner_texts()
            window = live.locator(".cx-input .cx-on").all_inner_texts()
            kernel = live.locator(".cx-kernel .cx-cell").all_inner_texts()
            status = live.locator(".cx-status").inner_text()
            value = live.get_attribute("data-value")
            seen.append((step, value, shown, products, window, kernel))
            assert shown in status

        record()
        next_step = figure.get_by_role("button", name="next step")
        for _ in range(3):  # the mouse
            next_step.click()
            record()
        figure.get_by_role("button", name="last step").click()
        record()
        slider = figure.get_by_role("slider", name="step")
        slider.focus()  # the keyboard: the slider's own keys ...
        tab.keyboard.press("Home")
        tab.keyboard.press("ArrowRight")
        record()
        next_step.focus()  # ... and the arrow keys anywhere in the figure
        tab.keyboard.press("ArrowRight")
        record()
        outline = next_step.evaluate("e => getComputedStyle(e).outlineStyle")
        tab.keyboard.press("End")
        record()
    finally:
        visit.close()
    _clean(visit)
    assert [step for step, *_ in seen] == [0, 1, 2, 3, 35, 1, 2, 35]
    assert outline != "none", "a focused button must show its focus"
    for step, value, shown, products, window, kernel in seen:
        assert abs(float(value) - expected[step]) <= 1e-5, (step, value)
        assert shown == _two_decimals(expected[step])
        assert len(window) == len(kernel) == len(products) == 9
        # the page rounds its patch to two decimals so that a reader can check every
        # product and sum by hand: they must add up exactly as shown
        by_hand = [float(w) * float(k) for w, k in zip(window, kernel, strict=True)]
        assert products == [_two_decimals(p) for p in by_hand], (step, products)
        assert _two_decimals(sum(map(float, products))) == shown, step


def _two_decimals(value: float) -> str:
    return f"{value:.2f}".replace("-0.00", "0.00")


def _read_all_settings(live) -> list[list[str]]:
    """Set every combination of the sliders, as a reader would, and read the result."""
    return live.evaluate(
        """(root) => {
        const sliders = [...root.querySelectorAll("input[type=range]")];
        const ranges = sliders.map((s) => [Number(s.min), Number(s.max)]);
        const rows = [];
        const visit = (i, values) => {
            if (i === sliders.length) {
                values.forEach((v, j) => {
                    sliders[j].value = v;
                    sliders[j].dispatchEvent(new Event("input"));
                });
                rows.push([root.dataset.setting, root.dataset.output,
                    root.dataset.error, root.dataset.windows,
                    String(root.querySelectorAll(".cx-svg-tap").length),
                    root.querySelector(".cx-formula").textContent]);
                return;
            }
            for (let v = ranges[i][0]; v <= ranges[i][1]; v++) {
                visit(i + 1, values.concat([v]));
            }
        };
        visit(0, []);
        return rows;
    }"""
    )


def test_output_size_explorer_agrees_with_conv_output_size(browser, site):
    visit, figure, live = _open(browser, site, "book/output-size", "output-size")
    try:
        tab = visit.page
        first = live.get_attribute("data-setting")
        size = figure.get_by_role("slider", name="size n", exact=True)
        size.focus()  # the keyboard
        tab.keyboard.press("ArrowRight")
        after_key = (
            live.get_attribute("data-setting"),
            live.get_attribute("data-output"),
        )
        box = size.bounding_box()  # the mouse: the right end of the track
        tab.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        after_click = live.get_attribute("data-setting")
        announced = live.locator(".cx-status").inner_text()
        rows = _read_all_settings(live)
    finally:
        visit.close()
    _clean(visit)
    assert first == "7,3,1,0,1"
    assert after_key == ("8,3,1,0,1", str(conv_output_size(8, 3)))
    assert after_click.startswith(f"{SIZE_RANGES['size'][1]},")
    assert announced.startswith("Output size")
    ranges = [range(low, high + 1) for low, high in SIZE_RANGES.values()]
    settings = list(itertools.product(*ranges))
    assert len(rows) == len(settings) >= 500
    refused = 0
    for (n, k, s, p, d), row in zip(settings, rows, strict=True):
        setting, output, error, windows, taps, formula = row
        assert setting == f"{n},{k},{s},{p},{d}"
        try:
            expected = conv_output_size(n, k, stride=s, padding=p, dilation=d)
        except ValueError as exc:
            refused += 1
            assert (output, error, formula) == ("", f"ValueError: {exc}", error)
            assert windows == taps == "0"
            continue
        assert (output, error) == (str(expected), "")
        assert (windows, taps) == (str(expected), str(expected * k))
        # the formula, with the reader's numbers, evaluates to the size shown
        assert formula == (
            f"r = {n} + 2·{p} − {d}·({k} − 1) − 1 = {n + 2 * p - d * (k - 1) - 1}; "
            f"⌊{n + 2 * p - d * (k - 1) - 1} / {s}⌋ + 1 = {expected}"
        )
    assert 0 < refused < len(settings)


def test_feature_map_explorer_shows_the_chosen_map(browser, site):
    page = "book/cnn-in-pytorch"
    ranges = _glued(page, "explorer_ranges")  # stage -> channel -> [min, max]
    visit, figure, live = _open(browser, site, page, "feature-maps")
    try:
        tab = visit.page
        seen = []

        def record() -> None:
            picture = live.locator("img.cx-map")
            seen.append(
                (
                    live.get_attribute("data-stage"),
                    int(live.get_attribute("data-channel")),
                    float(live.get_attribute("data-min")),
                    float(live.get_attribute("data-max")),
                    live.locator(".cx-stats").inner_text(),
                    picture.evaluate("e => [e.naturalWidth, e.naturalHeight]"),
                    live.locator(".cx-weights .cx-cell").count(),
                )
            )

        record()
        figure.get_by_role("radio", name="3").click()  # the mouse
        record()
        figure.get_by_role("radio", name="ReLU", exact=True).click()
        record()
        figure.get_by_role("radio", name="ReLU", exact=True).focus()  # the keyboard
        tab.keyboard.press("ArrowRight")
        record()
        figure.get_by_role("radio", name="3").focus()
        tab.keyboard.press("ArrowRight")
        record()
    finally:
        visit.close()
    _clean(visit)
    assert [(stage, channel) for stage, channel, *_ in seen] == [
        ("conv", 0),
        ("conv", 3),
        ("ReLU", 3),
        ("LeakyReLU", 3),
        ("LeakyReLU", 4),
    ]
    for stage, channel, low, high, stats, size, cells in seen:
        want_low, want_high = ranges[stage][channel]
        assert abs(low - want_low) <= 1e-6 and abs(high - want_high) <= 1e-6
        assert stats.startswith(f"min {want_low:.3g} · max {want_high:.3g} · ")
        assert size == [256, 256]  # the map at full resolution
        assert cells == 3 * 9 + 1  # three 3 x 3 planes of weights and the bias
    assert ranges["ReLU"][3][0] == 0.0  # ReLU leaves no negative value


EXPLORER_PAGES = {
    "book/cnn-in-pytorch": "feature-maps",
    "book/convolution-by-hand": "kernel",
    "book/output-size": "output-size",
}


@pytest.mark.parametrize("page, kind", EXPLORER_PAGES.items())
def test_explorer_runs_alone_from_the_readers_notebook(browser, page, kind):
    """The downloaded notebook carries the explorer as an HTML output; alone in an
    empty page, as Colab shows each output, it starts, with no request at all."""
    notebook = json.loads((NOTEBOOKS / f"{page}.ipynb").read_text(encoding="utf-8"))
    fragments = [
        "".join(output["data"]["text/html"])
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "cnnbook-explorer" in "".join(output.get("data", {}).get("text/html", ""))
    ]
    assert len(fragments) == 1, f"{page}: expected one explorer output"
    context = browser.new_context(viewport={"width": 400, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    try:
        tab = context.new_page()
        tab.on("request", lambda request: requests.append(request.url))
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.set_content(f"<!doctype html><main>{fragments[0]}</main>")
        figure = tab.locator(f"figure.cnnbook-explorer[data-kind='{kind}']")
        started = figure.get_attribute("data-started")
        shown = figure.locator(".cx-live").is_visible()
        width = tab.evaluate("() => document.documentElement.scrollWidth")
    finally:
        context.close()
    assert not errors and not requests, (errors, requests)
    assert started == "true" and shown
    assert width <= 400, f"{page}: the explorer is {width} px wide on a phone"


@pytest.mark.parametrize("page, kind", EXPLORER_PAGES.items())
def test_explorer_falls_back_to_a_picture_without_scripts(browser, site, page, kind):
    """Where scripts do not run (an untrusted notebook, a reader who blocks them), the
    static picture shows, described, and the empty live figure stays hidden."""
    visit = Visit(browser, site, f"{page}.html", java_script_enabled=False)
    try:
        figure = visit.page.locator(f"figure.cnnbook-explorer[data-kind='{kind}']")
        picture = figure.locator(".cx-fallback img")
        picture.scroll_into_view_if_needed()
        shown = picture.is_visible() and figure.locator(".cx-live").is_hidden()
        width = picture.evaluate("e => e.naturalWidth")
        alt = picture.get_attribute("alt")
        caption = figure.locator("figcaption").inner_text()
    finally:
        visit.close()
    assert not visit.outside  # (the theme's script preloads fail: scripts are off)
    assert shown and width > 0
    assert len(alt) >= 20 and caption
