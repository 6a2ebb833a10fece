"""Sphinx extension: MathJax is served from the site itself, not from a CDN.

The files come from the PyPI package ``sphinx-mathjax-offline`` (MathJax 3,
installed with the requirements). Its own extension copies all 24 MB of MathJax; this
one copies only what the book's pages load: the TeX-to-CommonHTML bundle, the TeX
extensions it may load on demand, and the web fonts. ``_config.yml`` points
``mathjax_path`` at the copy.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util.fileutil import copy_asset

PACKAGE = "sphinx-mathjax-offline"
WANTED = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2")


def mathjax_source() -> Path:
    """The installed MathJax folder, found through the package's file list."""
    for file in metadata.files(PACKAGE) or ():
        if file.name == "tex-chtml.js" and file.parent.name == "mathjax":
            return Path(file.locate()).parent
    raise RuntimeError(
        f"{PACKAGE} has no mathjax/tex-chtml.js: reinstall requirements.txt"
    )


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy the MathJax subset into ``_static/mathjax``.

    It does so only after a successful HTML build.
    """
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for item in WANTED:
        destination = target / item
        if (source / item).is_dir():
            copy_asset(source / item, destination)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            copy_asset(source / item, destination.parent)


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the copy, run once the HTML build has finished."""
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
