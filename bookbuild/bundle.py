"""``make bundle``: what a host with no network needs to build the book.

Run on a connected machine, as ``make bundle`` (which first provisions the weights, as
``make book`` does). Writes
``<dest>/cnnbook-offline-py<X.Y>/`` (the layout is in :mod:`bookbuild.offline`) and
beside it the same files as parts, ``...part1of2.tar`` and so on, each at most
``--part-mib`` MiB, to send one after another over a link that limits one transfer;
unpacking every part in one folder gives the bundle back.

What goes in, and what is left out:

- **Wheels** for CPython ``--python`` on manylinux x86_64: the book's toolchain from
  ``requirements.txt`` (the build's lines, see :data:`TOOLCHAIN`), ``cnnbook``'s
  dependencies, ipykernel, pip, and setuptools to install ``cnnbook`` from the
  checkout, resolved by pip at the versions ``requirements.lock`` pins where it has
  them. A host that builds the book has torch and torchvision, and with them what
  they depend on (:data:`HOST_HAS`); those are left out, as is anything the host is
  known to have (``--host-has``). pip resolves them from stand-in wheels that carry
  only a name and a version, so it neither downloads them nor what they pull in.
- **Fashion-MNIST**, read with ``cnnbook.fashion_mnist`` (which checks every file's
  header and the full sizes) from the local copy or, online, torchvision's download,
  and gzipped.
- **The MobileNetV2 ImageNet weights**, from torch's cache, checked against the hash
  prefix in their name.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from unittest import mock

from bookbuild.offline import (
    DATA_FILES,
    FORMAT,
    MANIFEST,
    PLATFORM,
    REQUIREMENTS,
    WEIGHTS,
    WHEELS,
    bundle_name,
    normalise,
    part_name,
    sha256,
)
from bookbuild.paths import BUILD, ROOT

#: The lines of ``requirements.txt`` that the build needs (the rest serve tests and
#: authors), by distribution name.
TOOLCHAIN = (
    "jupyter-book",
    "myst-nb",
    "sphinx-book-theme",
    "ziamath",
    "pillow",
    "matplotlib",
    "tqdm",
    "psutil",
    "captum",
)
#: Installed on every host that has torch and torchvision: the two and what they
#: require (torch: filelock, typing-extensions, sympy, networkx, jinja2, fsspec;
#: sympy: mpmath; jinja2: markupsafe; torchvision: numpy, pillow).
HOST_HAS = (
    "torch",
    "torchvision",
    "filelock",
    "typing-extensions",
    "sympy",
    "mpmath",
    "networkx",
    "jinja2",
    "markupsafe",
    "fsspec",
    "numpy",
    "pillow",
)
#: What the bundle adds to the toolchain: the kernel that runs the pages, pip for the
#: new environment, and the build backend of ``pyproject.toml``.
EXTRA = ("ipykernel", "pip", "setuptools>=77")
#: manylinux tags that the host's glibc (2.28 or later) runs.
MANYLINUX = (
    "manylinux_2_28",
    "manylinux_2_27",
    "manylinux_2_26",
    "manylinux_2_24",
    "manylinux_2_17",
    "manylinux2014",
    "manylinux1",
    "manylinux_2_5",
)
#: Each part's limit: a transfer of 64 MiB, less room for the working tree.
PART_MIB = 60
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def lock_pins(lock: Path = ROOT / "requirements.lock") -> dict[str, str]:
    """Every ``name==version`` pin of ``requirements.lock``, by normalised name."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalise(match[1])] = match[2]
    return pins


def toolchain_lines(requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """The requirement lines of :data:`TOOLCHAIN`, comments removed."""
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        spec = line.split("#", 1)[0].strip()
        name = re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]
        if spec and normalise(name) in TOOLCHAIN:
            lines.append(spec)
    found = {normalise(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]) for line in lines}
    if found != set(TOOLCHAIN):
        raise ValueError(
            f"{requirements} lacks {', '.join(sorted(set(TOOLCHAIN) - found))}"
        )
    return lines


