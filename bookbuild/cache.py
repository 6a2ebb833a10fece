"""The execution cache: what it holds, when it is cleared, and how the build fills it.

This is the one place that tells the story; the Makefile, the README and the workflows
point here.

1. **What it is.** ``_config.yml`` sets ``execute_notebooks: cache``: myst-nb stores
   each page's executed outputs in ``_build/.jupyter_cache`` (a jupyter-cache folder),
   keyed on the page's code cells and kernel, and re-executes a page only when those
   change. Editing prose re-executes nothing.
2. **What myst-nb misses.** A page's outputs also depend on the ``cnnbook`` package and
   on the installed toolchain, which are not in that key. So ``make book`` (and
   ``make serve``) first run :func:`refresh`: it takes the :func:`fingerprint` of
   :data:`INPUTS` (``cnnbook/``, the requirements and ``pyproject.toml``) and compares
   it with the ``inputs`` entry of the cache's stamp file. When they differ, or there
   is no stamp, it deletes the cache and Sphinx's doctrees, so every page runs again.
3. **Filling it in parallel.** Jupyter Book executes pages one at a time. Before it
   runs, :mod:`bookbuild.preexecute` executes the pages that have no cache entry in
   parallel and stores them in the cache exactly as myst-nb would; Sphinx then
   executes nothing. When every page succeeded it records the fingerprint of the
   pages' sources as the stamp's ``pages`` entry, so that the next no-op build skips
   even the cache lookups.
4. **In CI.** The workflows keep ``_build/.jupyter_cache`` between runs with
   ``actions/cache``, keyed on the same inputs; the stamp lives inside the folder, so
   a restored cache carries it, and step 2 still guards against a stale one.

Run ``python -m bookbuild.cache`` for step 2 alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from bookbuild.paths import BUILD, ROOT

#: What a page's outputs depend on besides its own code cells.
INPUTS = ("cnnbook", "requirements.txt", "requirements.lock", "pyproject.toml")
#: The stamp file inside the cache folder: ``{"inputs": ..., "pages": ...}``.
STAMP_NAME = "cnnbook-stamp.json"


def fingerprint(root: Path, paths: Iterable[str | Path]) -> str:
    """SHA-256 over the relative path and the bytes of every file in ``paths``.

    A folder counts with all the files under it, except Python's bytecode; files are
    hashed in sorted order, so the result depends only on names and contents.
    """
    digest = hashlib.sha256()
    for name in paths:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if (
                not file.is_file()
                or "__pycache__" in file.parts
                or file.suffix == ".pyc"
            ):
                continue
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def read_stamp(cache: Path) -> dict[str, str]:
    """The cache's stamp entries (empty when there is no readable stamp)."""
    try:
        stamp = json.loads((cache / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in stamp.items() if isinstance(v, str)}


def write_stamp(cache: Path, **entries: str) -> None:
    """Set ``entries`` in the cache's stamp, keeping the others."""
    stamp = read_stamp(cache) | entries
    cache.mkdir(parents=True, exist_ok=True)
    (cache / STAMP_NAME).write_text(
        json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def refresh(root: Path = ROOT, build: Path = BUILD) -> str:
    """Clear ``build``'s execution cache and doctrees if the inputs changed.

    Returns a line that says what happened.
    """
    cache = build / ".jupyter_cache"
    current = fingerprint(root, INPUTS)
    stored = read_stamp(cache).get("inputs")
    if stored == current:
        return f"execution cache is current for cnnbook inputs {current[:12]}"
    if cache.exists():
        reason = (
            "has no inputs hash" if stored is None else f"was made for {stored[:12]}"
        )
        message = f"execution cache {reason}, inputs are now {current[:12]}: cleared it"
    else:
        message = f"no execution cache yet; inputs {current[:12]}"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(build / ".doctrees", ignore_errors=True)
    write_stamp(cache, inputs=current)
    return message


def main() -> None:
    """Command line: refresh the cache of the book's build folder."""
    parser = argparse.ArgumentParser(description="Clear a stale execution cache.")
    parser.add_argument(
        "--build", type=Path, default=BUILD, help="the book's build folder"
    )
    print(refresh(ROOT, parser.parse_args().build))


if __name__ == "__main__":
    main()
