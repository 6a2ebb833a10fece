"""Sphinx extension: each page includes sphinx-thebe's configuration script once.

sphinx-thebe 0.3 (which Jupyter Book always loads) registers its inline configuration
script twice; the second ``const THEBE_JS_URL`` is a console error on every page.
Identical scripts are dropped from each page's script list.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def drop_duplicate_scripts(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: object,
) -> None:
    """Keep the first of any scripts that are the same file, or the same inline code."""
    seen: set[tuple[str, tuple[tuple[str, Any], ...]]] = set()
    unique = []
    for script in context.get("script_files", []):
        # an inline script's filename may be None or "", depending on who added it
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the clean-up, after the other extensions have added their scripts."""
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