def host_versions(host_has: tuple[str, ...], pins: dict[str, str]) -> dict[str, str]:
    """The version each host-provided distribution is assumed to have.

    Entries are names, or ``name==version``; a bare name takes the lock's version,
    and a name the lock lacks must come with one.
    """
    versions = {}
    for entry in [*HOST_HAS, *host_has]:
        name, _, version = entry.partition("==")
        name = normalise(name.strip())
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise ValueError(f"host-has: {entry!r} is not a distribution name")
        version = version.strip() or pins.get(name, "")
        if not version:
            raise ValueError(
                f"host-has: {name} is not in requirements.lock; give its version as "
                f"{name}==X.Y"
            )
        versions[name] = version.split("+", 1)[0]
    return versions


def write_stub(folder: Path, name: str, version: str) -> Path:
    """A wheel that installs nothing: only ``name``, ``version`` (with the local
    label ``+host``) and no dependencies, for pip to resolve against."""
    version = f"{version}+host"
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {
        f"{dist}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ),
        f"{dist}/WHEEL": (
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
        wheel.writestr(
            f"{dist}/RECORD", "".join(f"{m},,\n" for m in [*files, f"{dist}/RECORD"])
        )
    return path


def download_wheels(dest: Path, python: str, host_has: dict[str, str]) -> list[str]:
    """Download the toolchain's wheels for CPython ``python`` into ``dest``, without
    those of ``host_has``; return ``name==version`` of each wheel kept."""
    pins = lock_pins()
    with tempfile.TemporaryDirectory() as scratch:
        stubs = Path(scratch)
        requirements = stubs / "requirements.txt"
        requirements.write_text("\n".join([*toolchain_lines(), *EXTRA]) + "\n")
        constraints = stubs / "constraints.txt"
        constraints.write_text(
            "".join(
                f"{name}=={version}\n"
                for name, version in pins.items()
                if name not in host_has
            )
            + "".join(f"{name}=={version}+host\n" for name, version in host_has.items())
        )
        for name, version in host_has.items():
            write_stub(stubs, name, version)
        platforms = [f"--platform={tag}_x86_64" for tag in MANYLINUX]
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet",
                "--only-binary=:all:", f"--python-version={python}",
                "--implementation=cp", *platforms, "--find-links", str(stubs),
                "--requirement", str(requirements), "--constraint", str(constraints),
                "--dest", str(dest),
            ],
            check=True,
        )  # fmt: skip
    kept = []
    for wheel in sorted(dest.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        if normalise(name) in host_has:
            wheel.unlink()
        else:
            kept.append(f"{normalise(name)}=={version}")
    return kept


def write_data(bundle: Path, weights: Path) -> None:
    """Fashion-MNIST, checked by ``cnnbook.fashion_mnist`` and gzipped, and the
    weights, into ``bundle``."""
    import cnnbook
    from cnnbook import data

    with tempfile.TemporaryDirectory() as cache:
        with mock.patch.dict(os.environ, {data.CACHE_ENV_VAR: cache}):  # not the user's
            for train in (True, False):
                cnnbook.fashion_mnist(train=train, expect_full=True)
        raw = Path(cache) / "FashionMNIST" / "raw"
        for name in DATA_FILES:
            path = bundle / name
            path.parent.mkdir(parents=True, exist_ok=True)
            source = raw / Path(name).name.removesuffix(".gz")
            with source.open("rb") as plain, path.open("wb") as out:
                # no name and no time in the header: the same bytes every time
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=out, mtime=0
                ) as packed:
                    shutil.copyfileobj(plain, packed)
    target = bundle / WEIGHTS
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(weights, target)


def pack_parts(sizes: dict[str, int], limit: int) -> list[list[str]]:
    """Group files into as few parts as first-fit by decreasing size finds, each
    part's files adding up to at most ``limit`` bytes; largest files first."""
    parts: list[list[str]] = []
    room: list[int] = []
    for name in sorted(sizes, key=lambda n: (-sizes[n], n)):
        if sizes[name] > limit:
            raise ValueError(
                f"{name} ({sizes[name]:,} bytes) is larger than one part "
                f"({limit:,} bytes)"
            )
        for index, left in enumerate(room):
            if sizes[name] <= left:
                parts[index].append(name)
                room[index] -= sizes[name]
                break
        else:
            parts.append([name])
            room.append(limit - sizes[name])
    return [sorted(part) for part in parts]


