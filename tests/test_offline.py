"""bookbuild.bundle and bookbuild.offline: the bundle's parts, manifest and checks.

These run without a network: pip's download and the data are replaced by small files.
The real bundle, installed and built from with no network, is checked by
checks/test_offline_build.py.
"""

import email.parser
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from bookbuild import bundle, offline
from bookbuild.paths import ROOT

PYTHON = "{}.{}".format(*sys.version_info[:2])


def _fake_weights_name(content: bytes) -> str:
    """A weights path whose name carries the hash prefix of ``content``."""
    prefix = hashlib.sha256(content).hexdigest()[:8]
    return f"{offline.TORCH_HOME}/hub/checkpoints/fake-{prefix}.pth"


@pytest.fixture
def small_bundle(tmp_path, monkeypatch):
    """make_bundle with its download and data steps replaced by small files, in parts
    of at most 1 MiB; returns the folder the parts were written to."""
    weights = b"W" * 300_000
    monkeypatch.setattr(offline, "WEIGHTS", _fake_weights_name(weights))

    def download_wheels(dest, python, host_has):
        (dest / "pip-26.3-py3-none-any.whl").write_bytes(b"P" * 200_000)
        (dest / "tool-1.0-py3-none-any.whl").write_bytes(b"T" * 400_000)
        return ["pip==26.3", "tool==1.0"]

    def write_data(folder, source):
        for index, name in enumerate(offline.DATA_FILES):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(bytes([index]) * 250_000)
        (folder / offline.WEIGHTS).parent.mkdir(parents=True)
        (folder / offline.WEIGHTS).write_bytes(source.read_bytes())

    monkeypatch.setattr(bundle, "download_wheels", download_wheels)
    monkeypatch.setattr(bundle, "write_data", write_data)
    source = tmp_path / "weights.pth"
    source.write_bytes(weights)
    out = tmp_path / "out"
    bundle.make_bundle(out, PYTHON, source, ("pytest",), part_mib=1)
    return out


def _unpack(parts, target: Path) -> Path:
    for part in parts:
        with tarfile.open(part) as tar:
            tar.extractall(target, filter="data")
    return target / offline.bundle_name(PYTHON)


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / offline.MANIFEST).read_text())


def _rewrite_manifest(folder: Path, **changes) -> None:
    (folder / offline.MANIFEST).write_text(json.dumps(_manifest(folder) | changes))


# ------------------------------------------------------------ making the bundle


def test_parts_fit_their_limit_and_unpack_into_a_bundle_that_checks(
    small_bundle, tmp_path
):
    parts = sorted(small_bundle.glob("*.tar"))
    manifest = _manifest(small_bundle / offline.bundle_name(PYTHON))
    assert len(parts) == manifest["parts"] > 1
    assert [p.name for p in parts] == [
        offline.part_name(PYTHON, i, len(parts)) for i in range(1, len(parts) + 1)
    ]
    assert all(part.stat().st_size <= 2**20 for part in parts)
    received = _unpack(parts, tmp_path / "received")
    assert offline.check(received) == manifest


def test_every_part_carries_the_manifest_and_its_own_files(small_bundle):
    folder = small_bundle / offline.bundle_name(PYTHON)
    manifest = _manifest(folder)
    for index, part in enumerate(sorted(small_bundle.glob("*.tar")), 1):
        with tarfile.open(part) as tar:
            names = {m.name.split("/", 1)[1] for m in tar.getmembers()}
        own = {n for n, e in manifest["files"].items() if e["part"] == index}
        assert names == own | {offline.MANIFEST, offline.REQUIREMENTS}


def test_the_manifest_hashes_every_file_and_records_what_the_host_has(small_bundle):
    folder = small_bundle / offline.bundle_name(PYTHON)
    manifest = _manifest(folder)
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != offline.MANIFEST
    }
    assert set(manifest["files"]) == on_disk
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == offline.sha256(folder / name)
        assert entry["bytes"] == (folder / name).stat().st_size
    assert manifest["python"] == PYTHON
    assert set(bundle.HOST_HAS) | {"pytest"} == set(manifest["host_has"])
    assert (folder / offline.REQUIREMENTS).read_text() == "pip==26.3\ntool==1.0\n"


