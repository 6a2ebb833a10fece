"""Build-time benchmark: how long a build takes, and how much a rebuild re-executes.

Run with `make bench` (``python -m bookbuild.benchmark``). It works in a scratch copy of
the repository (the tracked files, with the real .venv linked in), so the checkout and
its _build stay untouched, and measures:

1. a cold build (no _build);
2. a no-op rebuild;
3. a rebuild after touching one chapter's prose;
4. a rebuild after changing one chapter's code;
5. the floor: each chapter's visible code run as one plain Python script, one after
   another;
6. the same floor with as many scripts at once as the build runs pages at once (one per
   CPU core, each with its share of the cores), since that is how the build runs them.

Then it writes benchmarks/RESULTS.md: the machine, the table, and each target met or
missed.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from bookbuild.config import notebook_pages
from bookbuild.pages import visible_code
from bookbuild.paths import ROOT

CHAPTER = "book/output-size.md"  # the chapter edited in cases 3 and 4
PROSE_EDIT = (
    "# Padding, stride, dilation and output size\n",
    "# Padding, stride, dilation and output size\n\n"
    "A sentence added by the benchmark.\n",
)
CODE_EDIT = ("import cnnbook\n", "import cnnbook  # edited by the benchmark\n")


def copy_checkout(target: Path) -> Path:
    """Copy the checkout's files as they are in the working tree (the tracked ones,
    and new ones git does not ignore) into ``target``; return it."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def scratch_copy() -> Path:
    """Copy the checkout into a temporary folder, with a link to its ``.venv``."""
    target = copy_checkout(Path(tempfile.mkdtemp(prefix="cnnbook-bench-")) / "repo")
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def build(repo: Path) -> tuple[float, int, float]:
    """Run `make book` in ``repo``.

    Returns (seconds, pages executed, parallel pre-execution seconds).
    """
    env = {**os.environ, "PYTHONPATH": str(repo)}
    start = time.perf_counter()
    result = subprocess.run(
        ["make", "-C", str(repo), "-o", ".venv/.cnnbook-installed", "book"],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    if result.returncode != 0:
        raise SystemExit(f"make book failed in {repo}:\n{log[-3000:]}")
    executed = re.findall(r"Executed notebook in ([\d.]+) seconds", log)
    pre = re.search(r"pre-executed in ([\d.]+) s", log)
    return seconds, len(executed), float(pre.group(1)) if pre else 0.0


def edit(path: Path, old_new: tuple[str, str]) -> None:
    text = path.read_text()
    old, new = old_new
    if text.count(old) != 1:
        raise SystemExit(f"{path}: expected exactly one {old!r} to edit")
    path.write_text(text.replace(old, new))


def floor(repo: Path, jobs: int = 1) -> float:
    """Wall-clock seconds to run every chapter's visible code as a plain script.

    ``jobs`` scripts run at once; with more than one, each gets ``cores // jobs``
    threads, as :mod:`bookbuild.preexecute` gives each page's kernel.
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "MPLBACKEND"))
    }
    env.update(MPLBACKEND="Agg", PYTHONPATH=str(repo))
    if jobs > 1:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    with tempfile.TemporaryDirectory() as folder:
        scripts = []
        for page in notebook_pages():
            script = Path(folder) / f"{Path(page).name}.py"
            script.write_text(visible_code(repo / f"{page}.md"))
            scripts.append(script)

        def run(script: Path) -> None:
            subprocess.run(
                [sys.executable, str(script)],
                cwd=folder,
                env=env,
                capture_output=True,
                check=True,
            )

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(run, scripts))
        return time.perf_counter() - start


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        cpu,
    )
    memory = next(
        (
            line.split()[1]
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal")
        ),
        "",
    )
    gib = f", {int(memory) / 2**20:.0f} GiB RAM" if memory else ""
    return (
        f"{model}, {os.cpu_count()} cores{gib}, "
        f"{platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def main() -> None:
    repo = scratch_copy()
    try:
        cold, cold_pages, cold_pre = build(repo)
        noop, noop_pages, _ = build(repo)
        edit(repo / CHAPTER, PROSE_EDIT)
        prose, prose_pages, _ = build(repo)
        edit(repo / CHAPTER, CODE_EDIT)
        code, code_pages, _ = build(repo)
        base = floor(repo)
        jobs = os.cpu_count() or 1
        parallel = floor(repo, jobs)
    finally:
        shutil.rmtree(repo.parent)
    ratio = cold / base
    rows = [
        ("1. cold build (no `_build`)", cold, cold_pages, "≤ 240 s", cold <= 240),
        (
            "2. no-op rebuild",
            noop,
            noop_pages,
            "≤ 3 s, 0 pages",
            noop <= 3 and noop_pages == 0,
        ),
        (
            f"3. prose touched in `{CHAPTER}`",
            prose,
            prose_pages,
            "0 pages",
            prose_pages == 0,
        ),
        (
            f"4. code changed in `{CHAPTER}`",
            code,
            code_pages,
            "exactly 1 page",
            code_pages == 1,
        ),
        ("5. floor: chapters as plain scripts", base, len(notebook_pages()), "", True),
        (
            f"6. floor, {jobs} scripts at a time",
            parallel,
            len(notebook_pages()),
            "",
            True,
        ),
    ]
    lines = [
        "# Build benchmark",
        "",
        "Measured by `make bench` (`bookbuild/benchmark.py`) "
        f"on {date.today().isoformat()}.",
        "",
        f"Machine: {machine()}.",
        "",
        "| case | seconds | pages executed | target | met |",
        "| --- | ---: | ---: | --- | --- |",
        *[
            f"| {name} | {seconds:.1f} | {pages} | {target} | "
            f"{'yes' if ok or not target else 'no'} |"
            for name, seconds, pages, target, ok in rows
        ],
        "",
        f"Cold build / floor = {cold:.1f} s / {base:.1f} s = **{ratio:.2f}** "
        f"(target ≤ 1.3: {'met' if ratio <= 1.3 else 'missed'}); "
        f"against the floor of {jobs} scripts at a time, "
        f"{cold:.1f} s / {parallel:.1f} s = **{cold / parallel:.2f}**.",
        "",
        f"Of the cold build, {cold_pre:.1f} s went to `bookbuild/preexecute.py` "
        f"running the pages in parallel ({os.cpu_count()} at a time); "
        f"the other {cold - cold_pre:.1f} s to Jupyter Book and Sphinx, "
        "which read, render and write the site "
        "and execute `book/cpu-vs-gpu.md` on its own.",
        "",
    ]
    out = ROOT / "benchmarks" / "RESULTS.md"
    notes = (
        out.read_text().split("<!-- notes -->", 1)[1]
        if out.exists() and "<!-- notes -->" in out.read_text()
        else ""
    )
    out.write_text("\n".join(lines) + "<!-- notes -->" + (notes or "\n"))
    print(out.read_text())


if __name__ == "__main__":
    main()
