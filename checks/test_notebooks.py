"""Each chapter's downloadable .ipynb is plain Jupyter and runs on its own.

The theme offers the notebook at _build/html/_sources/book/<page>.ipynb, which
bookbuild/export_notebooks.py writes after the build. Its markdown must hold no MyST
markup (Jupyter would show it raw), no code cell may import myst_nb (a reader does not
have it), and its first code cell installs cnnbook when it is missing.

To show that the notebook needs nothing from the book, each one runs in a fresh virtual
environment that holds only the cnnbook wheel built from this checkout, its declared
dependencies, its optional extras (Captum, for the attribution chapter) and ipykernel:
no myst-nb, no Jupyter Book, no checkout on the path, and a temporary folder as the
working directory. (A page that imports an extra's package must install the extra in
its first cell: test_a_notebook_that_imports_an_extra_installs_it.) torch and
torchvision come from the book's environment through a .pth file that points at a
folder of links to them and to the packages they need, and nothing else, so that the
2 GB install is not repeated. The environment is kept in _build/notebook-venv/, keyed
on what went into it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml
from nbclient import NotebookClient
from packaging.requirements import Requirement

from bookbuild import paths
from bookbuild.config import notebook_pages
from bookbuild.paths import ROOT
from checks.host_packages import distribution_closure, link_distributions

SOURCES = paths.HTML / "_sources"
EXPORTED = paths.NOTEBOOKS
VENVS = paths.BUILD / "notebook-venv"
LOCK = (
    ROOT / "requirements.lock"
)  # the fresh venv gets the versions the book was built with
NOTEBOOKS = notebook_pages()
SHARED = ("torch", "torchvision")  # reused from the book's environment
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "cnnbook")
KERNEL = "cnnbook-fresh"
EXTRAS = {"attribution": "captum"}  # cnnbook's optional extras: the package each adds

# MyST that Jupyter would show as raw text
RAW_MYST = [
    re.compile(pattern, re.MULTILINE)
    for pattern in (
        r"\{glue",
        r"\{literalinclude",
        r"\{admonition",
        r"\{eval-rst",
        r"\{nb-exec-table",
        r"^\s*:::",
        r"^\s*(`{3,}|~{3,})\s*\{",
        r"\{[a-z][\w:-]*\}`",  # any role: {ref}`x`, {numref}`x`, {doc}`x`, ...
        r"^:class:",
        r"^\([\w.:-]+\)=\s*$",  # a target
        r"\]\((?![a-z]+:)[^)\s]+\.md(#[^)]*)?\)",  # a link to a page's .md source
    )
]


def _repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"]


def _read(page: str) -> nbformat.NotebookNode:
    path = SOURCES / f"{page}.ipynb"
    assert path.is_file(), f"{path} is missing: the page offers no .ipynb download"
    return nbformat.read(path, as_version=4)


# ------------------------------------------------------------ the fresh environment


def _own_requirements() -> list[str]:
    """cnnbook's declared dependencies, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"]


def _inputs_key() -> str:
    """A hash of everything the fresh environment is made from."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update(f"extras={sorted(EXTRAS)}".encode())
    for name in SHARED:
        digest.update(f"{name}=={metadata.version(name)}".encode())
    digest.update(LOCK.read_bytes())
    for name in PACKAGE_FILES:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0")
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


def _clean_env(venv_dir: Path) -> dict[str, str]:
    """This process's environment without the book's paths, with the venv first."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = os.pathsep.join(
        [str(venv_dir / "bin")]
        + [
            p
            for p in env.get("PATH", "").split(os.pathsep)
            if not p.startswith(sys.prefix)
        ]
    )
    return env


