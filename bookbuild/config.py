"""The book's configuration: the pages of ``_toc.yml``, the settings of ``_config.yml``.

Everything that needs the page list or a setting reads it here, so that the build, the
checks and the benchmarks see the same pages in the same (table-of-contents) order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bookbuild.paths import ROOT


def book_config(root: Path = ROOT) -> dict[str, Any]:
    """``_config.yml`` as a mapping."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config if isinstance(config, dict) else {}


def cell_timeout(root: Path = ROOT) -> int:
    """Seconds a cell may run, ``execute: timeout:`` in ``_config.yml``."""
    timeout = (book_config(root).get("execute") or {}).get("timeout")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise ValueError(
            f"_config.yml: execute: timeout: must be a positive int, got {timeout!r}"
        )
    return timeout


def site_url(root: Path = ROOT) -> str:
    """The book's published URL, ``html: baseurl:`` in ``_config.yml`` (or ``""``)."""
    html = book_config(root).get("html") or {}
    return str(html.get("baseurl") or "").rstrip("/")


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page listed in ``_toc.yml`` (root first), without its file suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        pages.extend(entry["file"] for entry in part["chapters"])
    return [page.removesuffix(".md") for page in pages]


def notebook_pages(root: Path = ROOT) -> list[str]:
    """The pages that are notebooks (they have code cells), in toc order."""
    return [
        page
        for page in toc_pages(root)
        if "```{code-cell}" in (root / f"{page}.md").read_text(encoding="utf-8")
    ]
