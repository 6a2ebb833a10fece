"""bookbuild/gpu: the offline GPU build's shell scripts and record.py.

The shell scripts lint clean and check what arrives, and record.py reads the host's
files correctly.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild.gpu import record
from bookbuild.paths import ROOT

GPU = ROOT / "bookbuild" / "gpu"
BIN = Path(sys.executable).parent


def _shellcheck(*files: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("shellcheck", path=str(BIN)) or shutil.which("shellcheck")
    assert exe, "shellcheck is missing: install requirements.txt (make test does)"
    return subprocess.run(
        [exe, "--format=gcc", *map(str, files)], capture_output=True, text=True
    )


def test_the_script_passes_shellcheck():
    result = _shellcheck(GPU / "host.sh")
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_would_catch_an_unquoted_variable(tmp_path):
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    result = _shellcheck(script)
    assert result.returncode == 1 and "SC2086" in result.stdout


def _run_host_sh(tmp_path: Path, *args: str, **env: str):
    return subprocess.run(
        ["bash", str(GPU / "host.sh"), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "OUT": str(tmp_path / "out"), **env},
    )


def test_host_build_without_the_parts_says_where_it_looked(tmp_path):
    result = _run_host_sh(tmp_path, "build", PARTS=str(tmp_path / "empty"))
    assert result.returncode != 0
    assert f"no bundle parts (cnnbook-offline-py*.part*of*.tar) in {tmp_path}" in (
        result.stderr
    )
    assert not (tmp_path / "out").exists(), "nothing may start without the bundle"


def test_host_sh_names_its_command(tmp_path):
    result = _run_host_sh(tmp_path, "nonsense")
    assert result.returncode == 2
    assert "usage:" in result.stderr and "build" in result.stderr


SUMMARY = """2026-11-26T14:31:22Z
{
 "Python": "3.12.3",
 "GPU": "NVIDIA H200 (140 GiB)"
}
book: exit 0 in 60 s
check-site: exit 1 in 9 s
"""


def test_summary_gives_date_environment_and_stages():
    date, environment, stages = record.read_summary(SUMMARY)
    assert date == "2026-11-26T14:31:22Z"
    assert environment == {"Python": "3.12.3", "GPU": "NVIDIA H200 (140 GiB)"}
    assert stages == {"book": (0, 60), "check-site": (1, 9)}


def test_pytest_result_is_the_last_summary_line(tmp_path):
    log = tmp_path / "tests.log"
    log.write_text(
        "bringing up nodes...\n....\n===== short test summary info =====\n"
        "SKIPPED [1] tests/x.py:1: why\n282 passed, 1 skipped in 25.29s\n"
    )
    assert record.pytest_result(log) == "282 passed, 1 skipped in 25.29s"
    log.write_text("============ 2 failed, 3 passed in 1.00s ============\n")
    assert record.pytest_result(log) == "2 failed, 3 passed in 1.00s"
    log.write_text("INTERNALERROR> boom\n")
    assert record.pytest_result(log) == "no summary line"
    assert record.pytest_result(tmp_path / "missing.log") == "no log"


@pytest.mark.parametrize(
    ("line", "page", "seconds"),
    [
        ("book/intro.md: Executed notebook in 10.80 seconds", "book/intro", 10.8),
        (
            "/work/main/book/cpu-vs-gpu.md: Executed notebook in 24.9 seconds [mystnb]",
            "book/cpu-vs-gpu",
            24.9,
        ),
    ],
)
def test_page_times_read_both_kinds_of_execution_line(line, page, seconds):
    assert record.page_times(f"noise\n{line}\nmore noise\n") == {page: seconds}
