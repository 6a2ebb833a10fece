"""Building on a host with no network: check an offline bundle and install from it.

``make bundle`` (:mod:`bookbuild.bundle`, on a connected machine) writes a folder that
holds everything such a host needs beyond its own Python and torch::

    cnnbook-offline-py3.12/
        MANIFEST.json      what the bundle is for, and every file's sha256 and part
        requirements.txt   name==version of every wheel in wheels/
        wheels/            the book's toolchain, built for the host's Python
        fashion-mnist/     the four idx files, gzipped
        torch/hub/checkpoints/mobilenet_v2-b0353104.pth

``make book OFFLINE_BUNDLE=<that folder> PYTHON=<the host's python>`` then runs
``python -m bookbuild.offline install`` with the host's Python, which

1. checks the bundle (:func:`check`): every file present and matching its sha256, the
   host's Python version, the distributions the bundle left out because the host has
   them, and CUDA when ``CNNBOOK_REQUIRE_GPU=1``. Each failure raises
   :class:`BundleError` with a message that names what is missing or wrong, before
   anything is installed;
2. creates the virtual environment with the host's packages behind its own
   (:func:`create_venv`);
3. installs the wheels and ``cnnbook`` with pip, from the bundle alone
   (:func:`install`).

The Makefile points ``$CNNBOOK_DATA`` at ``fashion-mnist/`` and ``$TORCH_HOME`` at
``torch/``, where ``cnnbook.fashion_mnist`` and torchvision look first, and runs
``python -m bookbuild.offline check`` again before each build. This module imports
only the standard library and :mod:`bookbuild.paths`, so the host's bare Python can run
it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from bookbuild.paths import ROOT

#: The bundle's description, in the bundle's folder and in every part.
MANIFEST = "MANIFEST.json"
#: ``name==version`` of every wheel, in the bundle's folder and in every part.
REQUIREMENTS = "requirements.txt"
#: The bundle's folders, relative to it.
WHEELS = "wheels"
DATA = "fashion-mnist"
TORCH_HOME = "torch"
#: The MobileNetV2 weights, where torchvision looks for them under ``$TORCH_HOME``.
WEIGHTS = f"{TORCH_HOME}/hub/checkpoints/mobilenet_v2-b0353104.pth"
#: The four Fashion-MNIST files the build needs, in :data:`DATA`.
DATA_FILES = tuple(
    f"{DATA}/{name}-idx{rank}-ubyte.gz"
    for name, rank in (
        ("train-images", 3),
        ("train-labels", 1),
        ("t10k-images", 3),
        ("t10k-labels", 1),
    )
)
#: The format of :data:`MANIFEST` this module reads.
FORMAT = 1
#: The platform the bundle's wheels are built for (``sysconfig.get_platform()``).
PLATFORM = "linux-x86_64"
#: The file in the new environment's site-packages that lists the host's.
HOST_PTH = "_cnnbook_host.pth"
#: The environment variable that makes a missing GPU an error (see ``cnnbook.device``).
REQUIRE_GPU = "CNNBOOK_REQUIRE_GPU"


class BundleError(Exception):
    """The bundle, or the host, cannot build the book; the message says why."""


def bundle_name(python: str) -> str:
    """The bundle's folder name for a Python version such as ``"3.12"``."""
    return f"cnnbook-offline-py{python}"


def sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(bundle: Path) -> dict[str, Any]:
    """The bundle's manifest, or a :class:`BundleError` that says what ``bundle`` is."""
    path = bundle / MANIFEST
    if not path.is_file():
        parts = sorted(p.name for p in bundle.glob("*.tar")) if bundle.is_dir() else []
        hint = (
            f" It holds the parts {', '.join(parts)}: unpack them first, with "
            f"`for p in {bundle}/*.tar; do tar -xf $p -C {bundle}; done`, and pass "
            "the folder they make."
            if parts
            else " Make one with `make bundle` on a connected machine."
        )
        raise BundleError(f"{bundle} is not an offline bundle: no {MANIFEST}.{hint}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise BundleError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: not a format {FORMAT} cnnbook bundle manifest")
    return manifest


