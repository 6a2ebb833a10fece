"""``make lighthouse``: how fast each chapter loads on a phone, measured by Lighthouse.

Serves ``_build/html`` on localhost with gzip, as GitHub Pages serves it
(:class:`GzipHandler`), and runs Lighthouse (:data:`VERSION`, from npm, installed by
``make`` into ``.lighthouse/``, which git ignores) on every page of the table of
contents with its default mobile profile: simulated slow 4G and a 4x slower CPU, in
Debian's Chromium (``CHROME_PATH``). It keeps each run's numbers in
``benchmarks/lighthouse/<label>.json`` and writes a table per page to the Lighthouse
section of ``benchmarks/RESULTS.md``: the ``before`` run (the site before the speed
work) beside the latest. Scores stay here, in the benchmark, and never in a timed test.

One Lighthouse run varies a lot from the next (the total blocking time of one page
ranged from 80 to 400 ms on one machine), so each page is measured
:data:`RUNS_PER_PAGE` times and the table shows its median run (:func:`median_run`),
as Lighthouse's own documentation advises; the JSON keeps every run.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bookbuild.config import toc_pages
from bookbuild.paths import HTML, ROOT

#: The Lighthouse release the numbers come from.
VERSION = "12.2.3"
#: Where ``make`` installs it.
LIGHTHOUSE = ROOT / ".lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = Path(os.environ.get("CNNBOOK_CHROMIUM", "/usr/bin/chromium"))
#: The flags of the browser checks (``checks/browser.py``).
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
RUNS = ROOT / "benchmarks" / "lighthouse"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- lighthouse -->", "<!-- /lighthouse -->"
#: What the book aims for on every chapter (issue 17).
GOALS = {"performance": 90, "lcp_s": 2.5, "cls": 0.1, "tbt_ms": 200}
#: Lighthouse runs per page; the table shows the median one.
RUNS_PER_PAGE = 3
#: Types GitHub Pages sends gzipped.
COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".txt", ".xml", ".map", ".ipynb")


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files, gzipped when the client accepts it and the type is text."""

    def send_head(self) -> Any:
        """http.server's hook: the response head, and the body to copy."""
        path = Path(self.translate_path(self.path))
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        body = _gzipped(path, path.stat().st_mtime_ns)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: Lighthouse makes hundreds of requests."""


@functools.lru_cache(maxsize=512)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    """``path``'s bytes gzipped at level 6 (the file's time keys the cache)."""
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` with :class:`GzipHandler` on a free port; yield its URL."""
    handler = functools.partial(GzipHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def measure(url: str) -> dict[str, float]:
    """Lighthouse's mobile run of one page: scores and the metrics that make them."""
    result = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            "--only-categories=performance,accessibility,best-practices",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
        check=True,
    )
    report = json.loads(result.stdout)
    audits, categories = report["audits"], report["categories"]
    return {
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "best_practices": round(categories["best-practices"]["score"] * 100),
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run whose performance score is the median (ties: the median blocking
    time), so that a row's numbers all come from one run."""
    if not runs:
        raise ValueError("no Lighthouse runs to take the median of")
    ranked = sorted(runs, key=lambda run: (run["performance"], -run["tbt_ms"]))
    return ranked[len(ranked) // 2]


def meets(row: dict[str, float]) -> bool:
    """Whether a page's numbers reach every goal in :data:`GOALS`."""
    return (
        row["performance"] >= GOALS["performance"]
        and row["lcp_s"] <= GOALS["lcp_s"]
        and row["cls"] <= GOALS["cls"]
        and row["tbt_ms"] <= GOALS["tbt_ms"]
    )


def table(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown lines: one row per page and run, ``before`` first."""
    lines = [
        "| page | run | performance | FCP | LCP | TBT | CLS | transferred "
        "| accessibility | best practices | goal met |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    labels = sorted(runs, key=lambda label: (label != "before", label))
    pages = runs[labels[-1]]["pages"]
    for page in pages:
        for label in labels:
            row = runs[label]["pages"].get(page)
            if row is None:
                continue
            lines.append(
                f"| {page} | {label} | {row['performance']} | {row['fcp_s']:.1f} s "
                f"| {row['lcp_s']:.1f} s | {row['tbt_ms']:.0f} ms | {row['cls']:.3f} "
                f"| {row['kib']:,.0f} KiB | {row['accessibility']} "
                f"| {row['best_practices']} | {'yes' if meets(row) else 'no'} |"
            )
    return lines


def write_results(runs: dict[str, dict[str, Any]]) -> None:
    """Replace the Lighthouse section of ``benchmarks/RESULTS.md`` (kept by
    ``make bench``, which rewrites only what is above its notes)."""
    latest = runs[max(runs, key=lambda label: (runs[label]["date"], label != "before"))]
    section = [
        START,
        "",
        "## Lighthouse, mobile",
        "",
        "Measured by `make lighthouse` (`bookbuild/lighthouse.py`, "
        f"Lighthouse {VERSION}, default mobile profile: simulated slow 4G, "
        f"4x CPU slowdown, Debian's Chromium) on {latest['date']}, the site "
        "served from localhost with gzip; each row is a page's median run of "
        f"{latest.get('runs_per_page', 1)} (`before`: "
        f"{runs.get('before', latest).get('runs_per_page', 1)}). Goal on every page: "
        "performance "
        f"≥ {GOALS['performance']}, LCP ≤ {GOALS['lcp_s']} s, CLS ≤ {GOALS['cls']}, "
        f"TBT ≤ {GOALS['tbt_ms']} ms.",
        "",
        *table(runs),
        "",
        END,
    ]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START in text:
        head, rest = text.split(START, 1)
        text = head + "\n".join(section) + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command line: measure every page and record the run under ``--label``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--label", default="after", help="the run's name (before, after)"
    )
    parser.add_argument("--site", type=Path, default=HTML)
    parser.add_argument(
        "--runs", type=int, default=RUNS_PER_PAGE, help="Lighthouse runs per page"
    )
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.is_file():
        print(f"{LIGHTHOUSE} is missing: run `make lighthouse`", file=sys.stderr)
        return 1
    pages = {}
    with serve(args.site) as url:
        for page in toc_pages():
            measured = [measure(f"{url}/{page}.html") for _ in range(args.runs)]
            median = median_run(measured)
            pages[page] = {**median, "runs": measured}
            print(page, median, flush=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    run = {
        "date": date.today().isoformat(),
        "version": VERSION,
        "runs_per_page": args.runs,
        "pages": pages,
    }
    (RUNS / f"{args.label}.json").write_text(json.dumps(run, indent=1) + "\n")
    runs = {path.stem: json.loads(path.read_text()) for path in RUNS.glob("*.json")}
    write_results(runs)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