def test_a_missing_part_is_named(small_bundle, tmp_path):
    parts = sorted(small_bundle.glob("*.tar"))
    received = _unpack(parts[1:], tmp_path / "received")
    with pytest.raises(offline.BundleError, match=r"part 1 of \d+ \(.*part1of"):
        offline.check(received)


def test_making_it_twice_gives_the_same_parts(small_bundle, tmp_path, monkeypatch):
    first = {p.name: p.read_bytes() for p in small_bundle.glob("*.tar")}
    source = tmp_path / "weights.pth"
    os.utime(source, (0, 0))  # file times must not reach the parts
    bundle.make_bundle(small_bundle, PYTHON, source, ("pytest",), part_mib=1)
    assert {p.name: p.read_bytes() for p in small_bundle.glob("*.tar")} == first


@pytest.mark.parametrize(
    ("python", "part_mib", "message"),
    [
        ("3", 60, "python must be a version such as 3.12"),
        ("three", 60, "python must be a version"),
        ("3.12", 0, "part_mib must be at least 1"),
    ],
)
def test_make_bundle_refuses_bad_arguments(tmp_path, python, part_mib, message):
    with pytest.raises(ValueError, match=message):
        bundle.make_bundle(tmp_path, python, tmp_path / "w.pth", part_mib=part_mib)


def test_pack_parts_fills_first_fit_largest_first():
    sizes = {"a": 50, "b": 40, "c": 30, "d": 20, "e": 10}
    assert bundle.pack_parts(sizes, 60) == [["a", "e"], ["b", "d"], ["c"]]
    assert bundle.pack_parts(sizes, 150) == [["a", "b", "c", "d", "e"]]


def test_pack_parts_refuses_a_file_larger_than_a_part():
    with pytest.raises(ValueError, match=r"big \(70 bytes\) is larger than one part"):
        bundle.pack_parts({"big": 70, "small": 1}, 60)


def test_write_tar_is_the_same_bytes_whatever_the_file_times(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "x.txt").write_text("x")
    bundle.write_tar(tmp_path / "one.tar", root, ["x.txt"])
    os.utime(root / "x.txt", (1, 1))
    bundle.write_tar(tmp_path / "two.tar", root, ["x.txt"])
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as tar:
        (member,) = tar.getmembers()
    assert (member.name, member.mode, member.mtime) == ("root/x.txt", 0o644, 0)


def test_lock_pins_read_every_exact_pin():
    pins = bundle.lock_pins()
    lock = (ROOT / "requirements.lock").read_text()
    assert f"\ntorch=={pins['torch']} \\" in lock
    assert f"\nmyst-nb=={pins['myst-nb']} \\" in lock
    assert len(pins) == len(re.findall(r"^[A-Za-z0-9][\w.-]*==", lock, re.MULTILINE))


def test_toolchain_lines_are_the_builds_requirements():
    lines = bundle.toolchain_lines()
    names = {line.split("=")[0].split(">")[0].split("<")[0].strip() for line in lines}
    assert names == set(bundle.TOOLCHAIN)
    assert not any("#" in line for line in lines)


def test_toolchain_lines_name_what_requirements_lack(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("jupyter-book>=1\n# captum is gone\n")
    with pytest.raises(ValueError, match="lacks captum, matplotlib, myst-nb"):
        bundle.toolchain_lines(requirements)


def test_host_versions_take_the_locks_or_the_given_version():
    pins = {name: "1.0" for name in bundle.HOST_HAS} | {"matplotlib": "3.11.2"}
    versions = bundle.host_versions(("Matplotlib", "scipy==1.16.0+cu"), pins)
    assert versions["matplotlib"] == "3.11.2"
    assert versions["scipy"] == "1.16.0"  # local labels are the host's business
    assert set(bundle.HOST_HAS) <= set(versions)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("scipy", "scipy is not in requirements.lock; give its version as scipy==X.Y"),
        ("not a name", "is not a distribution name"),
    ],
)
def test_host_versions_refuse_what_they_cannot_pin(entry, message):
    pins = {name: "1.0" for name in bundle.HOST_HAS}
    with pytest.raises(ValueError, match=message):
        bundle.host_versions((entry,), pins)


