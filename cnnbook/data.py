"""Fashion-MNIST through torchvision's own dataset class, from a local copy if any.

torchvision's ``FashionMNIST`` reads four uncompressed idx files from
``<root>/FashionMNIST/raw`` and can download them. :func:`fashion_mnist` first looks
for a local copy (gzipped or not), checks each file's idx header, and lays the files
out in a cache folder of ours where torchvision expects them; only when no copy is
found does it let torchvision download.

The cache remembers where each file came from (:data:`MANIFEST`): the source's path,
size and modification time, and the SHA-256 of the unpacked bytes. A cached file is
reused only while all of them still match, so reading another copy (a small subset
passed as ``root=``, say) replaces the cache instead of being shadowed by it, and a
cached file changed behind our back is unpacked again.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torchvision.datasets import FashionMNIST

from cnnbook import _checks

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The four idx files of Fashion-MNIST, as torchvision names them uncompressed."""

DATA_ENV_VAR = "CNNBOOK_DATA"
CACHE_ENV_VAR = "CNNBOOK_CACHE"
SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
"""Where Debian's ``dataset-fashion-mnist`` package puts the files."""

MANIFEST = "cnnbook-source.json"
"""The file, next to ``raw/`` in the cache, that records where each cached file came
from."""

FULL_SIZES = {"train": 60_000, "test": 10_000}
"""The number of images in the full training and test sets; ``expect_full=True`` of
:func:`fashion_mnist` checks them."""

DOWNLOADED = "downloaded by torchvision"
"""The source recorded in :data:`MANIFEST` for files that torchvision downloaded."""

CLASS_NAMES = tuple(FashionMNIST.classes)
"""The ten class names, in label order (0 = "T-shirt/top", ..., 9 = "Ankle boot")."""

_IMAGE_MAGIC, _LABEL_MAGIC = 0x00000803, 0x00000801  # unsigned bytes; 3 or 1 dimensions


