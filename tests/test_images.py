import hashlib
import re
from importlib.resources import files

import numpy as np
import pytest
import torch
import torchvision.transforms as T
from PIL import Image

from cnnbook import SAMPLE_IMAGES, load_image, sample_image, to_batch


def _save(tmp_path, img, name, **kwargs):
    path = tmp_path / name
    img.save(path, **kwargs)
    return path


# --- sample_image ---------------------------------------------------------------------


def test_sample_image_is_the_bundled_rgb_photo():
    img = sample_image()
    assert img.mode == "RGB"
    assert img.size == (451, 300)


@pytest.mark.parametrize(
    ("name", "size"),
    [("chelsea", (451, 300)), ("coffee", (600, 400)), ("rocket", (640, 427))],
)
def test_each_bundled_photo_by_name(name, size):
    img = sample_image(name)
    assert img.mode == "RGB" and img.size == size


def test_unknown_photo_names_the_choices():
    with pytest.raises(ValueError, match="'chelsea', 'coffee' or 'rocket', got 'dog'"):
        sample_image("dog")
    with pytest.raises(TypeError, match="name must be"):
        sample_image(3)


@pytest.mark.parametrize("filename", sorted(SAMPLE_IMAGES.values()))
def test_bundled_photo_matches_the_checksum_in_its_licence_note(filename):
    data = files("cnnbook") / "data"
    note = (data / "README.md").read_text()
    section = note.split(f"## `{filename}`", 1)[1].split("\n## ", 1)[0]
    assert "Licence: **CC0**" in section or "Licence: **public domain**" in section
    recorded = re.search(r"sha256: `([0-9a-f]{64})`", section).group(1)
    assert hashlib.sha256((data / filename).read_bytes()).hexdigest() == recorded


def test_every_bundled_file_is_documented_and_offered():
    data = files("cnnbook") / "data"
    photos = {p.name for p in data.iterdir() if p.name.endswith((".png", ".jpg"))}
    assert photos == set(SAMPLE_IMAGES.values())


# --- load_image: every mode becomes RGB -----------------------------------------------


def test_rgb_file_round_trips(tmp_path):
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    img = load_image(_save(tmp_path, Image.fromarray(pixels), "rgb.png"))
    assert img.mode == "RGB" and img.size == (5, 4)
    assert np.array_equal(np.asarray(img), pixels)


def test_string_path_is_accepted(tmp_path):
    path = _save(tmp_path, Image.new("RGB", (3, 2), (1, 2, 3)), "rgb.png")
    assert load_image(str(path)).getpixel((0, 0)) == (1, 2, 3)


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK"])
def test_common_modes_become_rgb(tmp_path, mode):
    suffix = "tif" if mode == "CMYK" else "png"
    img = load_image(_save(tmp_path, Image.new(mode, (6, 4)), f"{mode}.{suffix}"))
    assert img.mode == "RGB" and img.size == (6, 4)


def test_grey_value_is_kept(tmp_path):
    img = load_image(_save(tmp_path, Image.new("L", (2, 2), 77), "grey.png"))
    assert img.getpixel((1, 1)) == (77, 77, 77)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    grey16 = np.array([[0, 257 * 100], [257 * 200, 65535]], dtype=np.uint16)
    path = _save(tmp_path, Image.fromarray(grey16), "grey16.png")
    with Image.open(path) as raw:
        assert raw.mode.startswith("I")
    img = load_image(path)
    assert np.asarray(img)[..., 0].tolist() == [[0, 100], [200, 255]]


def test_transparent_pixels_are_laid_over_white(tmp_path):
    rgba = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    rgba.putpixel((1, 0), (0, 0, 255, 0))  # fully transparent blue
    img = load_image(_save(tmp_path, rgba, "rgba.png"))
    assert img.getpixel((0, 0)) == (255, 0, 0)
    assert img.getpixel((1, 0)) == (255, 255, 255)


def test_grey_with_alpha(tmp_path):
    la = Image.new("LA", (1, 1), (10, 0))
    assert load_image(_save(tmp_path, la, "la.png")).getpixel((0, 0)) == (255, 255, 255)


