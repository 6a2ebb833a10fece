"""bookbuild/cache.py: the cache follows cnnbook; a no-op build executes nothing."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bookbuild import cache
from bookbuild.cache import INPUTS, fingerprint
from bookbuild.paths import ROOT


def _inputs(tmp_path):
    (tmp_path / "cnnbook").mkdir()
    (tmp_path / "cnnbook" / "__init__.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("torch\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    return tmp_path


def test_hash_follows_package_and_requirements_but_not_bytecode(tmp_path):
    root = _inputs(tmp_path)
    first = fingerprint(root, INPUTS)
    (root / "cnnbook" / "__pycache__").mkdir()
    (root / "cnnbook" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    assert fingerprint(root, INPUTS) == first
    (root / "cnnbook" / "__init__.py").write_text("x = 2\n")
    second = fingerprint(root, INPUTS)
    assert second != first
    (root / "requirements.txt").write_text("torch<3\n")
    assert fingerprint(root, INPUTS) != second


def test_a_renamed_file_changes_the_hash(tmp_path):
    root = _inputs(tmp_path)
    first = fingerprint(root, INPUTS)
    (root / "cnnbook" / "__init__.py").rename(root / "cnnbook" / "other.py")
    assert fingerprint(root, INPUTS) != first


def test_refresh_clears_only_when_the_inputs_change(tmp_path):
    root = _inputs(tmp_path)
    build = tmp_path / "_build"
    assert "no execution cache yet" in cache.refresh(root, build)
    (build / ".jupyter_cache" / "global.db").write_text("cached")
    (build / ".doctrees").mkdir()
    assert "is current" in cache.refresh(root, build)
    assert (build / ".jupyter_cache" / "global.db").exists()

    (root / "cnnbook" / "__init__.py").write_text("x = 3\n")
    message = cache.refresh(root, build)
    assert "was made for" in message and "cleared it" in message
    assert not (build / ".jupyter_cache" / "global.db").exists()
    assert not (build / ".doctrees").exists()
    assert "is current" in cache.refresh(root, build)


def test_a_cache_without_a_hash_is_cleared(tmp_path):
    root = _inputs(tmp_path)
    build = tmp_path / "_build"
    (build / ".jupyter_cache").mkdir(parents=True)
    (build / ".jupyter_cache" / "global.db").write_text("cached")
    assert "has no inputs hash" in cache.refresh(root, build)
    assert not (build / ".jupyter_cache" / "global.db").exists()


PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Cache test

```{code-cell} ipython3
---
tags: [remove-cell]
---
# the first cell of every chapter (bookbuild/export_notebooks.py requires it)
import importlib.util

if importlib.util.find_spec("cnnbook") is None:
    %pip install --quiet "cnnbook @ git+https://github.com/cnnbook/cnnbook"
```

```{code-cell} ipython3
import cnnbook

print("device name:", cnnbook.build_facts("cpu").device)
```
"""


def _make_book(repo: Path) -> str:
    """Run the real `make book` in ``repo`` with its own cnnbook; return the log."""
    caches = (
        repo.parent / "caches"
    )  # never the user's own (torch's hub, cnnbook's data)
    env = {
        **os.environ,
        "PYTHONPATH": str(repo),
        "CNNBOOK_DEVICE": "cpu",
        "TORCH_HOME": str(caches / "torch"),
        "XDG_CACHE_HOME": str(caches),
        "CNNBOOK_CACHE": str(caches / "cnnbook"),
    }
    env.pop("CNNBOOK_REQUIRE_GPU", None)
    # -o: never reinstall into the shared .venv from the temporary copy.
    result = subprocess.run(
        ["make", "-C", str(repo), "-o", ".venv/.cnnbook-installed", "book"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return log


@pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "jupyter-book").exists(),
    reason="needs the .venv of make",
)
def test_changing_a_helper_re_executes_and_a_no_op_build_executes_nothing(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "cnnbook", repo / "cnnbook", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        ROOT / "bookbuild",
        repo / "bookbuild",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(ROOT / "_static", repo / "_static")  # the favicon _config.yml names
    for name in ("Makefile", "requirements.txt", "pyproject.toml", "_config.yml"):
        shutil.copy2(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (repo / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (repo / "page.md").write_text(PAGE)
    html = repo / "_build" / "html" / "page.html"

    first = _make_book(repo)
    assert "Executed notebook in" in first
    assert "device name: CPU" in html.read_text()

    facts = repo / "cnnbook" / "facts.py"
    source = facts.read_text()
    assert source.count('name, cuda, cudnn = "CPU", None, None') == 1
    facts.write_text(source.replace('"CPU", None, None', '"CPU (edited)", None, None'))
    second = _make_book(repo)
    assert "cleared it" in second
    assert "Executed notebook in" in second
    assert "device name: CPU (edited)" in html.read_text()

    third = _make_book(repo)
    assert "is current" in third
    assert "Executed notebook" not in third and "Executing notebook" not in third
    assert "device name: CPU (edited)" in html.read_text()


def test_the_stamp_keeps_other_entries_and_survives_damage(tmp_path):
    folder = tmp_path / "cache"
    assert cache.read_stamp(folder) == {}
    cache.write_stamp(folder, inputs="a")
    cache.write_stamp(folder, pages="b")
    assert cache.read_stamp(folder) == {"inputs": "a", "pages": "b"}
    (folder / cache.STAMP_NAME).write_text("not json")
    assert cache.read_stamp(folder) == {}


def test_clearing_the_cache_forgets_the_pre_executed_pages(tmp_path):
    root = _inputs(tmp_path)
    build = tmp_path / "_build"
    cache.refresh(root, build)
    cache.write_stamp(build / ".jupyter_cache", pages="p")
    (root / "requirements.txt").write_text("torch<4\n")
    cache.refresh(root, build)
    assert set(cache.read_stamp(build / ".jupyter_cache")) == {"inputs"}