def write_tar(path: Path, root: Path, names: list[str]) -> None:
    """A tar of ``root``'s files ``names`` under ``root.name``, the same bytes every
    time (no times, owners or modes taken from the disk)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in names:
            info = tarfile.TarInfo(f"{root.name}/{name}")
            info.size = (root / name).stat().st_size
            info.mode = 0o644
            with (root / name).open("rb") as stream:
                tar.addfile(info, stream)


def make_bundle(
    dest: Path,
    python: str,
    weights: Path,
    host_has: tuple[str, ...] = (),
    part_mib: int = PART_MIB,
) -> Path:
    """Write the bundle for CPython ``python`` and its parts into ``dest``; return
    the bundle's folder. ``weights`` is the MobileNetV2 file to carry."""
    if not re.fullmatch(r"3\.\d+(\.\d+)?", python):
        raise ValueError(
            f"python must be a version such as 3.12 or 3.12.3, got {python!r}"
        )
    if part_mib < 1:
        raise ValueError(f"part_mib must be at least 1, got {part_mib}")
    versions = host_versions(host_has, lock_pins())
    minor = ".".join(python.split(".")[:2])
    bundle = dest / bundle_name(minor)
    shutil.rmtree(bundle, ignore_errors=True)
    for old in dest.glob(f"{bundle.name}.part*.tar"):
        old.unlink()
    (bundle / WHEELS).mkdir(parents=True)
    kept = download_wheels(bundle / WHEELS, python, versions)
    (bundle / REQUIREMENTS).write_text("".join(f"{pin}\n" for pin in kept))
    write_data(bundle, weights)
    sizes = {
        path.relative_to(bundle).as_posix(): path.stat().st_size
        for path in sorted(bundle.rglob("*"))
        if path.is_file()
    }
    # Each file costs its size and up to 2 KiB of tar headers and padding; every part
    # also carries requirements.txt, the manifest (under 400 bytes a file) and the
    # archive's closing blocks (10 KiB).
    limit = part_mib * 2**20
    reserve = sizes[REQUIREMENTS] + 400 * len(sizes) + 16 * 2**10
    parts = pack_parts(
        {n: s + 2 * 2**10 for n, s in sizes.items() if n != REQUIREMENTS},
        limit - reserve,
    )
    files = {
        name: {"sha256": sha256(bundle / name), "bytes": sizes[name], "part": index}
        for index, part in enumerate(parts, 1)
        for name in part
    }
    files[REQUIREMENTS] = {
        "sha256": sha256(bundle / REQUIREMENTS),
        "bytes": sizes[REQUIREMENTS],
        "part": 1,
    }
    manifest = {
        "format": FORMAT,
        "python": minor,
        "resolved_for": python,
        "platform": PLATFORM,
        "host_has": versions,
        "parts": len(parts),
        "files": dict(sorted(files.items())),
    }
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    for index, part in enumerate(parts, 1):
        path = dest / part_name(minor, index, len(parts))
        write_tar(path, bundle, sorted({MANIFEST, REQUIREMENTS, *part}))
        if path.stat().st_size > limit:
            raise ValueError(f"{path} is over {part_mib} MiB: the reserve is too small")
    return bundle


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m bookbuild.bundle [--python 3.12] ...``."""
    from bookbuild.weights import provision_mobilenet_v2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python",
        default=platform.python_version(),
        help="the host's Python version, 3.X or 3.X.Y (default: this one's); pip "
        "checks each package's Requires-Python against it",
    )
    parser.add_argument("--dest", type=Path, default=BUILD / "bundle")
    parser.add_argument(
        "--host-has",
        nargs="*",
        default=[],
        help="more distributions the host has, as name or name==version",
    )
    parser.add_argument("--part-mib", type=int, default=PART_MIB)
    args = parser.parse_args(argv)
    weights = provision_mobilenet_v2()
    if weights is None:
        print("no MobileNetV2 weights to carry: run `make book` first", file=sys.stderr)
        return 1
    try:
        bundle = make_bundle(
            args.dest, args.python, weights, tuple(args.host_has), args.part_mib
        )
    except ValueError as err:
        print(f"make bundle: {err}", file=sys.stderr)
        return 1
    manifest = json.loads((bundle / MANIFEST).read_text())
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    print(f"{bundle}: {len(manifest['files'])} files, {total / 2**20:.1f} MiB")
    for index in range(1, manifest["parts"] + 1):
        path = args.dest / part_name(manifest["python"], index, manifest["parts"])
        print(f"  {path.name}: {path.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