def check(bundle: Path) -> dict[str, Any]:
    """Check that ``bundle`` is complete and fits this Python; return its manifest.

    Checks, in order: the manifest; the Python version and platform; every file
    present (a missing one is named with its part) and matching its sha256; the
    weights' hash prefix; every distribution the bundle left out because the host has
    it; and, when ``CNNBOOK_REQUIRE_GPU=1``, a CUDA device. Raises
    :class:`BundleError`.
    """
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    here = "{}.{}".format(*sys.version_info[:2])
    if here != manifest["python"]:
        raise BundleError(
            f"{bundle} is for CPython {manifest['python']}, but {sys.executable} is "
            f"{here}: make the bundle with `make bundle PYTHON_VERSION={here}`"
        )
    if sysconfig.get_platform() != PLATFORM:
        raise BundleError(
            f"{bundle} holds wheels for {PLATFORM}; {sys.executable} runs on "
            f"{sysconfig.get_platform()}"
        )
    files: dict[str, dict[str, Any]] = manifest["files"]
    absent = [name for name in (WEIGHTS, *DATA_FILES) if name not in files]
    if absent:
        raise BundleError(f"{bundle} was made without {', '.join(absent)}")
    missing: dict[int, list[str]] = {}
    for name, entry in files.items():
        if not (bundle / name).is_file():
            missing.setdefault(entry["part"], []).append(name)
    if missing:
        parts = manifest["parts"]
        raise BundleError(
            f"{bundle} is incomplete: "
            + "; ".join(
                f"part {part} of {parts} ({part_name(manifest['python'], part, parts)})"
                f" is missing {', '.join(sorted(names))}"
                for part, names in sorted(missing.items())
            )
        )
    bad = sorted(
        name
        for name, entry in files.items()
        if sha256(bundle / name) != entry["sha256"]
    )
    if bad:
        raise BundleError(
            f"{bundle}: sha256 does not match the manifest for {', '.join(bad)}"
            " (damaged in transfer? send its part again)"
        )
    prefix = Path(WEIGHTS).stem.rsplit("-", 1)[-1]
    if not files[WEIGHTS]["sha256"].startswith(prefix):
        raise BundleError(
            f"{bundle}: {WEIGHTS} has sha256 {files[WEIGHTS]['sha256'][:16]}..., "
            f"expected it to start with {prefix}"
        )
    lacking = sorted(set(manifest["host_has"]) - installed_distributions())
    if lacking:
        raise BundleError(
            f"{bundle} leaves out {', '.join(lacking)} for the host to provide, but "
            f"{sys.executable} does not have them: install them there, or make the "
            "bundle without HOST_HAS naming them"
        )
    if os.environ.get(REQUIRE_GPU) == "1":
        import torch

        if not torch.cuda.is_available():
            raise BundleError(
                f"{REQUIRE_GPU}=1, but torch {torch.__version__} in {sys.executable} "
                "sees no CUDA device"
            )
    return manifest


def part_name(python: str, part: int, parts: int) -> str:
    """The file name of one part of a bundle, e.g. ``...-py3.12.part1of2.tar``."""
    return f"{bundle_name(python)}.part{part}of{parts}.tar"


def installed_distributions() -> set[str]:
    """The normalised names of the distributions this Python can import."""
    names = {
        normalise(dist.metadata["Name"] or "")
        for dist in importlib.metadata.distributions()
    }
    return names - {""}