def _make_venv(target: Path, work: Path) -> None:
    """Create the fresh environment in ``target`` (see the module docstring)."""
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    # torch, torchvision and what they need, as links, minus what pip installs below
    direct = {Requirement(r).name.lower() for r in _own_requirements()}
    shared = target / "shared-packages"
    shared.mkdir()
    link_distributions(distribution_closure(SHARED, skip=direct - set(SHARED)), shared)
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            text=True,
        ).strip()
    )
    (site / "book-torch.pth").write_text(f"{shared}\n")
    # the wheel, built from a copy of the package files (the checkout stays clean)
    source = work / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name)
    wheels = work / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        + ["--no-build-isolation", "--wheel-dir", str(wheels), str(source)],
        env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
    )
    (wheel,) = wheels.glob("cnnbook-*.whl")
    # the versions the book was built with, and no pip cache of the user's touched
    pins = re.findall(r"^[A-Za-z0-9_.-]+==[^ \\]+", LOCK.read_text(), re.MULTILINE)
    constraints = work / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    env = {**_clean_env(target), "PIP_NO_CACHE_DIR": "1"}
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(constraints)]
        + [f"{wheel}[{','.join(sorted(EXTRAS))}]", "ipykernel"],
        env=env,
        cwd=work,
    )


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory) -> Path:
    """A fresh environment with the cnnbook wheel, its dependencies and ipykernel."""
    target = VENVS / _inputs_key()
    if not (target / "ready").is_file():
        if VENVS.exists():
            shutil.rmtree(VENVS)
        _make_venv(target, tmp_path_factory.mktemp("wheel"))
        (target / "ready").write_text("")
    probe = (
        "import importlib.util as u, json, cnnbook, torch, torchvision;"
        "print(json.dumps([cnnbook.__file__, u.find_spec('myst_nb') is None,"
        " u.find_spec('jupyter_book') is None]))"
    )
    here = tmp_path_factory.mktemp("probe")
    out = subprocess.check_output(
        [target / "bin" / "python", "-c", probe],
        env=_clean_env(target),
        cwd=here,
        text=True,
    )
    cnnbook_file, no_myst_nb, no_jupyter_book = json.loads(out)
    assert Path(cnnbook_file).is_relative_to(target), cnnbook_file
    assert no_myst_nb and no_jupyter_book
    return target


@pytest.fixture(scope="session")
def jupyter_path(fresh_venv, tmp_path_factory) -> Path:
    """A JUPYTER_PATH folder whose kernel spec starts the fresh environment's Python."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [str(fresh_venv / "bin" / "python"), "-m", "ipykernel_launcher"]
    kernel = {
        "argv": argv + ["-f", "{connection_file}"],
        "display_name": "cnnbook (fresh)",
        "language": "python",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return folder


# ------------------------------------------------------------ the tests


def _extras_used(notebook: nbformat.NotebookNode) -> list[str]:
    """The extras of cnnbook whose packages the notebook's code cells import."""
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    return sorted(
        extra
        for extra, package in EXTRAS.items()
        if re.search(rf"^\s*(from|import)\s+{package}\b", code, re.MULTILINE)
    )


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_downloaded_notebook_starts_by_installing_cnnbook(page):
    notebook = _read(page)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert 'find_spec("cnnbook") is None' in first.source
    extras = _extras_used(notebook)
    name = f"cnnbook[{','.join(extras)}]" if extras else "cnnbook"
    assert f'%pip install --quiet "{name} @ git+{_repository_url()}"' in first.source


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_a_notebook_that_imports_an_extra_installs_it(page):
    """The fresh environment holds every extra, so a notebook that imports an extra's
    package without installing it would pass there and fail for a reader. Its first
    cell must install the package also where cnnbook is already there (Binder)."""
    notebook = _read(page)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for extra in _extras_used(notebook):
        package = EXTRAS[extra]
        assert f'find_spec("{package}") is None' in first.source, (page, extra)
        for requirement in project["optional-dependencies"][extra]:
            assert f'%pip install --quiet "{requirement}"' in first.source, (
                page,
                requirement,
            )


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_downloaded_notebook_is_plain_jupyter(page):
    notebook = _read(page)
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            problems += [
                f"cell {index}: {match[0]!r}"
                for pattern in RAW_MYST
                if (match := pattern.search(cell.source))
            ]
        elif cell.cell_type == "code" and re.search(r"\bmyst_nb\b", cell.source):
            problems.append(f"cell {index} uses myst_nb")
    assert not problems, f"{page}: MyST left for Jupyter to show raw: {problems}"
    assert not {"jupytext", "mystnb"} & set(notebook.metadata)
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_downloaded_notebook_has_its_outputs(page):
    notebook = _read(page)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    with_outputs = [cell for cell in code if cell.outputs]
    assert len(with_outputs) * 2 >= len(code) - 1, (
        f"{page}: only {len(with_outputs)} of {len(code)} code cells have outputs"
    )
    exported = EXPORTED / f"{page}.ipynb"
    assert exported.read_bytes() == (SOURCES / f"{page}.ipynb").read_bytes()


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_downloaded_notebook_runs_in_a_fresh_environment(
    page, fresh_venv, jupyter_path, tmp_path, monkeypatch
):
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    notebook = _read(page)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=600,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    # raises CellExecutionError, naming the cell, on any error
    client.execute(env=_clean_env(fresh_venv))
    errors = [
        out
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]
    assert not errors
