"""Sphinx extension: formulas drawn when the book is built, not in the reader's browser.

MathJax typesets TeX on the reader's device: a 1 MB script that, on a phone, holds the
page for half a second or more. This extension registers the HTML math renderer
``svg`` (``html_math_renderer`` in ``_config.yml``), which draws each formula at build
time with ziamath (pure Python, its own STIX Two Math font) as an inline SVG of paths.
A page then needs no script and no font to show its math, and looks the same on every
device. Each SVG:

- is sized in ``em``, so it follows the text around it, and sits on the text's
  baseline (``vertical-align``);
- is drawn in ``currentColor``, so it follows light and dark mode;
- has ``role="img"`` and its TeX as its ``aria-label``, which screen readers read.

Inline math keeps Sphinx's ``<span class="math">`` and display math its
``<div class="math">``; numbered equations keep their number and permalink.
"""

from __future__ import annotations

import functools
import html
import re
import warnings
from xml.etree import ElementTree

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.locale import _
from sphinx.util.math import get_node_equation_number
from sphinx.writers.html5 import HTML5Translator

with warnings.catch_warnings():
    # ziamath 0.13 finds its font with importlib.resources.path, which Python 3.11
    # and 3.12 call deprecated
    warnings.filterwarnings("ignore", "path is deprecated", DeprecationWarning)
    from ziamath.config import config as ziamath_config
    from ziamath.tex import tex2mml
    from ziamath.zmath import Math

#: Pixels per em in ziamath's drawing; the SVG is scaled to the text's size.
SIZE = 20.0
#: The formulas' size relative to the text: STIX Two's letters run small beside the
#: theme's sans-serif, as MathJax's do (it scales them too).
SCALE = 1.1
#: The room between the rows of ``aligned``: ziamath stacks rows by their ink, so
#: amsmath's 3pt leaves a row without tall letters touching the one above.
ROW_SPACING = "0.6em"
#: A TeX command in ziamath's MathML: one it does not know, which it would draw as text.
_UNKNOWN = re.compile(r"\\[A-Za-z]+")


@functools.cache
def render(latex: str, display: bool = False) -> str:
    """``latex`` as an inline ``<svg>`` element, sized in ``em`` and drawn in
    ``currentColor``.

    Raises ``ExtensionError`` naming the formula when ziamath cannot read it.
    """
    if not latex.strip():
        raise ExtensionError("an empty formula: write something between the $ signs")
    ziamath_config.svg2 = False  # paths inline: no ids that repeat across a page
    try:
        mathml = ElementTree.fromstring(tex2mml(latex, inline=not display))
        mathml.set("mathcolor", "currentColor")
        for element in mathml.iter():
            if element.tag.rpartition("}")[2] == "mtable":  # in MathML's namespace
                element.set("rowspacing", ROW_SPACING)
        svg = Math(mathml, size=SIZE).svgxml()
    except Exception as error:  # ziamath raises plain exceptions of many kinds
        raise ExtensionError(f"cannot draw the formula {latex!r}: {error!r}") from error
    unknown = {
        command
        for element in mathml.iter()
        for command in _UNKNOWN.findall(element.text or "")
    }
    if unknown:
        raise ExtensionError(
            f"the formula {latex!r} uses {', '.join(sorted(unknown))}, "
            "which ziamath does not know"
        )
    em = SCALE / SIZE
    width, height = float(svg.attrib["width"]), float(svg.attrib["height"])
    depth = height + float(svg.attrib["viewBox"].split()[1])  # below the baseline
    svg.attrib.update(
        {
            "width": f"{width * em:.3f}em",
            "height": f"{height * em:.3f}em",
            "style": f"vertical-align: {-depth * em:.3f}em",
            "role": "img",
            "aria-label": " ".join(latex.split()),
            "focusable": "false",
        }
    )
    svg.attrib.pop("xmlns:xlink", None)
    return ElementTree.tostring(svg, encoding="unicode", short_empty_elements=True)


def visit_math(self: HTML5Translator, node: nodes.math) -> None:
    """Inline math: ``<span class="math">`` around the drawn formula."""
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
    self.body.append(render(node.astext()) + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self: HTML5Translator, node: nodes.math_block) -> None:
    """Display math: ``<div class="math">`` with the equation's number, if any."""
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({html.escape(str(number))})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    if len(parts) > 1 and not node["nowrap"]:  # equations in a row, as Sphinx aligns
        latex = "\\begin{aligned}" + "\\\\".join(parts) + "\\end{aligned}"
    else:
        latex = node.astext()
    self.body.append(render(latex, display=True) + "</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the ``svg`` math renderer."""
    app.add_html_math_renderer("svg", (visit_math, None), (visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
