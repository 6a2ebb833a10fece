"""bookbuild/config.py: the pages and settings come from _toc.yml and _config.yml."""

from __future__ import annotations

import pytest

from bookbuild.config import cell_timeout, notebook_pages, toc_pages
from bookbuild.paths import ROOT


def _book(tmp_path, config="execute:\n  timeout: 30\n"):
    (tmp_path / "_config.yml").write_text(config)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: prose.md\n      - file: code\n"
    )
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "prose.md").write_text("# Prose\n")
    (tmp_path / "code.md").write_text("# Code\n\n```{code-cell} ipython3\n1\n```\n")
    return tmp_path


def test_pages_in_toc_order_without_suffix(tmp_path):
    root = _book(tmp_path)
    assert toc_pages(root) == ["intro", "prose", "code"]
    assert notebook_pages(root) == ["code"]


def test_the_timeout_is_read_from_the_config(tmp_path):
    assert cell_timeout(_book(tmp_path)) == 30


@pytest.mark.parametrize("value", ["0", "-5", "'300'", "true", "null"])
def test_a_bad_timeout_names_the_setting(tmp_path, value):
    root = _book(tmp_path, f"execute:\n  timeout: {value}\n")
    with pytest.raises(ValueError, match="execute: timeout: must be a positive int"):
        cell_timeout(root)


def test_the_book_itself():
    pages = toc_pages()
    assert pages[0] == "book/intro" and "book/api" in pages
    assert "book/api" not in notebook_pages()
    assert (ROOT / "_config.yml").is_file()
