"""Run book pages with errors allowed; report all errors and stderr output they show.

Used on a GPU host after a failed build (``--not-cached``: the pages that the build
could not put in its execution cache); ``--skip`` leaves pages out. Exits with 1 when
any page showed an error or wrote to stderr, else 0, and ends with one line that says
which.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from bookbuild.config import cell_timeout, notebook_pages
from bookbuild.pages import read_page
from bookbuild.paths import CACHE, ROOT
from bookbuild.preexecute import uncached


def run(page: str) -> tuple[str, float, list[str]]:
    """Execute one page; return it, its run time and a description of each problem."""
    from nbclient import NotebookClient

    notebook = read_page(ROOT / f"{page}.md")
    start = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=cell_timeout(),
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "book")}},
    )
    problems = []
    try:
        client.execute()
    except Exception as err:  # a dead kernel or a timeout: report it like a cell error
        problems.append(f"execution stopped: {type(err).__name__}: {err}")
    for index, cell in enumerate(notebook.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(
                    f"cell {index}: {out.ename}: {out.evalue}\n{cell.source[:800]}"
                )
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {index} wrote to stderr:\n{out.text[:2000]}")
    return page, time.perf_counter() - start, problems


def not_cached(pages: list[str]) -> list[str]:
    """The pages whose current code has no entry in the book's execution cache."""
    from jupyter_cache import get_cache

    paths = uncached(get_cache(str(CACHE)), [ROOT / f"{page}.md" for page in pages])
    return [path.relative_to(ROOT).with_suffix("").as_posix() for path in paths]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="pages to leave out, e.g. book/training-a-cnn",
    )
    parser.add_argument(
        "--not-cached", action="store_true", help="only pages missing from the cache"
    )
    args = parser.parse_args()
    pages = [page for page in notebook_pages() if page not in args.skip]
    if args.not_cached:
        pages = not_cached(pages)
    failed = []
    with ProcessPoolExecutor(
        max_workers=max(1, min(len(pages), os.cpu_count() or 1))
    ) as pool:
        for page, seconds, problems in pool.map(run, pages):
            print(
                f"=== {page}: {len(problems)} problem(s) in {seconds:.1f} s", flush=True
            )
            for problem in problems:
                print(f"--- {problem}", flush=True)
            if problems:
                failed.append(page)
    print(
        f"PAGES FAILED: {' '.join(failed)}"
        if failed
        else f"PAGES OK: {len(pages)} page(s) ran clean"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
