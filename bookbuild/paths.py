"""Where the book's sources and build outputs are: the one definition of each path."""

from __future__ import annotations

from pathlib import Path

#: The repository root: ``_config.yml``, ``_toc.yml``, ``book/`` and ``cnnbook/``.
ROOT = Path(__file__).resolve().parent.parent
#: Jupyter Book's output folder.
BUILD = ROOT / "_build"
#: myst-nb's execution cache, which :mod:`bookbuild.cache` keeps honest.
CACHE = BUILD / ".jupyter_cache"
#: Where myst-nb writes each executed page's outputs and glue values.
EXECUTED = BUILD / "jupyter_execute"
#: The built site.
HTML = BUILD / "html"
#: The exported notebooks (:mod:`bookbuild.export_notebooks`).
NOTEBOOKS = BUILD / "notebooks"
