"""Keep the execution cache honest: clear it when cnnbook or the requirements change.

myst-nb's cache keys each page on its code cells only, yet a page's outputs also depend
on the ``cnnbook`` package and on the installed toolchain. ``make book`` runs this
script first. It hashes ``cnnbook/``, ``requirements.txt``, ``requirements.lock`` and
``pyproject.toml``, and compares the hash with the one stored inside the cache folder.
When they differ (or the cache has no hash yet), it deletes the cache and Sphinx's saved
doctrees, so that every page is read and executed again, and stores the new hash. When
they match, it does nothing and the build stays a no-op.

The hash lives inside ``_build/.jupyter_cache`` so that a CI cache of that folder
carries it.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("cnnbook", "requirements.txt", "requirements.lock", "pyproject.toml")
STAMP_NAME = "cnnbook-inputs.sha256"


def inputs_hash(root: Path) -> str:
    """SHA-256 over the path and bytes of every input file under ``root``.

    The files are hashed in a fixed order.
    """
    digest = hashlib.sha256()
    for name in INPUTS:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if (
                not file.is_file()
                or "__pycache__" in file.parts
                or file.suffix == ".pyc"
            ):
                continue
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def refresh(root: Path, build: Path) -> str:
    """Clear ``build``'s execution cache and doctrees if the inputs changed.

    Returns a line that says what happened.
    """
    cache, stamp = build / ".jupyter_cache", build / ".jupyter_cache" / STAMP_NAME
    current = inputs_hash(root)
    stored = stamp.read_text().strip() if stamp.is_file() else None
    if stored == current:
        return f"execution cache is current for cnnbook inputs {current[:12]}"
    if cache.exists():
        reason = (
            "has no inputs hash" if stored is None else f"was made for {stored[:12]}"
        )
        message = f"execution cache {reason}, inputs are now {current[:12]}: cleared it"
    else:
        message = f"no execution cache yet; inputs {current[:12]}"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(build / ".doctrees", ignore_errors=True)
    cache.mkdir(parents=True)
    stamp.write_text(current + "\n")
    return message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--build", type=Path, default=ROOT / "_build", help="the book's build folder"
    )
    args = parser.parse_args()
    print(refresh(ROOT, args.build))


if __name__ == "__main__":
    main()
