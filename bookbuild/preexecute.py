"""Execute the book's notebooks in parallel, into myst-nb's cache, before Sphinx runs.

Jupyter Book reads pages one at a time, and so executes them one at a time: every page's
kernel start-up and figure rendering add up in series. This script runs the pages that
have no cached outputs in parallel (one kernel per page, as many at once as there are
CPU cores) and stores the results in ``_build/.jupyter_cache`` exactly as myst-nb would:
the same reader turns each page into a notebook, so the cache key (the code cells and
the kernel) is the one myst-nb looks up. Sphinx then finds every page in the cache and
executes nothing.

A page that fails here is simply not cached: myst-nb executes it again during the build
and reports the error in its usual way. Pages in ``ALONE`` are left to myst-nb, which
runs them with nothing else going on. When no page's source changed since the last
complete run (a stamp in the cache folder says so), the script returns before importing
the Jupyter stack, which keeps a no-op build fast.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"
ALONE = {"book/cpu-vs-gpu"}  # its timings need an otherwise idle machine
TIMEOUT = 300  # seconds per cell, as in _config.yml
STAMP = CACHE / "preexecuted.sha256"


def toc_notebooks() -> list[Path]:
    """The toc's pages that are notebooks (they have code cells), in toc order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = toc.get("parts", [{"chapters": toc.get("chapters", [])}])
    pages = [toc["root"]] + [
        entry["file"] for part in parts for entry in part["chapters"]
    ]
    paths = [
        ROOT / f"{page.removesuffix('.md')}.md"
        for page in pages
        if page.removesuffix(".md") not in ALONE
    ]
    return [path for path in paths if "```{code-cell}" in path.read_text()]


def sources_hash(paths: list[Path]) -> str:
    """SHA-256 over the pages' paths and sources."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(
            str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return digest.hexdigest()


def read(path: Path):
    """The page as a notebook, read the way myst-nb reads it."""
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(path.read_text(encoding="utf-8"), path=str(path))


def uncached(cache, paths: list[Path]) -> list[Path]:
    """The pages whose current code has no entry in the jupyter-cache ``cache``."""
    todo = []
    for path in paths:
        try:
            cache.match_cache_notebook(read(path))
        except KeyError:
            todo.append(path)
    return todo


def execute(path: Path):
    """Run one page in its own folder.

    Returns (path, executed notebook or None, seconds, error).
    """
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read(path)
    result = single_nb_execution(
        notebook,
        cwd=str(path.parent),
        allow_errors=False,
        timeout=TIMEOUT,
        meta_override=True,
    )
    if result.err is not None:
        return path, None, result.time, f"{result.err.__class__.__name__}"
    return path, notebook, result.time, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="pages run at once"
    )
    jobs = parser.parse_args().jobs
    pages = toc_notebooks()
    current = sources_hash(pages)
    if STAMP.is_file() and STAMP.read_text().strip() == current:
        return 0

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    # Kernels inherit this: each one uses its share of the cores instead of all of them.
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    cache = get_cache(str(CACHE))
    todo = uncached(cache, pages)
    failed = 0
    start = time.perf_counter()
    if todo:
        print(f"pre-executing {len(todo)} page(s), {jobs} at a time", flush=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path, notebook, seconds, error in pool.map(execute, todo):
            page = path.relative_to(ROOT)
            if notebook is None:
                print(
                    f"{page}: failed ({error}); "
                    "the book build will run it again and report",
                    flush=True,
                )
                failed += 1
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            print(f"{page}: Executed notebook in {seconds:.2f} seconds", flush=True)
    if todo:
        print(f"pre-executed in {time.perf_counter() - start:.1f} s", flush=True)
    if not failed:
        STAMP.parent.mkdir(parents=True, exist_ok=True)
        STAMP.write_text(current + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