def normalise(name: str) -> str:
    """A distribution name in the form pip compares: ``Typing_Extensions`` ->
    ``typing-extensions``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def host_site_dirs() -> list[str]:
    """The folders this Python imports installed packages from, in order.

    ``site.getsitepackages()`` and, where Python uses it, the user's site-packages:
    for a system Python the same folders that ``venv --system-site-packages`` would
    add, and for a Python that is itself a virtual environment (or a conda one) that
    environment's folders, which ``--system-site-packages`` would miss.
    """
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if Path(d).is_dir()]


def create_venv(venv: Path) -> Path:
    """Create ``venv`` whose Python sees its own packages first, then this one's.

    This Python is the host's. The environment gets no pip here (:func:`install`
    brings the bundle's), and a ``.pth`` file that appends :func:`host_site_dirs` to
    its ``sys.path``: the host's torch, and whatever else the host has, are found
    after the environment's own packages, as with ``--system-site-packages``.
    Returns the environment's Python.
    """
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True
    )
    env_python = venv / "bin" / "python"
    purelib = subprocess.run(
        [
            str(env_python),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = "".join(f"{folder}\n" for folder in host_site_dirs())
    (Path(purelib) / HOST_PTH).write_text(lines, encoding="utf-8")
    return env_python


def pip_environment() -> dict[str, str]:
    """This process's environment with pip cut off from every index and config file.

    Drops every ``PIP_*`` variable, and sets ``PIP_CONFIG_FILE`` to the null device
    (no global, user or site configuration: no index, find-links or constraints from
    there) and ``PIP_NO_INDEX=1``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return env


def install(bundle: Path, venv: Path) -> None:
    """Check ``bundle``, create ``venv`` and install the book's toolchain from it.

    Run it with the host's Python. pip runs with ``--no-index`` and only the bundle's
    wheels to find (:func:`pip_environment`). It installs exactly the pins of the
    bundle's ``requirements.txt``, which ``make bundle`` resolved, and ``cnnbook`` from
    this checkout in editable mode, as ``make`` does, without resolving again: the
    host's own packages (its torch above all) are taken as they are. ``pip check``
    then confirms that what was installed has everything it requires. Raises
    :class:`BundleError` when the bundle fails :func:`check`, when pip cannot install
    from it, or when an installed package lacks a requirement (named).
    """
    bundle = Path(bundle).resolve()
    manifest = check(bundle)
    wheels = bundle / WHEELS
    pip_wheel = sorted(wheels.glob("pip-*.whl"))
    if not pip_wheel:
        raise BundleError(f"{bundle} has no pip wheel in {WHEELS}/")
    env_python = str(create_venv(venv))
    pip = ["install", "--no-index", "--find-links", str(wheels), "--no-deps"]
    pip += ["--no-cache-dir", "--quiet"]
    steps = [
        [env_python, f"{pip_wheel[-1]}/pip", *pip, "pip"],  # pip, from its wheel
        [env_python, "-m", "pip", *pip, "-r", str(bundle / REQUIREMENTS)],
        [env_python, "-m", "pip", *pip, "--no-build-isolation", "-e", str(ROOT)],
    ]
    for step in steps:
        if subprocess.run(step, env=pip_environment()).returncode != 0:
            raise BundleError(
                f"pip could not install from {bundle} alone (its message above names "
                f"the package); make the bundle again with `make bundle "
                f"PYTHON_VERSION={manifest['resolved_for']}`"
            )
    ours = {"cnnbook"} | {
        normalise(line.split("==")[0])
        for line in (bundle / REQUIREMENTS).read_text(encoding="utf-8").split()
    }
    report = subprocess.run(
        [env_python, "-m", "pip", "check"],
        env=pip_environment(),
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    broken = [line for line in report if normalise(line.split(" ")[0]) in ours]
    if broken:
        raise BundleError(
            f"installed from {bundle}, but requirements are missing: "
            + "; ".join(broken)
            + ". Install them on the host, or make the bundle with them"
        )


def main(argv: list[str] | None = None) -> int:
    """Command line: ``check BUNDLE`` or ``install BUNDLE VENV``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="check a bundle for this Python")
    check_parser.add_argument("bundle", type=Path)
    install_parser = commands.add_parser(
        "install", help="check a bundle, then make a virtual environment from it"
    )
    install_parser.add_argument("bundle", type=Path)
    install_parser.add_argument("venv", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            manifest = check(args.bundle)
            print(
                f"offline bundle {args.bundle}: {len(manifest['files'])} files, "
                f"CPython {manifest['python']}, complete"
            )
        else:
            install(args.bundle, args.venv)
            print(f"installed the book's toolchain from {args.bundle} into {args.venv}")
    except BundleError as err:
        print(f"offline build: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
