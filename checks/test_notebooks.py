"""Each chapter's downloadable .ipynb runs on its own, outside the book's folder.

The theme offers the executed notebook at _build/html/_sources/book/<page>.ipynb. Its
first code cell installs cnnbook from the repository when it is missing; here cnnbook is
installed, so the test shows that the rest needs nothing from the book: no relative
paths, no book machinery.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
import yaml
from book_toc import ROOT, notebook_pages
from nbclient import NotebookClient

SOURCES = ROOT / "_build" / "html" / "_sources"
NOTEBOOKS = notebook_pages()


def _repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"]


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_downloaded_notebook_starts_by_installing_cnnbook(page):
    path = SOURCES / f"{page}.ipynb"
    assert path.is_file(), f"{path} is missing: the page offers no .ipynb download"
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert 'find_spec("cnnbook") is None' in first.source
    assert f'%pip install --quiet "cnnbook @ git+{_repository_url()}"' in first.source


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_downloaded_notebook_runs_on_its_own(page, tmp_path):
    path = shutil.copy(SOURCES / f"{page}.ipynb", tmp_path / "chapter.ipynb")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [
        out
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]
    assert not errors