def test_a_stub_wheel_carries_only_a_name_and_a_version(tmp_path):
    path = bundle.write_stub(tmp_path, "typing-extensions", "4.16.0")
    assert path.name == "typing_extensions-4.16.0+host-py3-none-any.whl"
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        metadata = email.parser.Parser().parsestr(
            wheel.read("typing_extensions-4.16.0+host.dist-info/METADATA").decode()
        )
    assert names == {
        f"typing_extensions-4.16.0+host.dist-info/{n}"
        for n in ("METADATA", "WHEEL", "RECORD")
    }
    assert (metadata["Name"], metadata["Version"]) == (
        "typing-extensions",
        "4.16.0+host",
    )
    assert metadata.get_all("Requires-Dist") is None


# ------------------------------------------------------------ checking it on the host


@pytest.fixture
def received(small_bundle, tmp_path):
    return _unpack(sorted(small_bundle.glob("*.tar")), tmp_path / "received")


def test_a_folder_without_a_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(offline.BundleError, match="no MANIFEST.json. Make one with"):
        offline.check(tmp_path)


def test_a_folder_of_parts_says_how_to_unpack_them(small_bundle):
    with pytest.raises(offline.BundleError, match=r"holds the parts .*: unpack them"):
        offline.check(small_bundle)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "is not valid JSON"), ('{"format": 99}', "not a format 1 cnnbook bundle")],
)
def test_a_damaged_manifest_is_named(tmp_path, text, message):
    (tmp_path / offline.MANIFEST).write_text(text)
    with pytest.raises(offline.BundleError, match=message):
        offline.check(tmp_path)


def test_a_bundle_for_another_python_says_which_to_make(received):
    _rewrite_manifest(received, python="3.99")
    with pytest.raises(
        offline.BundleError,
        match=rf"is for CPython 3.99, .* is {PYTHON}: .*PYTHON_VERSION={PYTHON}",
    ):
        offline.check(received)


def test_a_bundle_made_without_the_data_is_refused(received):
    files = _manifest(received)["files"]
    del files[offline.DATA_FILES[0]]
    _rewrite_manifest(received, files=files)
    with pytest.raises(offline.BundleError, match="was made without fashion-mnist/"):
        offline.check(received)


def test_a_missing_file_is_named_with_its_part(received):
    name = offline.DATA_FILES[1]
    part = _manifest(received)["files"][name]["part"]
    (received / name).unlink()
    with pytest.raises(
        offline.BundleError, match=rf"part {part} of \d+ .* is missing {name}$"
    ):
        offline.check(received)


def test_a_damaged_file_is_named(received):
    (received / "wheels/tool-1.0-py3-none-any.whl").write_bytes(b"damaged")
    with pytest.raises(
        offline.BundleError,
        match=r"sha256 does not match the manifest for wheels/tool-1.0-py3-none-any",
    ):
        offline.check(received)


def test_weights_whose_hash_does_not_fit_their_name_are_refused(received, monkeypatch):
    real = offline.WEIGHTS
    monkeypatch.setattr(offline, "WEIGHTS", real.replace("fake-", "fake-0"))
    files = _manifest(received)["files"]
    files[offline.WEIGHTS] = files.pop(real)
    (received / real).rename(received / offline.WEIGHTS)
    _rewrite_manifest(received, files=files)
    with pytest.raises(offline.BundleError, match="expected it to start with 0"):
        offline.check(received)


def test_what_the_host_should_have_and_lacks_is_named(received):
    _rewrite_manifest(
        received, host_has=_manifest(received)["host_has"] | {"no-such-dist": "1"}
    )
    with pytest.raises(
        offline.BundleError, match="leaves out no-such-dist for the host"
    ):
        offline.check(received)


def test_require_gpu_without_cuda_is_refused_before_anything_is_installed(
    received, monkeypatch, tmp_path
):
    assert not torch.cuda.is_available()  # this test is about a machine without CUDA
    monkeypatch.setenv("CNNBOOK_REQUIRE_GPU", "1")
    with pytest.raises(offline.BundleError, match="sees no CUDA device"):
        offline.install(received, tmp_path / "venv")
    assert not (tmp_path / "venv").exists()


