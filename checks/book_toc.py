"""The pages of the book, in table-of-contents order, as the checks see them."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_pages() -> list[str]:
    """Return every page listed in `_toc.yml` (root first), without its file suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        pages.extend(entry["file"] for entry in part["chapters"])
    return [page.removesuffix(".md") for page in pages]
