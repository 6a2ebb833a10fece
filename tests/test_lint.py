"""The Python code passes ruff's lint and format checks and mypy's type checks.

All three are configured in pyproject.toml. cnnbook's code is shown to readers, so its
line length is the page's (88 columns); cnnbook and bookbuild are type-checked strictly.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild.paths import ROOT

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert exe is not None, f"{name} is missing: install requirements.txt"
    return exe


def _run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=["lint", "format"]
)
def test_ruff(command):
    result = _run(_tool("ruff"), *command, ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy():
    # the files and the strictness come from [tool.mypy] in pyproject.toml
    result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_would_catch_a_wrong_return_type(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def half(n: int) -> int:\n    return n / 2\n")
    result = _run(_tool("mypy"), "--strict", "--no-incremental", str(bad), cwd=tmp_path)
    assert result.returncode == 1 and "Incompatible return value" in result.stdout
