"""bookbuild.sphinxext.math_svg: formulas drawn as SVG when the book is built."""

import re
from xml.etree import ElementTree

import pytest
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from bookbuild.sphinxext import math_svg


def _attributes(svg: str) -> dict[str, str]:
    return ElementTree.fromstring(svg).attrib


def test_a_formula_is_an_svg_in_em_on_the_baseline_in_the_text_colour():
    svg = math_svg.render(r"y = \frac{x}{2}")
    attributes = _attributes(svg)
    assert attributes["role"] == "img"
    assert attributes["aria-label"] == r"y = \frac{x}{2}"
    assert re.fullmatch(r"\d+\.\d{3}em", attributes["width"])
    assert re.fullmatch(r"\d+\.\d{3}em", attributes["height"])
    assert "currentColor" in svg and "black" not in svg
    assert " id=" not in svg and "<use" not in svg, "ids would repeat across a page"


def test_letters_below_the_baseline_sit_lower():
    def depth(latex: str) -> float:
        style = _attributes(math_svg.render(latex))["style"]
        match = re.fullmatch(r"vertical-align: (-?[\d.]+)em", style)
        assert match, style
        return -float(match[1])

    assert depth("y") > depth("x") >= 0
    assert depth(r"\frac{a}{b}") > depth("x")


def test_display_math_is_set_larger_than_inline_math():
    def height(latex: str, display: bool) -> float:
        return float(_attributes(math_svg.render(latex, display))["height"][:-2])

    assert height(r"\frac{a}{b}", True) > height(r"\frac{a}{b}", False)


def test_aligned_rows_stack():
    one = float(_attributes(math_svg.render("a = b", True))["height"][:-2])
    two = math_svg.render(r"\begin{aligned}a &= b \\ c &= d\end{aligned}", True)
    assert float(_attributes(two)["height"][:-2]) > 2 * one  # rows apart


@pytest.mark.parametrize(
    ("latex", "message"),
    [
        (r"\unknowncmd x + \alpha", r"uses \\unknowncmd, which ziamath does not know"),
        ("x^{", r"cannot draw the formula 'x\^\{'"),
        ("  ", "an empty formula"),
    ],
)
def test_a_formula_it_cannot_draw_fails_the_build_naming_it(latex, message):
    with pytest.raises(ExtensionError, match=message):
        math_svg.render(latex)


def test_sphinx_writes_the_formulas_in_place_of_mathjax(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        "extensions = ['bookbuild.sphinxext.math_svg']\n"
        "html_math_renderer = 'svg'\n"
        "math_number_all = False\n"
    )
    (source / "index.rst").write_text(
        "Title\n=====\n\nInline :math:`x^2` math.\n\n"
        ".. math::\n   :label: area\n\n   A = \\pi r^2\n\n"
        ".. math::\n\n   a = 1\n\n   b = 2\n"
    )
    app = Sphinx(
        str(source),
        str(source),
        str(tmp_path / "out"),
        str(tmp_path / "doctrees"),
        "html",
        status=None,
        warning=None,
        freshenv=True,
    )
    app.build()
    html = (tmp_path / "out" / "index.html").read_text()
    assert "mathjax" not in html.lower()
    assert re.search(
        r'<span class="math notranslate"><svg [^>]*aria-label="x\^2"', html
    )
    assert re.search(
        r'<div class="math notranslate" id="equation-area">\s*'
        r'<span class="eqno">\(1\)<a class="headerlink" href="#equation-area"',
        html,
    )
    assert 'aria-label="\\pi r^2"' not in html and 'aria-label="A = \\pi r^2"' in html
    assert r'aria-label="\begin{aligned}a = 1\\b = 2\end{aligned}"' in html
