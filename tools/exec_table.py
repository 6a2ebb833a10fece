"""Sphinx extension: myst-nb's execution table says "succeeded" or "failed" in words.

The table (the ``nb-exec-table`` directive) marks each page with the emoji ✅ or ❌,
which shows as an empty box where the reader has no emoji font.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

WORDS = {"✅": "succeeded", "❌": "failed"}


def words_for_emoji(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each table cell's lone ✅ or ❌ with a word."""
    for table in doctree.findall(nodes.table):
        for text in list(table.findall(nodes.Text)):
            if text.astext() in WORDS:
                text.parent.replace(text, nodes.Text(WORDS[text.astext()]))


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("doctree-resolved", words_for_emoji)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
