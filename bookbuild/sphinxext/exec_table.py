"""Sphinx extension: myst-nb's execution table says "succeeded" or "failed" in words.

The table (the ``nb-exec-table`` directive) marks each page with the emoji ✅ or ❌,
which shows as an empty box where the reader has no emoji font.

Only that table is changed. myst-nb gives it no class or id of its own (its one
class, ``colwidths-auto``, is shared with other tables), and the placeholder node
that marks it is gone once it is resolved, so the table is recognised by its header
row, which myst-nb writes as "Document | Modified | Method | Run Time (s) | Status"
(:data:`HEADER`); only the cells of its Status column whose whole text is ✅ or ❌
are replaced. A table of the book's own with that exact header would be changed too.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

WORDS = {"✅": "succeeded", "❌": "failed"}

#: The header row of myst-nb's execution table (``myst_nb.ext.execution_tables``).
HEADER = ("Document", "Modified", "Method", "Run Time (s)", "Status")


def _cells(row: nodes.row) -> list[nodes.entry]:
    return [entry for entry in row.children if isinstance(entry, nodes.entry)]


def is_execution_table(table: nodes.table) -> bool:
    """Whether ``table`` is the one myst-nb's ``nb-exec-table`` generates."""
    heads = list(table.findall(nodes.thead))
    rows = [row for head in heads for row in head.findall(nodes.row)]
    return len(rows) == 1 and tuple(e.astext() for e in _cells(rows[0])) == HEADER


def words_for_emoji(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """In the execution table, replace the Status column's ✅ or ❌ with a word."""
    status = HEADER.index("Status")
    for table in doctree.findall(nodes.table):
        if not is_execution_table(table):
            continue
        for body in table.findall(nodes.tbody):
            for row in body.findall(nodes.row):
                cells = _cells(row)
                if len(cells) != len(HEADER):
                    continue
                for text in list(cells[status].findall(nodes.Text)):
                    if text.astext() in WORDS:
                        text.parent.replace(text, nodes.Text(WORDS[text.astext()]))


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the emoji-to-word swap, run on each page's resolved doctree."""
    app.connect("doctree-resolved", words_for_emoji)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
