"""Write benchmarks/GPU.md from what `bookbuild/gpu/host.sh build` brought back.

Usage: python -m bookbuild.gpu.record RESULTS_DIR

RESULTS_DIR holds what came back from the GPU host: its summary.txt, book.log,
check-site.log, html.tar.gz and jupyter_cache.tar.gz.
The record gives the date, the machine and versions, each stage's result and time, each
page's execution time and device, and the CPU-vs-GPU chapter's measurements as the
chapter printed them. Everything below the line `<!-- notes -->` in an existing GPU.md
is kept: that is where people write what the numbers mean.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tarfile
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup
from jupyter_cache import get_cache
from nbformat import NotebookNode

from bookbuild.config import notebook_pages
from bookbuild.paths import ROOT

TARGET = ROOT / "benchmarks" / "GPU.md"
NOTES = "<!-- notes -->"
STAGES = {
    "install": "the toolchain from the bundle: `make` with `OFFLINE_BUNDLE`",
    "book": "cold build: `make book OFFLINE_BUNDLE=...`",
    "check-site": "`checks/test_site.py`",
    "diagnose": "failed pages run again with errors allowed",
}


def read_summary(text: str) -> tuple[str, dict[str, str], dict[str, tuple[int, int]]]:
    """Read summary.txt: the date, environment and {stage: (exit status, seconds)}."""
    date = text.splitlines()[0].strip()
    environment = json.loads(text[text.index("{") : text.index("}") + 1])
    stages = {
        name: (int(status), int(seconds))
        for name, status, seconds in re.findall(
            r"^(\S+): exit (\d+) in (\d+) s$", text, re.M
        )
    }
    return date, environment, stages


def pytest_result(log: Path) -> str:
    """The last pytest summary line of a log, e.g. '282 passed, 1 skipped in 25.29s'."""
    if not log.is_file():
        return "no log"
    found = re.findall(
        r"^=*\s*(\d+ (?:passed|failed|error).*?)\s*=*$", log.read_text(), re.M
    )
    return found[-1] if found else "no summary line"


def page_times(book_log: str) -> dict[str, float]:
    """Seconds per page, read from the book log.

    The times come from the pre-execution lines and from myst-nb's own execution line.
    """
    times = {}
    for page, seconds in re.findall(
        r"(book/[\w-]+)\.md: Executed notebook in ([\d.]+) seconds", book_log
    ):
        times[page] = float(seconds)
    return times


def build_facts(html: Path) -> dict[str, str]:
    """Each notebook page's one-line build record, in table-of-contents order."""
    facts = {}
    for page in notebook_pages():
        soup = BeautifulSoup(
            (html / f"{page}.html").read_text(encoding="utf-8"), "html.parser"
        )
        line = soup.select_one("p.cnnbook-build-facts")
        facts[page] = line.get_text() if line is not None else "none"
    return facts


def cached_notebook(cache_dir: Path, page: str) -> NotebookNode:
    """The executed notebook of ``page`` in a copy of the book's execution cache."""
    cache = get_cache(str(cache_dir))
    records = [r for r in cache.list_cache_records() if r.uri.endswith(f"{page}.md")]
    if not records:
        raise SystemExit(f"{page} is not in the execution cache {cache_dir}")
    notebook: NotebookNode = cache.get_cache_bundle(records[-1].pk).nb
    return notebook


def chapter_printouts(notebook: NotebookNode) -> tuple[list[str], dict[str, str]]:
    """The CPU-vs-GPU chapter's printed outputs and its glued values.

    The printed outputs of the solutions are left out.
    """
    printouts, glued = [], {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or "hide-cell" in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stdout":
                printouts.append(out.text.rstrip())
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            if "name" in scrapbook:
                value = ast.literal_eval(
                    out.data[f"{scrapbook['mime_prefix']}text/plain"]
                )
                name = scrapbook["name"]
                glued[name] = value if isinstance(value, str) else f"{value:.3g}"
    return printouts, glued


def render(results: Path, html: Path, cache_dir: Path) -> str:
    """The text of GPU.md above the notes."""
    date, env, stages = read_summary((results / "summary.txt").read_text())
    times = page_times((results / "book.log").read_text())
    facts = build_facts(html)
    printouts, glued = chapter_printouts(cached_notebook(cache_dir, "book/cpu-vs-gpu"))
    logs = {"check-site": "check-site.log"}
    lines = [
        "# The book built on a GPU",
        "",
        "Recorded by `bookbuild/gpu/record.py` "
        "from a build by `bookbuild/gpu/host.sh build` "
        f"started {date}, with `CNNBOOK_REQUIRE_GPU=1`.",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in env.items()),
        "",
        "## Stages",
        "",
        "| stage | what | exit status | seconds | result |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for name, (status, seconds) in stages.items():
        result = (
            pytest_result(results / logs[name])
            if name in logs
            else ("built" if status == 0 else "failed")
        )
        lines.append(
            f"| {name} | {STAGES.get(name, '')} | {status} | {seconds} | {result} |"
        )
    lines += [
        "",
        "## Pages",
        "",
        "Execution time of each page (the pre-executed pages ran in parallel, "
        "one kernel each; the CPU-vs-GPU chapter ran alone afterwards), "
        "and the build record it ends with.",
        "",
        "| page | seconds | build record |",
        "| --- | ---: | --- |",
    ]
    for page, line in facts.items():
        shown = f"{times[page]:.1f}" if page in times else ""
        lines.append(f"| {page} | {shown} | {line} |")
    lines += ["", "## The CPU-vs-GPU chapter, as printed", ""]
    for text in printouts:
        lines += ["```text", text, "```", ""]
    for name in ("gpu_text", "tf32_text", "determinism_text", "parity_text"):
        if name in glued:
            lines += [f"> {glued[name]}", ""]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    results = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("html.tar.gz", "jupyter_cache.tar.gz"):
            with tarfile.open(results / name) as archive:
                archive.extractall(tmp, filter="data")
        text = render(results, Path(tmp) / "html", Path(tmp) / ".jupyter_cache")
    old = TARGET.read_text() if TARGET.is_file() else ""
    notes = old[old.index(NOTES) :] if NOTES in old else f"{NOTES}\n"
    TARGET.write_text(text + "\n" + notes)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