def cache_dir() -> Path:
    """Return cnnbook's cache folder: ``$CNNBOOK_CACHE``, else
    ``$XDG_CACHE_HOME/cnnbook``, else ``~/.cache/cnnbook``."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cnnbook"


def fashion_mnist(
    train: bool,
    root: str | os.PathLike[str] | None = None,
    *,
    transform: Callable[[Any], Any] | None = None,
    expect_full: bool = False,
) -> FashionMNIST:
    """Return torchvision's ``FashionMNIST`` training or test set.

    Looks for the four idx files (``.gz`` or uncompressed, flat or in torchvision's
    ``FashionMNIST/raw`` layout) in ``root``, then ``$CNNBOOK_DATA``, then Debian's
    ``/usr/share/datasets/fashion-mnist``. The first complete copy is checked and
    unpacked into :func:`cache_dir`, replacing whatever copy the cache held before.
    With no local copy, the cached files are used; with none cached either,
    torchvision downloads them.

    Args:
        train: ``True`` for the training set, ``False`` for the test set.
        root: a folder to search first; ``None`` to search only the places above.
        transform: applied to each PIL image, as in torchvision; ``None`` for none.
        expect_full: if ``True``, insist on every image of the set
            (:data:`FULL_SIZES`: 60,000 for training, 10,000 for test). Pages that
            quote results for the whole data set ask for this.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if a copy is corrupt (the message names the file), or if
            ``expect_full=True`` and the set is smaller (it names the copy found).
        FileNotFoundError: if there is no copy and torchvision cannot download one;
            the message names every place searched and how to get the data.
    """
    _checks.flag("train", train)
    _checks.flag("expect_full", expect_full)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder (str or Path) or None, got {root!r}")
    if transform is not None and not callable(transform):
        raise TypeError(f"transform must be callable or None, got {transform!r}")
    cache = cache_dir()
    raw = cache / "FashionMNIST" / "raw"
    manifest = raw.parent / MANIFEST
    searched = []
    for candidate in _candidates(root):
        searched.append(candidate)
        found = _find_files(candidate)
        if found is not None:
            _install(found, raw, manifest)
            break
    else:
        if not all((raw / name).is_file() for name in FILES):
            _download(cache, searched)
            _record_download(raw, manifest)
    dataset = FashionMNIST(str(cache), train=train, transform=transform)
    if expect_full:
        _check_full(dataset, train, raw, manifest)
    return dataset


def _download(cache: Path, searched: list[Path]) -> None:
    """Let torchvision download the files into ``cache``, or explain what to do."""
    try:
        FashionMNIST(str(cache), train=True, download=True)
    except Exception as err:
        places = "\n".join(
            f"  - {p}" for p in [*searched, cache / "FashionMNIST" / "raw"]
        )
        raise FileNotFoundError(
            "Fashion-MNIST was not found and could not be downloaded "
            f"({type(err).__name__}: {err}).\nSearched:\n{places}\n"
            "To get it: on Debian or Ubuntu, `apt-get install dataset-fashion-mnist`; "
            f"or put the four idx files ({', '.join(FILES)}, optionally .gz) in a "
            f"folder and set {DATA_ENV_VAR} to it, or pass root=; or run once with "
            "internet access."
        ) from err


def _check_full(dataset: FashionMNIST, train: bool, raw: Path, manifest: Path) -> None:
    """Raise ``ValueError`` naming the copy unless ``dataset`` is the full split."""
    split = "train" if train else "test"
    expected = FULL_SIZES[split]
    label = "training" if train else "test"
    if len(dataset) == expected:
        return
    name = "train-images-idx3-ubyte" if train else "t10k-images-idx3-ubyte"
    source = _read_manifest(manifest).get(name, {}).get("source")
    if source is None:
        where = f"the cached copy in {raw}, of unknown origin"
    elif source == DOWNLOADED:
        where = f"the copy {DOWNLOADED} into {raw}"
    else:
        where = f"the copy at {source} (unpacked into {raw})"
    raise ValueError(
        f"expected the full Fashion-MNIST {label} set of {expected:,} images, but "
        f"found {len(dataset):,} in {where}. Pass root= or set {DATA_ENV_VAR} to a "
        "full copy, or remove the smaller copy so that Debian's "
        "dataset-fashion-mnist package (or a download) is used."
    )


def _candidates(root: str | os.PathLike[str] | None) -> list[Path]:
    """The folders to search, in order."""
    candidates = []
    if root is not None:
        candidates.append(Path(root).expanduser())
    if os.environ.get(DATA_ENV_VAR):
        candidates.append(Path(os.environ[DATA_ENV_VAR]).expanduser())
    candidates.extend(SYSTEM_DIRS)
    return candidates


def _find_files(folder: Path) -> dict[str, Path] | None:
    """Map each idx file name to its path in ``folder``, or None if any is missing."""
    found = {}
    for name in FILES:
        options = [
            folder / sub / f"{name}{ext}"
            for sub in ("", "FashionMNIST/raw")
            for ext in ("", ".gz")
        ]
        path = next((p for p in options if p.is_file()), None)
        if path is None:
            return None
        found[name] = path
    return found


def _install(found: dict[str, Path], raw: Path, manifest: Path) -> None:
    """Check the files in ``found`` and unpack them into ``raw``, recording each
    source in ``manifest``; a cached file is kept only if it came from the same source
    (same path, size and mtime) and its bytes still match the recorded hash."""
    records = _read_manifest(manifest)
    counts, fresh = {}, {}
    for name, source in found.items():
        target = raw / name
        info = source.stat()
        origin = {
            "source": str(source.resolve()),
            "size": info.st_size,
            "mtime_ns": info.st_mtime_ns,
        }
        record = records.get(name, {})
        if target.is_file() and all(record.get(k) == v for k, v in origin.items()):
            data = target.read_bytes()
            if _sha256(data) == record.get("sha256"):
                counts[name] = _check_idx(target, data)
                continue
        data = _read(source)
        counts[name] = _check_idx(source, data)
        fresh[name] = data
        records[name] = {**origin, "sha256": _sha256(data), "items": counts[name]}
    for split in ("train", "t10k"):
        images, labels = (
            counts[f"{split}-images-idx3-ubyte"],
            counts[f"{split}-labels-idx1-ubyte"],
        )
        if images != labels:
            raise ValueError(
                f"{found[f'{split}-images-idx3-ubyte']} holds {images} images but "
                f"{found[f'{split}-labels-idx1-ubyte']} holds {labels} labels"
            )
    if not fresh:
        return
    for name, data in fresh.items():
        _write_atomically(raw / name, data)
    _write_manifest(manifest, records)


def _record_download(raw: Path, manifest: Path) -> None:
    """Record that torchvision downloaded the files now in ``raw``."""
    records = {}
    for name in FILES:
        data = (raw / name).read_bytes()
        records[name] = {"source": DOWNLOADED, "sha256": _sha256(data)}
    _write_manifest(manifest, records)


def _read_manifest(manifest: Path) -> dict[str, dict[str, Any]]:
    """The records in ``manifest``, or an empty dict if it is missing or unreadable."""
    try:
        records = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(records, dict):
        return {}
    return {k: v for k, v in records.items() if isinstance(v, dict)}


def _write_manifest(manifest: Path, records: dict[str, dict[str, Any]]) -> None:
    text = json.dumps(records, indent=2, sort_keys=True) + "\n"
    _write_atomically(manifest, text.encode("utf-8"))


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that readers never see a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(dir=target.parent, delete=False)
    try:
        with tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
    except BaseException:
        # Leave no temporary file behind; the original error is the one to see.
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes:
    """Return the bytes of ``path``, decompressed when it ends in ``.gz``."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path} is not a valid gzip file: {err}") from None


def _check_idx(path: Path, data: bytes) -> int:
    """Check the idx header of ``data`` (read from ``path``); return its item count."""
    is_images = "images" in path.name
    magic, dims = (_IMAGE_MAGIC, 3) if is_images else (_LABEL_MAGIC, 1)
    if len(data) < 4 + 4 * dims or struct.unpack(">I", data[:4])[0] != magic:
        raise ValueError(
            f"{path} is not an idx {'image' if is_images else 'label'} file "
            "(bad header)"
        )
    shape = struct.unpack(f">{dims}I", data[4 : 4 + 4 * dims])
    expected = 4 + 4 * dims + shape[0] * (shape[1] * shape[2] if is_images else 1)
    if len(data) != expected:
        raise ValueError(
            f"{path} is truncated or padded: {len(data)} bytes, its header promises "
            f"{expected}"
        )
    if is_images and shape[1:] != (28, 28):
        raise ValueError(
            f"{path} holds {shape[1]}x{shape[2]} images; Fashion-MNIST's are 28x28"
        )
    return int(shape[0])
