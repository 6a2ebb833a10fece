"""requirements.lock agrees with requirements.txt (run `make lock` when it does not)."""

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bookbuild.paths import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")
ROOT_MARK = "-r requirements.txt"


def requirements(path: Path) -> dict[str, Requirement]:
    """requirements.txt's requirements by normalised name, skipping comments/options."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            found[str(canonicalize_name(requirement.name))] = requirement
    return found


def lock_entries(path: Path) -> dict[str, tuple[Version, bool, bool]]:
    """The lock's pins: name -> (version, has a hash, via requirements.txt)."""
    entries: dict[str, tuple[Version, bool, bool]] = {}
    name = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match[1])
            assert name not in entries, f"{name} is pinned twice in {path.name}"
            entries[name] = (Version(match[2]), False, False)
        elif name is not None and line.startswith((" ", "\t")):
            version, hashed, root = entries[name]
            hashed = hashed or line.strip().startswith("--hash=sha256:")
            root = root or ROOT_MARK in line
            entries[name] = (version, hashed, root)
        elif line.strip() and not line.startswith("#"):
            raise AssertionError(f"{path.name}: unexpected line {line!r}")
    return entries


def disagreements(requirements_txt: Path, lock: Path) -> list[str]:
    """What keeps ``lock`` from being requirements_txt's lock; empty when they agree."""
    wanted, locked = requirements(requirements_txt), lock_entries(lock)
    problems = []
    for name, requirement in wanted.items():
        if name not in locked:
            problems.append(f"{name} is in requirements.txt but not pinned in the lock")
            continue
        version, _, root = locked[name]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"{name}=={version} in the lock violates {requirement.specifier}"
            )
        if not root:
            problems.append(f"{name} is not marked 'via {ROOT_MARK}' in the lock")
    stale = sorted(n for n, (_, _, root) in locked.items() if root and n not in wanted)
    problems += [f"{name} is a lock root but not in requirements.txt" for name in stale]
    problems += [
        f"{n} has no hash" for n, (_, hashed, _) in locked.items() if not hashed
    ]
    return problems


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    req, lock = tmp_path / "requirements.txt", tmp_path / "requirements.lock"
    req.write_text((ROOT / "requirements.txt").read_text())
    lock.write_text((ROOT / "requirements.lock").read_text())
    return req, lock


def test_the_lock_matches_requirements_txt():
    problems = disagreements(ROOT / "requirements.txt", ROOT / "requirements.lock")
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_the_lock_pins_the_torch_the_book_is_built_with():
    locked = lock_entries(ROOT / "requirements.lock")
    assert locked["torch"][0] == Version("2.14.1")
    assert locked["torchvision"][0] == Version("0.29.1")


def test_the_lock_says_how_it_was_made():
    head = (ROOT / "requirements.lock").read_text().splitlines()[:20]
    assert any("make lock" in line for line in head)
    assert any("pip-compile --generate-hashes" in line for line in head)


def test_a_requirement_added_without_relocking_is_caught(tmp_path):
    req, lock = _copies(tmp_path)
    req.write_text(req.read_text() + "unlocked-example>=1  # new, not locked\n")
    assert disagreements(req, lock) == [
        "unlocked-example is in requirements.txt but not pinned in the lock"
    ]


def _pin(lock: Path, name: str) -> str:
    """The start of the lock's line pinning ``name``, whatever version it holds."""
    return f"\n{name}=={lock_entries(lock)[name][0]} \\"


def test_a_pin_outside_the_range_is_caught(tmp_path):
    req, lock = _copies(tmp_path)
    sphinx = _pin(lock, "sphinx")
    lock.write_text(lock.read_text().replace(sphinx, "\nsphinx==99.0.0 \\"))
    assert disagreements(req, lock) == []  # sphinx is no root: any version fits
    torch = _pin(lock, "torch")
    lock.write_text(lock.read_text().replace(torch, "\ntorch==2.3.0 \\"))
    assert disagreements(req, lock) == ["torch==2.3.0 in the lock violates <3,>=2.4"]


def test_a_narrowed_range_is_caught(tmp_path):
    req, lock = _copies(tmp_path)
    text = req.read_text()
    assert "\ntorch>=2.4,<3\n" in text
    req.write_text(text.replace("\ntorch>=2.4,<3\n", "\ntorch>=2.4,<2.4.1\n"))
    locked = lock_entries(lock)["torch"][0]
    assert disagreements(req, lock) == [
        f"torch=={locked} in the lock violates <2.4.1,>=2.4"
    ]


def test_a_stale_root_is_caught(tmp_path):
    req, lock = _copies(tmp_path)
    lines = req.read_text().splitlines(keepends=True)
    req.write_text("".join(line for line in lines if not line.startswith("tqdm")))
    assert disagreements(req, lock) == [
        "tqdm is a lock root but not in requirements.txt"
    ]


def test_a_pin_without_hash_is_caught(tmp_path):
    req, lock = _copies(tmp_path)
    lock.write_text(lock.read_text() + "extra-package==1.0\n    # via tqdm\n")
    assert disagreements(req, lock) == ["extra-package has no hash"]


def test_comments_and_options_in_requirements_txt_are_skipped(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text(
        "# a comment\n--extra-index-url https://example.org\n"
        "pyyaml>=6  # trailing\n\ntomli>=1; python_version < '3'\n"
    )
    assert list(requirements(req)) == ["pyyaml"]
