"""Fashion-MNIST through torchvision's own dataset class, from a local copy when there is one.

torchvision's ``FashionMNIST`` reads four uncompressed idx files from ``<root>/FashionMNIST/raw``
and can download them. :func:`fashion_mnist` first looks for a local copy (gzipped or not),
checks each file's idx header, and lays the files out in a cache folder of ours where torchvision
expects them; only when no copy is found does it let torchvision download.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from torchvision.datasets import FashionMNIST

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The four idx files of Fashion-MNIST, as torchvision names them once uncompressed."""

DATA_ENV_VAR = "CNNBOOK_DATA"
CACHE_ENV_VAR = "CNNBOOK_CACHE"
SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
"""Where Debian's ``dataset-fashion-mnist`` package puts the files."""

CLASS_NAMES = tuple(FashionMNIST.classes)
"""The ten class names, in label order (0 = "T-shirt/top", ..., 9 = "Ankle boot")."""

_IMAGE_MAGIC, _LABEL_MAGIC = 0x00000803, 0x00000801  # unsigned bytes; 3 or 1 dimensions


def cache_dir() -> Path:
    """Return cnnbook's cache folder: ``$CNNBOOK_CACHE``, else ``$XDG_CACHE_HOME/cnnbook``,
    else ``~/.cache/cnnbook``."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cnnbook"


def fashion_mnist(
    train: bool,
    root: str | os.PathLike[str] | None = None,
    *,
    transform: Callable | None = None,
) -> FashionMNIST:
    """Return torchvision's ``FashionMNIST`` training (``train=True``) or test set.

    Looks for the four idx files (``.gz`` or uncompressed, flat or in torchvision's
    ``FashionMNIST/raw`` layout) in ``root``, then ``$CNNBOOK_DATA``, then Debian's
    ``/usr/share/datasets/fashion-mnist``. The first complete copy is checked and unpacked into
    :func:`cache_dir`. With no local copy, torchvision downloads the files; if that fails too,
    ``FileNotFoundError`` names every place searched and how to get the data.
    Raises ``ValueError`` naming the file when a copy is corrupt.
    """
    if not isinstance(train, bool):
        raise TypeError(f"train must be True or False, got {train!r}")
    cache = cache_dir()
    raw = cache / "FashionMNIST" / "raw"
    searched = []
    for candidate in _candidates(root):
        searched.append(candidate)
        found = _find_files(candidate)
        if found is not None:
            _install(found, raw)
            return FashionMNIST(str(cache), train=train, transform=transform)
    if all((raw / name).is_file() for name in FILES):
        return FashionMNIST(str(cache), train=train, transform=transform)
    try:
        return FashionMNIST(str(cache), train=train, transform=transform, download=True)
    except Exception as err:
        places = "\n".join(f"  - {p}" for p in [*searched, raw])
        raise FileNotFoundError(
            "Fashion-MNIST was not found and could not be downloaded "
            f"({type(err).__name__}: {err}).\nSearched:\n{places}\n"
            "To get it: on Debian or Ubuntu, `apt-get install dataset-fashion-mnist`; or put the "
            f"four idx files ({', '.join(FILES)}, optionally .gz) in a folder and set "
            f"{DATA_ENV_VAR} to it, or pass root=; or run once with internet access."
        ) from err


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
    """Map each idx file name to its path in ``folder``, or return None if any is missing."""
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


def _install(found: dict[str, Path], raw: Path) -> None:
    """Check each file and unpack it into ``raw``, unless an up-to-date copy is already there."""
    counts = {}
    for name, source in found.items():
        target = raw / name
        if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
            counts[name] = _check_idx(target, target.read_bytes())
            continue
        data = _read(source)
        counts[name] = _check_idx(source, data)
        raw.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=raw, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
        shutil.copystat(source, target)
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


def _read(path: Path) -> bytes:
    """Return the bytes of ``path``, decompressed when it ends in ``.gz``."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path} is not a valid gzip file: {err}") from None


def _check_idx(path: Path, data: bytes) -> int:
    """Check the idx header of ``data`` (read from ``path``) and return its number of items."""
    is_images = "images" in path.name
    magic, dims = (_IMAGE_MAGIC, 3) if is_images else (_LABEL_MAGIC, 1)
    if len(data) < 4 + 4 * dims or struct.unpack(">I", data[:4])[0] != magic:
        raise ValueError(
            f"{path} is not an idx {'image' if is_images else 'label'} file (bad header)"
        )
    shape = struct.unpack(f">{dims}I", data[4 : 4 + 4 * dims])
    expected = 4 + 4 * dims + shape[0] * (shape[1] * shape[2] if is_images else 1)
    if len(data) != expected:
        raise ValueError(
            f"{path} is truncated or padded: {len(data)} bytes, its header promises {expected}"
        )
    if is_images and shape[1:] != (28, 28):
        raise ValueError(
            f"{path} holds {shape[1]}x{shape[2]} images; Fashion-MNIST's are 28x28"
        )
    return shape[0]