def test_palette_transparency_is_honoured(tmp_path):
    pal = Image.new("P", (2, 1), 0)
    pal.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    pal.putpixel((1, 0), 1)
    path = _save(tmp_path, pal, "pal.png", transparency=0)
    img = load_image(path)
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((1, 0)) == (200, 10, 10)


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = _save(tmp_path, Image.new("RGB", (4, 2)), "rotated.jpg", exif=exif)
    assert load_image(path).size == (2, 4)


# --- load_image: bad input names the file ---------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jpg"
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        load_image(path)


def test_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=re.escape(tmp_path.name)):
        load_image(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(ValueError, match=r"empty\.png' is empty"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not pixels")
    with pytest.raises(ValueError, match=r"notes\.jpg' is not an image file"):
        load_image(path)


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_truncated_file(tmp_path, suffix):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = _save(tmp_path, Image.fromarray(noise), f"whole.{suffix}")
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"cut\.{suffix}' could not be decoded"):
        load_image(cut)


@pytest.mark.parametrize(
    "side", [12, 20]
)  # 144 px: PIL would only warn; 400 px: PIL raises
def test_oversized_image_is_refused_before_decoding(tmp_path, monkeypatch, side):
    path = _save(tmp_path, Image.new("RGB", (side, side)), "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValueError, match=r"huge\.png' is too large"):
        load_image(path)


def test_unreadable_file_keeps_its_permission_error(tmp_path, monkeypatch):
    path = _save(tmp_path, Image.new("RGB", (2, 2)), "locked.png")

    def refuse(fp, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(fp))

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(PermissionError, match=r"locked\.png"):
        load_image(path)


def test_path_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"path must be a file path \(str or os"):
        load_image(42)


# --- to_batch -------------------------------------------------------------------------


def test_to_batch_square():
    batch = to_batch(sample_image(), 256)
    assert batch.shape == (1, 3, 256, 256)
    assert batch.dtype == torch.float32
    assert 0.0 <= batch.min() and batch.max() <= 1.0


def test_to_batch_is_resize_then_to_tensor():
    img = sample_image()
    expected = T.Compose([T.Resize((120, 80)), T.ToTensor()])(img).unsqueeze(0)
    assert torch.equal(to_batch(img, (120, 80)), expected)


def test_to_batch_converts_other_modes_and_moves_to_device():
    batch = to_batch(Image.new("L", (10, 10), 255), 4, device="cpu")
    assert batch.shape == (1, 3, 4, 4) and batch.device.type == "cpu"
    assert torch.all(batch == 1.0)


def test_to_batch_rejects_a_tensor():
    with pytest.raises(TypeError, match="img must be a PIL.Image, got Tensor"):
        to_batch(torch.zeros(3, 8, 8), 4)


@pytest.mark.parametrize("size", [0, -3, (4, 0), (-1, 4)])
def test_to_batch_rejects_sizes_below_one(size):
    with pytest.raises(ValueError, match="size must be a positive int or an"):
        to_batch(Image.new("RGB", (8, 8)), size)


@pytest.mark.parametrize("size", [(4,), (4, 4, 4)])
def test_to_batch_rejects_a_size_that_is_not_a_pair(size):
    with pytest.raises(ValueError, match=r"size must be an int or an \(h, w\) pair"):
        to_batch(Image.new("RGB", (8, 8)), size)


@pytest.mark.parametrize("size", [2.5, True, (4, 2.0), "256", [4, 4], None])
def test_to_batch_rejects_sizes_of_the_wrong_type(size):
    with pytest.raises(TypeError, match=r"size must be an int or an \(h, w\) pair"):
        to_batch(Image.new("RGB", (8, 8)), size)


def test_to_batch_size_pair_is_height_then_width():
    assert to_batch(Image.new("RGB", (8, 8)), (2, 5)).shape == (1, 3, 2, 5)


def test_to_batch_names_a_bad_device():
    img = Image.new("RGB", (4, 4))
    with pytest.raises(TypeError, match="device must be a torch.device or a string"):
        to_batch(img, 4, device=0)
    with pytest.raises(ValueError, match="device='gpu' is not a torch device"):
        to_batch(img, 4, device="gpu")
