"""The book builds on a machine with no network, from `make bundle`'s bundle alone.

A stand-in for an offline GPU host: a Python that has torch, torchvision and what they
require (linked from the book's environment) and nothing else of the book's, as a
cluster node with CUDA torch would. The steps are the README's:

1. `make bundle` here, for the stand-in's Python version, into a temporary folder;
2. the parts unpacked into another folder, as the host would receive them;
3. `make book OFFLINE_BUNDLE=... PYTHON=<stand-in>` in a copy of this checkout, inside
   a network namespace with no way out (`unshare`), `PIP_NO_INDEX=1` and a temporary
   HOME, so that no index, download or user cache can stand in for the bundle.

The copy starts from this build's execution cache without the transfer-learning
chapter, which needs both Fashion-MNIST and the MobileNetV2 weights, so that chapter
executes offline while the others come from the cache. Two more runs show the early
failures: CUDA required on a machine without it, and a bundle that lacks a wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from jupyter_cache import get_cache

from bookbuild import offline
from bookbuild.benchmark import copy_checkout
from bookbuild.cache import STAMP_NAME
from bookbuild.paths import CACHE, ROOT
from checks.host_packages import distribution_closure, link_distributions

PAGE = "book/transfer-learning"  # needs both the data and the weights
PART_LIMIT = 64 * 2**20  # one transfer to the GPU host used here
ISOLATED = [
    "unshare",
    "--map-root-user",
    "--net",
    "sh",
    "-c",
    'ip link set lo up && "$@"',
    "-",
]


def _environments(work: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The environments of the connected machine and of the offline host.

    Both leave out an outer make's variables and the GPU requirement, and keep every
    cache in ``work``. The offline one also has a HOME of its own (no user
    configuration or cache), no ``PIP_*`` settings but ``PIP_NO_INDEX=1``, and no
    ``CNNBOOK_*`` or ``TORCH_*`` paths but those the Makefile sets.
    """
    drop = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "PYTHONPATH"}
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in drop and key != "CNNBOOK_REQUIRE_GPU"
    }
    connected = base | {
        "PIP_CACHE_DIR": str(work / "pip-cache"),
        "TORCH_HOME": str(work / "torch"),
        "CNNBOOK_CACHE": str(work / "cnnbook-cache"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "MPLCONFIGDIR": str(work / "mpl"),
    }
    home = work / "home"
    offline = {
        key: value
        for key, value in base.items()
        if not key.startswith(("CNNBOOK_", "PIP_", "TORCH_", "XDG_"))
    }
    offline |= {
        "HOME": str(home),
        "PIP_NO_INDEX": "1",
        "MPLCONFIGDIR": str(home / "mpl"),
    }
    return connected, offline


def _make(args: list[str], cwd: Path, env: dict[str, str], isolated: bool = True):
    command = ["make", "--no-print-directory", *args]
    return subprocess.run(
        [*ISOLATED, *command] if isolated else command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _offline_book(setup, venv: Path, bundle: Path | None = None, **env: str):
    """`make book` offline in the copy of the checkout, from ``bundle`` (by default
    the one made for the stand-in) into ``venv``, with ``env`` added."""
    return _make(
        [
            "book",
            f"OFFLINE_BUNDLE={bundle or setup['bundle']}",
            f"PYTHON={setup['python']}",
            f"VENV={venv}",
        ],
        setup["checkout"],
        setup["env"] | env,
    )


def _stand_in_host(folder: Path) -> Path:
    """A Python with torch, torchvision and their requirements; returns it."""
    base = Path(sys.base_prefix, "bin", "python{}.{}".format(*sys.version_info[:2]))
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        text=True,
    ).strip()
    link_distributions(
        distribution_closure(("torch", "torchvision"), set()), Path(site)
    )
    return python


def _copy_checkout(target: Path) -> None:
    """The checkout's files and this build's execution cache, less the record of
    :data:`PAGE`."""
    copy_checkout(target)
    cache = target / "_build" / ".jupyter_cache"
    shutil.copytree(CACHE, cache)
    records = get_cache(str(cache)).list_cache_records()
    (record,) = [r for r in records if r.uri.endswith(f"/{PAGE}.md")]
    get_cache(str(cache)).remove_cache(record.pk)
    stamp = json.loads((cache / STAMP_NAME).read_text())
    stamp.pop("pages", None)  # so that the build looks each page up
    (cache / STAMP_NAME).write_text(json.dumps(stamp))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The stand-in host, the bundle made for it, its parts unpacked, a checkout."""
    work = tmp_path_factory.mktemp("offline")
    python = _stand_in_host(work / "host-python")
    version = subprocess.check_output(
        [python, "-c", "import platform; print(platform.python_version())"], text=True
    ).strip()
    connected, env = _environments(work)
    made = _make(
        ["bundle", f"BUNDLE_DIR={work / 'out'}", f"PYTHON_VERSION={version}"],
        ROOT,
        connected,
        isolated=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    parts = sorted((work / "out").glob("*.tar"))
    received = work / "received"
    for part in parts:
        with tarfile.open(part) as tar:
            tar.extractall(received, filter="data")
    checkout = work / "checkout"
    _copy_checkout(checkout)
    (bundle,) = received.iterdir()
    return {
        "work": work,
        "python": python,
        "parts": parts,
        "bundle": bundle,
        "checkout": checkout,
        "env": env,
    }


def test_bundle_parts_each_fit_one_transfer_and_leave_torch_out(setup):
    sizes = [part.stat().st_size for part in setup["parts"]]
    assert sizes and all(size <= PART_LIMIT for size in sizes), sizes
    manifest = json.loads((setup["bundle"] / offline.MANIFEST).read_text())
    assert manifest["parts"] == len(sizes)
    wheels = {
        name.split("/")[1].split("-")[0]
        for name in manifest["files"]
        if name.startswith("wheels/")
    }
    assert {"jupyter_book", "myst_nb", "ipykernel", "captum", "pip"} <= wheels
    assert not wheels & {"torch", "torchvision", "numpy", "pillow", "nvidia_cudnn_cu13"}
    assert set(offline.DATA_FILES) | {offline.WEIGHTS} <= set(manifest["files"])


def test_require_gpu_without_cuda_stops_before_installing(setup):
    venv = setup["work"] / "venv-gpu"
    run = _offline_book(setup, venv, CNNBOOK_REQUIRE_GPU="1")
    assert run.returncode != 0
    assert "CNNBOOK_REQUIRE_GPU=1, but torch" in run.stderr
    assert "sees no CUDA device" in run.stderr
    assert not venv.exists()


def test_a_bundle_without_a_wheel_the_build_needs_fails_at_install(setup):
    """A bundle that is consistent (manifest and requirements agree) but lacks
    myst-parser, which myst-nb requires: the install names it."""
    bundle = setup["work"] / "lacking" / setup["bundle"].name
    shutil.copytree(setup["bundle"], bundle, copy_function=os.link)
    manifest = json.loads((bundle / offline.MANIFEST).read_text())
    (wheel,) = [n for n in manifest["files"] if n.startswith("wheels/myst_parser-")]
    (bundle / wheel).unlink()
    del manifest["files"][wheel]
    pins = (bundle / offline.REQUIREMENTS).read_text().split()
    kept = "".join(f"{pin}\n" for pin in pins if not pin.startswith("myst-parser=="))
    (bundle / offline.REQUIREMENTS).unlink()  # a link to the original: replace it
    (bundle / offline.REQUIREMENTS).write_text(kept)
    manifest["files"][offline.REQUIREMENTS]["sha256"] = offline.sha256(
        bundle / offline.REQUIREMENTS
    )
    manifest["files"][offline.REQUIREMENTS]["bytes"] = len(kept)
    (bundle / offline.MANIFEST).unlink()
    (bundle / offline.MANIFEST).write_text(json.dumps(manifest))
    run = _offline_book(setup, setup["work"] / "venv-lacking", bundle)
    assert run.returncode != 0
    assert "requirements are missing:" in run.stderr
    assert "requires myst-parser, which is not installed" in run.stderr
    assert "bookbuild.cache" not in run.stdout  # the build never started


@pytest.fixture(scope="module")
def built(setup):
    """`make book` offline in the copy of the checkout."""
    venv = setup["work"] / "venv"
    run = _offline_book(setup, venv)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]
    return setup | {"venv": venv, "log": run.stdout + run.stderr}


def test_offline_build_executes_the_page_that_needs_data_and_weights(built):
    assert "pre-executing 1 page(s)" in built["log"]
    assert f"{PAGE}.md: Executed notebook" in built["log"]
    html = built["checkout"] / "_build" / "html" / f"{PAGE}.html"
    assert html.is_file()
    assert (built["checkout"] / "_build" / "notebooks" / f"{PAGE}.ipynb").is_file()
    record = get_cache(str(built["checkout"] / "_build" / ".jupyter_cache"))
    assert any(r.uri.endswith(f"/{PAGE}.md") for r in record.list_cache_records())


def test_offline_build_read_the_bundles_data_and_weights_and_the_hosts_torch(built):
    home = Path(built["env"]["HOME"])
    source = json.loads(
        (home / ".cache/cnnbook/FashionMNIST/cnnbook-source.json").read_text()
    )
    bundle_data = built["bundle"] / offline.DATA
    assert {Path(entry["source"]).parent for entry in source.values()} == {bundle_data}
    assert not (home / ".cache" / "torch").exists()  # the weights came from the bundle
    torch_file = subprocess.check_output(
        [built["venv"] / "bin" / "python", "-c", "import torch; print(torch.__file__)"],
        text=True,
    ).strip()
    assert Path(torch_file).is_relative_to(built["python"].parent.parent)
