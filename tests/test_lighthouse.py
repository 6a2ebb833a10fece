"""bookbuild.lighthouse: the gzip server, the goals and the results table.

Lighthouse itself runs in `make lighthouse`, never here: its scores belong in the
benchmark, not in a timed test.
"""

import gzip
import urllib.request

import pytest

from bookbuild import lighthouse
from bookbuild.paths import ROOT

ROW = {
    "performance": 95,
    "accessibility": 100,
    "best_practices": 96,
    "fcp_s": 1.2,
    "lcp_s": 2.1,
    "tbt_ms": 120.0,
    "cls": 0.01,
    "kib": 300.0,
}


def _get(url: str, gzip_ok: bool) -> tuple[dict[str, str], bytes]:
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
        return dict(r.headers), r.read()


def test_text_is_served_gzipped_when_the_client_asks(tmp_path):
    (tmp_path / "page.html").write_text("<p>" + "x" * 5000)
    (tmp_path / "image.png").write_bytes(b"\x89PNG" + b"\0" * 100)
    with lighthouse.serve(tmp_path) as url:
        headers, body = _get(f"{url}/page.html", gzip_ok=True)
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == (tmp_path / "page.html").read_bytes()
        assert int(headers["Content-Length"]) == len(body) < 200
        headers, body = _get(f"{url}/page.html", gzip_ok=False)
        assert "Content-Encoding" not in headers and body.startswith(b"<p>")
        headers, body = _get(f"{url}/image.png", gzip_ok=True)
        assert "Content-Encoding" not in headers and body.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("change", "met"),
    [
        ({}, True),
        ({"performance": 89}, False),
        ({"lcp_s": 2.6}, False),
        ({"cls": 0.11}, False),
        ({"tbt_ms": 201}, False),
    ],
)
def test_a_page_meets_the_goal_only_on_every_count(change, met):
    assert lighthouse.meets(ROW | change) is met


def test_the_median_run_is_one_whole_run():
    runs = [
        ROW | {"performance": 97, "tbt_ms": 40.0},
        ROW | {"performance": 80, "tbt_ms": 500.0},
        ROW | {"performance": 91, "tbt_ms": 190.0},
    ]
    assert lighthouse.median_run(runs) is runs[2]
    tied = [ROW | {"tbt_ms": 100.0}, ROW | {"tbt_ms": 300.0}, ROW | {"tbt_ms": 200.0}]
    assert lighthouse.median_run(tied) is tied[2]
    with pytest.raises(ValueError, match="no Lighthouse runs"):
        lighthouse.median_run([])


def test_the_table_puts_before_first_on_each_page():
    runs = {
        "after": {"date": "2026-11-27", "pages": {"book/a": ROW, "book/b": ROW}},
        "before": {"date": "2026-11-26", "pages": {"book/a": ROW | {"lcp_s": 8.7}}},
    }
    rows = lighthouse.table(runs)[2:]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| book/a", "before"],
        ["| book/a", "after"],
        ["| book/b", "after"],
    ]
    assert rows[0].endswith("| no |") and rows[1].endswith("| yes |")
    assert "| 8.7 s |" in rows[0] and "| 300 KiB |" in rows[1]


def test_results_keep_the_rest_of_the_file_and_replace_their_section(
    tmp_path, monkeypatch
):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Build benchmark\n<!-- notes -->\n\n## Notes\n- a note\n")
    monkeypatch.setattr(lighthouse, "RESULTS", results)
    runs = {"after": {"date": "2026-11-27", "pages": {"book/a": ROW}}}
    lighthouse.write_results(runs)
    first = results.read_text()
    assert first.startswith("# Build benchmark\n<!-- notes -->\n\n## Notes\n- a note\n")
    assert first.count(lighthouse.START) == first.count(lighthouse.END) == 1
    runs["after"]["pages"]["book/a"] = ROW | {"performance": 50}
    lighthouse.write_results(runs)
    second = results.read_text()
    assert second.count(lighthouse.START) == 1 and "| 50 |" in second
    assert "| 95 |" not in second
    assert second.startswith(
        "# Build benchmark\n<!-- notes -->\n\n## Notes\n- a note\n"
    )


def test_the_results_say_how_many_runs_each_row_is_the_median_of(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    monkeypatch.setattr(lighthouse, "RESULTS", results)
    page = {"book/a": ROW}
    lighthouse.write_results(
        {
            "after": {"date": "2026-11-27", "runs_per_page": 3, "pages": page},
            "before": {"date": "2026-11-27", "pages": page},
        }
    )
    assert "a page's median run of 3 (`before`: 1)" in results.read_text()


def test_the_makefile_installs_the_version_the_results_name():
    makefile = (ROOT / "Makefile").read_text()
    assert f"lighthouse@{lighthouse.VERSION}" in makefile
    assert ".lighthouse/" in (ROOT / ".gitignore").read_text().split()