def test_install_needs_the_bundles_pip(received, tmp_path):
    pip = next((received / offline.WHEELS).glob("pip-*.whl"))
    name = pip.relative_to(received).as_posix()
    pip.rename(received / "elsewhere.whl")
    files = _manifest(received)["files"]
    files["elsewhere.whl"] = files.pop(name)
    _rewrite_manifest(received, files=files)
    with pytest.raises(offline.BundleError, match="has no pip wheel in wheels/"):
        offline.install(received, tmp_path / "venv")
    assert not (tmp_path / "venv").exists()


def test_the_command_line_reports_a_bad_bundle_in_one_line(tmp_path, capsys):
    assert offline.main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("offline build: ") and err.count("\n") == 1


def test_the_command_line_says_a_good_bundle_is_complete(received, capsys):
    assert offline.main(["check", str(received)]) == 0
    assert f"CPython {PYTHON}, complete" in capsys.readouterr().out


# ------------------------------------------------------------ the environment


def test_pip_sees_no_index_or_configuration(monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_INDEX_URL", "https://example.invalid/simple")
    env = offline.pip_environment()
    assert "PIP_FIND_LINKS" not in env and "PIP_INDEX_URL" not in env
    assert env["PIP_CONFIG_FILE"] == os.devnull and env["PIP_NO_INDEX"] == "1"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(pip.stdout.split()) == [  # no file's settings, only these
        ":env:.config-file='/dev/null'",
        ":env:.disable-pip-version-check='1'",
        ":env:.no-index='1'",
    ]


def test_the_new_environment_sees_its_own_packages_then_the_hosts(tmp_path):
    python = offline.create_venv(tmp_path / "venv")
    probe = "import json, sys, pytest; print(json.dumps([sys.path, pytest.__file__]))"
    path, pytest_file = json.loads(
        subprocess.check_output([python, "-c", probe], text=True)
    )
    own = path.index(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            text=True,
        ).strip()
    )
    host = [path.index(d) for d in offline.host_site_dirs()]
    assert host and all(own < index for index in host)
    assert any(Path(pytest_file).is_relative_to(d) for d in offline.host_site_dirs())


def test_host_site_dirs_hold_this_pythons_packages():
    dirs = offline.host_site_dirs()
    assert Path(pytest.__file__).parent.parent in {Path(d) for d in dirs}
    assert all(Path(d).is_dir() for d in dirs)


# ------------------------------------------------------------ the Makefile


def _dry_run(*args: str) -> str:
    return subprocess.run(
        ["make", "--dry-run", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")},
    ).stdout


def test_make_book_offline_installs_from_the_bundle_with_the_hosts_python(tmp_path):
    out = _dry_run(
        "book", f"OFFLINE_BUNDLE={tmp_path}", "PYTHON=/host/python3", "VENV=/tmp/v"
    )
    assert f"/host/python3 -m bookbuild.offline install {tmp_path} /tmp/v" in out
    assert f"/tmp/v/bin/python -m bookbuild.offline check {tmp_path}" in out
    assert "requirements.lock" not in out and "bookbuild.weights" not in out
    assert "/tmp/v/bin/jupyter-book build" in out


def test_make_book_online_does_not_check_a_bundle():
    assert "bookbuild.offline" not in _dry_run("book")


def test_make_bundle_passes_version_and_host_packages(tmp_path):
    out = _dry_run(
        "bundle", f"BUNDLE_DIR={tmp_path}", "PYTHON_VERSION=3.12", "HOST_HAS=a b==1"
    )
    assert "-m bookbuild.bundle --dest" in out
    assert "--python 3.12" in out and "--host-has a b==1" in out


def test_the_bundle_module_names_bad_arguments_in_one_line(capsys, monkeypatch):
    monkeypatch.setattr(
        "bookbuild.weights.provision_mobilenet_v2", lambda: Path("/w.pth")
    )
    assert bundle.main(["--python", "3", "--dest", "/nonexistent"]) == 1
    assert capsys.readouterr().err.startswith("make bundle: python must be")
