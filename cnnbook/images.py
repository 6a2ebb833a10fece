"""Loading photos as RGB images and turning them into batches for a network."""

from __future__ import annotations

import os
import warnings
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnbook import _checks

SAMPLE_IMAGES = {
    "chelsea": "chelsea.png",
    "coffee": "coffee.jpg",
    "rocket": "rocket.jpg",
}
"""The bundled photos by name, all from scikit-image's sample data and free to reuse:
"Chelsea the cat" (CC0), a cup of coffee (CC0) and a Falcon 9 launch (public domain).

See ``cnnbook/data/README.md`` for their sources and licences.
"""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
"""Per-channel (R, G, B) mean of the ImageNet training images.

torchvision's pretrained models expect their inputs normalised with it.
"""
IMAGENET_STD = (0.229, 0.224, 0.225)
"""Per-channel (R, G, B) standard deviation of the ImageNet training images."""

_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


def sample_image(name: str = "chelsea") -> Image.Image:
    """Return one of the book's bundled photos as an RGB image.

    Args:
        name: which photo (a key of :data:`SAMPLE_IMAGES`): ``"chelsea"``, the cat,
            451 × 300 pixels (width × height); ``"coffee"``, a cup of coffee,
            600 × 400; or ``"rocket"``, a rocket launch, 640 × 427.

    Raises:
        TypeError: ``name`` is not a str.
        ValueError: there is no bundled photo of that name.
    """
    filename = SAMPLE_IMAGES[_checks.choice("name", name, tuple(SAMPLE_IMAGES))]
    with as_file(files("cnnbook") / "data" / filename) as path:
        return load_image(path)


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open the image file at ``path`` and return it as an RGB ``PIL.Image``.

    Any mode PIL reads is converted: greyscale (``L``, ``1``), 16-bit greyscale
    (``I;16``, ``I``; scaled so 65535 becomes 255), palette (``P``), ``CMYK`` and
    more. Transparent pixels are laid over white, and an EXIF orientation tag is
    applied.

    Args:
        path: the image file, a str or a ``pathlib.Path``.

    Raises:
        TypeError: ``path`` is not a str or path.
        FileNotFoundError: nothing is at ``path``.
        IsADirectoryError: ``path`` is a folder.
        ValueError: the file is empty, truncated, unreadable or oversized: larger
            than PIL's decompression-bomb limit, ``PIL.Image.MAX_IMAGE_PIXELS``
            (such a file is refused before it is decoded).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a file path (str or os.PathLike), got {type(path).__name__}"
        )
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no image file at '{path}'")
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"'{path}' is empty (0 bytes), not an image")
    try:
        with warnings.catch_warnings():
            # PIL only warns between 1x and 2x its limit; refuse the whole range.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                return _to_rgb(ImageOps.exif_transpose(img))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValueError(f"'{path}' is too large to load safely: {err}") from None
    except UnidentifiedImageError:
        raise ValueError(f"'{path}' is not an image file that PIL can read") from None
    except OSError as err:
        if isinstance(err, PermissionError):
            raise
        raise ValueError(
            f"'{path}' could not be decoded (truncated or corrupt?): {err}"
        ) from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert an image of any PIL mode to RGB, compositing transparency over white."""
    if img.mode in _SIXTEEN_BIT_MODES:
        grey16 = np.clip(np.asarray(img, dtype=np.float64), 0, 65535)
        img = Image.fromarray(np.round(grey16 / 257).astype(np.uint8), mode="L")
    if img.mode in _ALPHA_MODES or (
        img.mode in {"P", "L", "RGB"} and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def to_batch(
    img: Image.Image,
    size: int | tuple[int, int],
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Resize ``img`` and return it as a ``(1, 3, H, W)`` float tensor in [0, 1].

    Args:
        img: the image, in any PIL mode; it is converted to RGB.
        size: the output's ``(H, W)``, or one int for a square. The aspect ratio is
            not kept, exactly as with ``torchvision.transforms.Resize((H, W))``.
        device: where to put the tensor; None leaves it on the CPU.

    Raises:
        TypeError: ``img`` is not a PIL image, or ``size`` not an int or a pair.
        ValueError: ``size`` is not positive or not a pair.
    """
    if not isinstance(img, Image.Image):
        raise TypeError(f"img must be a PIL.Image, got {type(img).__name__}")
    height, width = _checks.int_pair("size", size)
    if min(height, width) < 1:
        raise ValueError(
            "size must be a positive int or an (h, w) pair of positive ints, "
            f"got {size!r}"
        )
    transform = T.Compose([T.Resize((height, width)), T.ToTensor()])
    batch: torch.Tensor = transform(img.convert("RGB")).unsqueeze(0)
    return batch if device is None else batch.to(_checks.device("device", device))
