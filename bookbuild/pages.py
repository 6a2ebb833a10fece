"""A page of the book as a notebook, read the way myst-nb reads it."""

from __future__ import annotations

from pathlib import Path

from myst_nb.core.read import read_myst_markdown_notebook
from nbformat import NotebookNode


def read_page(path: Path) -> NotebookNode:
    """The MyST markdown page at ``path`` as a notebook, as myst-nb reads it.

    The notebook (its code cells and kernel) is what myst-nb's execution cache is keyed
    on, so a page read here finds the same cache entry as the build.
    """
    notebook: NotebookNode = read_myst_markdown_notebook(
        path.read_text(encoding="utf-8"), path=str(path)
    )
    return notebook


def visible_code(path: Path) -> str:
    """The code cells of a page that a reader can see, joined into one script.

    Cells tagged ``remove-cell`` (the book's own glue, and the install cell for
    downloaded notebooks) are skipped: a reader of the page never sees them.
    """
    cells = [
        cell.source
        for cell in read_page(path).cells
        if cell.cell_type == "code"
        and "remove-cell" not in cell.metadata.get("tags", [])
    ]
    return "\n\n".join(cells) + "\n"
