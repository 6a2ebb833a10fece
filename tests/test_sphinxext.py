"""bookbuild/sphinxext: the book's Sphinx extensions, on what Sphinx gives them."""

from __future__ import annotations

from types import SimpleNamespace

from docutils import nodes
from docutils.utils import new_document
from myst_nb.ext.execution_tables import make_stat_table

from bookbuild.sphinxext import exec_table, thebe


def test_exec_table_words_replace_emoji_only_in_the_execution_table():
    # tested with the table myst-nb itself builds
    run = {"mtime": 0, "method": "cache", "runtime": 1.5, "error": None}
    metadata = {
        "book/a": {"exec_data": {**run, "succeeded": True}},
        "book/b": {"exec_data": {**run, "succeeded": False, "error": "boom"}},
    }
    document = new_document("page")
    document += make_stat_table("book/how", metadata)
    other = nodes.table()
    other += nodes.tgroup(
        "", nodes.tbody("", nodes.row("", nodes.entry("", nodes.paragraph(text="✅"))))
    )
    document += other
    exec_table.words_for_emoji(None, document, "book/how")
    statuses = [row.children[-1].astext() for row in document.findall(nodes.row)]
    assert statuses == ["Status", "succeeded", "failed", "✅"]


def test_identical_scripts_are_kept_once_and_different_ones_all():
    def script(filename, **attributes):
        return SimpleNamespace(filename=filename, attributes=attributes)

    scripts = [
        script("a.js"),
        script(None, body="const X = 1"),
        script("", body="const X = 1"),  # the same inline script, added again
        script("a.js", defer="defer"),  # same file, other attributes: kept
        script("a.js"),
    ]
    context = {"script_files": scripts}
    thebe.drop_duplicate_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == [scripts[0], scripts[1], scripts[3]]
