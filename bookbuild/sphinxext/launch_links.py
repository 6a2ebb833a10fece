"""Sphinx extension: the Colab and Binder buttons open the chapter's executed notebook.

sphinx-book-theme points both launch buttons at the page's source on the repository's
main branch, ``book/<page>.md``. Colab opens only ``.ipynb`` files (jupyter-book#752),
and Binder would build its environment from the book's own ``requirements.txt`` (CUDA
torch, Playwright, pytest, Jupyter Book) for a reader who wants to run one chapter.

So the publishing workflow (``.github/workflows/book.yml``) pushes the notebooks that
the build exports (``_build/notebooks/book/<page>.ipynb``) and the ``binder/`` folder
(a small CPU-only environment) to the branch named by :data:`NOTEBOOK_BRANCH`, and this
extension points each page's buttons there. Colab gets
``https://colab.research.google.com/github/<org>/<repo>/blob/notebooks/<page>.ipynb``,
and Binder ``https://mybinder.org/v2/gh/<org>/<repo>/notebooks`` with the query
``?urlpath=lab/tree/<page>.ipynb``, where ``<page>`` is the page's name, such as
``book/output-size``. ``<org>/<repo>`` come from the one repository setting,
``repository: url:`` in ``_config.yml``; the Colab and Binder addresses and the
notebook interface from ``launch_buttons:``. A page with no code cell (nothing to run)
loses its launch buttons.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: The branch that holds the exported notebooks and ``binder/``, written by the
#: publishing workflow; its name appears there too.
NOTEBOOK_BRANCH = "notebooks"

# The path JupyterLab or the classic interface opens a file under, as the theme has it.
INTERFACE_PREFIXES = {"classic": "tree", "jupyterlab": "lab/tree"}


def github_repository(url: str) -> tuple[str, str]:
    """The ``(org, repo)`` of a ``https://github.com/<org>/<repo>`` URL."""
    parts = urlsplit(url)
    path = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.netloc != "github.com" or len(path) != 2 or not all(path):
        raise ExtensionError(
            "launch_links: the repository URL must be https://github.com/<org>/<repo>"
            f" (Colab and Binder open notebooks from GitHub), not {url!r}"
        )
    return path[0], path[1]


def launch_urls(
    pagename: str, repository_url: str, launch_buttons: dict[str, Any]
) -> dict[str, str]:
    """The Colab and Binder URLs of a page's exported notebook, by button text."""
    org, repo = github_repository(repository_url)
    notebook = f"{pagename}.ipynb"
    colab = launch_buttons.get("colab_url", "").strip("/")
    binder = launch_buttons.get("binderhub_url", "").strip("/")
    interface = launch_buttons.get("notebook_interface", "classic")
    if interface not in INTERFACE_PREFIXES:
        raise ExtensionError(
            f"launch_links: notebook_interface must be one of "
            f"{sorted(INTERFACE_PREFIXES)}, not {interface!r}"
        )
    urls = {}
    if colab:
        urls["Colab"] = f"{colab}/github/{org}/{repo}/blob/{NOTEBOOK_BRANCH}/{notebook}"
    if binder:
        urls["Binder"] = (
            f"{binder}/v2/gh/{org}/{repo}/{NOTEBOOK_BRANCH}"
            f"?urlpath={INTERFACE_PREFIXES[interface]}/{notebook}"
        )
    return urls


def has_code_cell(doctree: nodes.document | None) -> bool:
    """Whether myst-nb rendered a code cell on the page (hidden ones count)."""
    if doctree is None:
        return False
    return any(
        node.get("nb_element") == "cell_code"
        for node in doctree.findall(nodes.container)
    )


def rewrite_launch_buttons(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    """Point the theme's Colab and Binder buttons at the page's exported notebook."""
    header_buttons = context.get("header_buttons", [])
    group = next(
        (b for b in header_buttons if b.get("label") == "launch-buttons"), None
    )
    if group is None:
        return
    if not has_code_cell(doctree):
        header_buttons.remove(group)
        return
    options = app.config.html_theme_options
    urls = launch_urls(
        pagename, options["repository_url"], options.get("launch_buttons", {})
    )
    for button in group["buttons"]:
        if button.get("type") != "link":
            continue
        if button["text"] not in urls:
            raise ExtensionError(
                f"launch_links: no notebook URL for the {button['text']} button;"
                " only Colab and Binder open the exported notebooks"
            )
        button["url"] = urls[button["text"]]


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the launch-button rewrite, after the theme has built the buttons."""
    # The theme builds the buttons at priority 501; rewrite them after.
    app.connect("html-page-context", rewrite_launch_buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
