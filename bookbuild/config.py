"""The pages of the book, in table-of-contents order.

This is the order in which the checks and the benchmark see them.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from myst_nb.core.read import read_myst_markdown_notebook

ROOT = Path(__file__).resolve().parents[1]


def toc_pages() -> list[str]:
    """Return every page listed in `_toc.yml` (root first), without its file suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        pages.extend(entry["file"] for entry in part["chapters"])
    return [page.removesuffix(".md") for page in pages]


def notebook_pages() -> list[str]:
    """The pages that are notebooks (they have code cells), in toc order."""
    return [
        page
        for page in toc_pages()
        if "```{code-cell}" in (ROOT / f"{page}.md").read_text()
    ]


def visible_code(path: Path) -> str:
    """The code cells of a MyST notebook that a reader can see, joined into one script.

    Cells tagged `remove-cell` (the book's own glue, and the install cell for downloaded
    notebooks) are skipped: a reader of the page never sees them.
    """
    notebook = read_myst_markdown_notebook(
        path.read_text(encoding="utf-8"), path=str(path)
    )
    cells = [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code"
        and "remove-cell" not in cell.metadata.get("tags", [])
    ]
    return "\n\n".join(cells) + "\n"
