"""Installed distributions, reused by a fresh environment as links instead of copies.

The notebook and offline-build checks need environments that have torch and
torchvision (2 GB installed) and nothing else of the book's. They link these, and
what they require, from the book's environment.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement


def distribution_closure(names: tuple[str, ...], skip: set[str]) -> set[str]:
    """``names`` and every distribution they require (in this environment), recursively.

    Distributions in ``skip`` (normalised names) are left out, with what they require.
    """
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen or name in skip:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional or platform-specific requirement that is absent
        seen.add(name)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def top_level_paths(name: str) -> set[Path]:
    """The files and folders that distribution ``name`` puts in site-packages."""
    dist = metadata.distribution(name)
    site = Path(str(dist.locate_file("")))
    paths = set()
    for file in dist.files or []:  # the .dist-info too, so that pip sees it installed
        top = file.parts[0]
        if not top.endswith(".data") and top not in ("..", "__pycache__"):
            paths.add(site / top)
    return {path for path in paths if path.exists()}


def link_distributions(names: Iterable[str], folder: Path) -> None:
    """Link the top-level files and folders of each distribution into ``folder``."""
    for name in names:
        for path in top_level_paths(name):
            link = folder / path.name
            if not link.is_symlink():  # a namespace (nvidia/) may come up twice
                link.symlink_to(path)
