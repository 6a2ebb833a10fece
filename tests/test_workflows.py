"""The GitHub workflows pass actionlint, and say what publishing relies on."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bookbuild.paths import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert exe, "actionlint is missing: install requirements.txt (make test does)"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }  # and shellcheck
    return subprocess.run(
        [exe, "-no-color", "-oneline", *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    return workflow


def test_actionlint_passes_on_both_workflows():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["book.yml", "pull-request.yml"]
    result = _actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert shutil.which("shellcheck", path=str(BIN)), (
        "shellcheck must be there to check the run: steps"
    )


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_thing }}\n"
        "      - run: echo $UNQUOTED_$VAR\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1
    assert "no_such_thing" in result.stdout


def _runs(job: dict[str, Any], when: str) -> list[str]:
    """The commands of ``job``'s steps that run when its ``if:`` allows ``when``
    (``"online"`` or ``"offline"``)."""
    skip = "env.OFFLINE == 'true'" if when == "online" else "env.OFFLINE != 'true'"
    return [
        step["run"] for step in job["steps"] if "run" in step and step.get("if") != skip
    ]


def test_book_workflow_builds_on_the_gpu_runner_and_deploys():
    book = _load("book.yml")
    assert book["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in book["on"]
    build = book["jobs"]["build"]
    assert "GPU_RUNNER_LABELS" in build["runs-on"]
    assert '["self-hosted", "linux", "x64", "gpu"]' in build["runs-on"]
    assert build["env"]["CNNBOOK_REQUIRE_GPU"] == "1"
    commands = [c for c in _runs(build, "online") if c.startswith("make")]
    assert commands == ["make test", "make book", "make check"]
    uploads = [
        s for s in build["steps"] if s.get("uses") == "actions/upload-artifact@v4"
    ]
    reports = next(s for s in uploads if s["with"]["name"] == "execution-reports")
    assert reports["if"] == "failure()"
    assert reports["with"]["path"] == "_build/html/reports"
    steps = {step.get("uses", step.get("run")): step for step in build["steps"]}
    assert steps["actions/upload-pages-artifact@v3"]["with"]["path"] == "_build/html"
    for name in ("deploy", "notebooks"):
        job = book["jobs"][name]
        assert job["needs"] == ["build", "check-offline-build"]
        assert "needs.build.result == 'success'" in job["if"]
        assert "needs.check-offline-build.result != 'failure'" in job["if"]
    deploy = book["jobs"]["deploy"]
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_book_workflow_builds_offline_from_a_bundle_made_online():
    book = _load("book.yml")
    assert book["on"]["workflow_dispatch"]["inputs"]["offline"]["type"] == "boolean"
    bundle = book["jobs"]["bundle"]
    assert bundle["if"] == "inputs.offline || vars.GPU_RUNNER_OFFLINE == 'true'"
    assert bundle["runs-on"] == "ubuntu-latest"
    assert "make bundle" in [step.get("run") for step in bundle["steps"]]
    made = next(
        s for s in bundle["steps"] if s.get("uses") == "actions/upload-artifact@v4"
    )
    build = book["jobs"]["build"]
    assert build["needs"] == "bundle"
    assert build["env"]["OFFLINE"] == "${{ needs.bundle.result == 'success' }}"
    got = next(
        s for s in build["steps"] if s.get("uses") == "actions/download-artifact@v4"
    )
    assert got["with"]["name"] == made["with"]["name"] == "offline-bundle"
    assert got["if"] == "env.OFFLINE == 'true'"
    offline = _runs(build, "offline")
    assert [
        c.split(" OFFLINE_BUNDLE=")[0] for c in offline if c.startswith("make")
    ] == ["make book"]
    assert "make test" not in offline and "make check" not in offline
    checks = book["jobs"]["check-offline-build"]
    assert checks["needs"] == ["bundle", "build"]
    assert checks["if"] == "needs.bundle.result == 'success'"
    assert [
        s["run"] for s in checks["steps"] if s.get("run", "").startswith("make")
    ] == [
        "make test",
        "make check",
    ]
    shipped = next(
        s for s in build["steps"] if s.get("with", {}).get("name") == "offline-build"
    )
    fetched = next(
        s for s in checks["steps"] if s.get("uses", "").startswith("actions/d")
    )
    assert fetched["with"] == {"name": "offline-build", "path": "_build"}
    assert set(shipped["with"]["path"].split()) == {
        "_build/html",
        "_build/notebooks",
        "_build/.jupyter_cache",
    }


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("book.yml", "actions/cache/restore@v4"),
        ("pull-request.yml", "actions/cache@v4"),
    ],
)
def test_execution_cache_key_hashes_requirements_and_cnnbook(name, action):
    steps = [step for job in _load(name)["jobs"].values() for step in job["steps"]]
    cache = next(step for step in steps if step.get("uses") == action)
    assert cache["with"]["path"] == "_build/.jupyter_cache"
    key = cache["with"]["key"]
    files = "'requirements.txt', 'requirements.lock', 'pyproject.toml', 'cnnbook/**'"
    assert f"hashFiles({files})" in key


def test_pull_request_workflow_runs_the_readme_commands_on_cpu():
    pr = _load("pull-request.yml")
    assert set(pr["on"]) == {"pull_request"}
    job = pr["jobs"]["test-and-build"]
    assert job["runs-on"] == "ubuntu-latest"
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert [c for c in commands if c.startswith("make")] == [
        "make test",
        "make book",
        "make check",
    ]
