"""The Python code passes ruff's lint and format checks (configured in pyproject.toml).

cnnbook's code is shown to readers, so its line length is the page's: these checks keep
it there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which(
    "ruff"
)


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=["lint", "format"]
)
def test_ruff(command):
    assert RUFF is not None, "ruff is missing: install requirements.txt"
    result = subprocess.run(
        [RUFF, *command, "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
