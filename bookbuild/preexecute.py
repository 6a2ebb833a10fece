"""Execute the book's pages in parallel, into myst-nb's cache, before Sphinx runs.

Step 3 of the execution-cache story in :mod:`bookbuild.cache`. Pages that have no
cache entry run at once (one kernel each, as many as there are CPU cores) and are
stored as myst-nb would store them. A page that fails here is not cached: myst-nb runs
it again during the build and reports the error in its usual way. The pages in
:data:`LEFT_TO_MYST_NB` are not run here at all.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from bookbuild.cache import fingerprint, read_stamp, write_stamp
from bookbuild.config import cell_timeout, notebook_pages
from bookbuild.pages import read_page
from bookbuild.paths import CACHE, ROOT

#: Pages that myst-nb executes itself during the build, one at a time, with why.
LEFT_TO_MYST_NB = {"book/cpu-vs-gpu": "its timings need an otherwise idle machine"}


@dataclass
class PageRun:
    """The outcome of executing one page."""

    path: Path
    notebook: NotebookNode | None  # None when the page failed
    seconds: float
    error: str = ""


def pages_to_preexecute(root: Path = ROOT) -> list[Path]:
    """The notebook pages of the toc that this script runs, in toc order."""
    return [
        root / f"{page}.md"
        for page in notebook_pages(root)
        if page not in LEFT_TO_MYST_NB
    ]


def uncached(cache: Any, paths: list[Path]) -> list[Path]:
    """The pages whose current code has no entry in the jupyter-cache ``cache``."""
    missing = []
    for path in paths:
        try:
            cache.match_cache_notebook(read_page(path))
        except KeyError:
            missing.append(path)
    return missing


def run_page(path: Path) -> PageRun:
    """Execute one page in its own folder, as myst-nb would."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read_page(path)
    result = single_nb_execution(
        notebook,
        cwd=str(path.parent),
        allow_errors=False,
        timeout=cell_timeout(),
        meta_override=True,
    )
    if result.err is not None:
        return PageRun(path, None, result.time, type(result.err).__name__)
    return PageRun(path, notebook, result.time)


def run_into_cache(todo: list[Path], jobs: int) -> int:
    """Run ``todo`` ``jobs`` at a time and cache each success; return the failures."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    # Kernels inherit this: each one uses its share of the cores instead of all of them.
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    cache = get_cache(str(CACHE))
    todo = uncached(cache, todo)
    if not todo:
        return 0
    print(f"pre-executing {len(todo)} page(s), {jobs} at a time", flush=True)
    failed = 0
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for run in pool.map(run_page, todo):
            page = run.path.relative_to(ROOT)
            if run.notebook is None:
                print(
                    f"{page}: failed ({run.error}); "
                    "the book build will run it again and report",
                    flush=True,
                )
                failed += 1
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    run.notebook,
                    str(run.path),
                    data={"execution_seconds": run.seconds},
                ),
                check_validity=False,
                overwrite=True,
            )
            print(f"{page}: Executed notebook in {run.seconds:.2f} seconds", flush=True)
    print(f"pre-executed in {time.perf_counter() - start:.1f} s", flush=True)
    return failed


def main() -> int:
    """Command line: pre-execute what the cache lacks, unless nothing changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="pages run at once"
    )
    jobs = parser.parse_args().jobs
    pages = pages_to_preexecute()
    sources = fingerprint(ROOT, [path.relative_to(ROOT) for path in pages])
    if read_stamp(CACHE).get("pages") == sources:
        return 0  # before importing the Jupyter stack: a no-op build stays fast
    if run_into_cache(pages, jobs) == 0:
        write_stamp(CACHE, pages=sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
