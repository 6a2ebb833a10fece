"""The chapters' sources: what a reader's copy of the code can rely on.

Cells tagged ``remove-cell`` are dropped from the downloadable notebooks and from the
code a reader copies (``bookbuild.pages.visible_code``), so they may glue values for
the prose but must not define anything a later kept cell uses. The site checks find
such a slip by running every chapter (checks/test_snippets.py and
checks/test_notebooks.py); this test finds it in a second, from the sources alone.
"""

from __future__ import annotations

import ast

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from bookbuild.config import notebook_pages
from bookbuild.pages import read_page
from bookbuild.paths import ROOT


def _bound_and_loaded(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds, and those it reads before binding them in the cell."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    loaded = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return bound, loaded - bound


def hidden_names_used(page: str) -> list[tuple[int, str]]:
    """``(cell index, name)`` for each kept cell's use of a name that only a
    ``remove-cell`` cell (other than the install cell) defined."""
    cells = [c for c in read_page(ROOT / f"{page}.md").cells if c.cell_type == "code"]
    hidden: set[str] = set()
    found = []
    for index, cell in enumerate(cells):
        bound, loaded = _bound_and_loaded(cell.source)
        if "remove-cell" in cell.metadata.get("tags", []):
            if index:  # the install cell is kept in the downloaded notebooks
                hidden |= bound
            continue
        found += [(index, name) for name in sorted(loaded & hidden)]
        hidden -= bound
    return found


@pytest.mark.parametrize("page", notebook_pages())
def test_kept_cells_use_nothing_that_only_a_removed_cell_defines(page):
    assert hidden_names_used(page) == []


def test_the_check_finds_a_name_defined_only_in_a_removed_cell(tmp_path, monkeypatch):
    page = tmp_path / "book" / "p.md"
    page.parent.mkdir()
    page.write_text(
        "```{code-cell} ipython3\nimport cnnbook\n```\n\n"
        "```{code-cell} ipython3\n---\ntags: [remove-cell]\n---\n"
        "secret = 1\nshown = 2\nglue('x', secret)\n```\n\n"
        "```{code-cell} ipython3\nshown = 3\nprint(shown)\n```\n\n"
        "```{code-cell} ipython3\nassert secret == 1 and len(shown)\n```\n"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert hidden_names_used("book/p") == [(3, "secret")]
