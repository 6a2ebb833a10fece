"""The reader's copy-paste path: each chapter's visible code cells, run as one script.

The cells are pasted in order into one plain Python script, which must run in a fresh
interpreter outside Jupyter, without errors and without anything on stderr. Cells
tagged `remove-cell` (the book's own glue) are skipped: a reader never sees them, and
the visible cells need nothing beyond `cnnbook` and its dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bookbuild.config import notebook_pages
from bookbuild.pages import visible_code
from bookbuild.paths import ROOT


@pytest.mark.parametrize(
    "chapter", [ROOT / f"{page}.md" for page in notebook_pages()], ids=lambda p: p.stem
)
def test_chapter_runs_as_a_plain_script(chapter, tmp_path):
    script = tmp_path / f"{chapter.stem}.py"
    script.write_text(visible_code(chapter))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "MPLBACKEND"))
    }
    env["MPLBACKEND"] = "Agg"
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", (
        f"{chapter.name} wrote to stderr:\n{result.stderr[-3000:]}"
    )
    assert result.stdout.strip(), f"{chapter.name} printed nothing"


def test_remove_cells_are_skipped(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "---\njupytext:\n  text_representation:\n"
        "    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n"
        "```{code-cell} ipython3\nshown = 1\n```\n\n"
        "```{code-cell} ipython3\n---\ntags: [remove-cell]\n---\nhidden = 2\n```\n"
    )
    assert visible_code(page) == "shown = 1\n"
