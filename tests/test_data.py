import gzip
import http.server
import json
import os
import struct
import threading

import numpy as np
import pytest
import torch
from torchvision.datasets import FashionMNIST

import cnnbook.data
from cnnbook import CLASS_NAMES, fashion_mnist
from cnnbook.data import FILES


def _idx_images(images: np.ndarray) -> bytes:
    return (
        struct.pack(">IIII", 0x00000803, *images.shape)
        + images.astype(np.uint8).tobytes()
    )


def _idx_labels(labels: np.ndarray) -> bytes:
    return (
        struct.pack(">II", 0x00000801, len(labels)) + labels.astype(np.uint8).tobytes()
    )


def _write_copy(folder, n_train=5, n_test=3, compress=True, seed=0):
    """Write a tiny Fashion-MNIST in idx format; return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = _idx_images(array) if "images" in name else _idx_labels(array)
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real data, no network: a private cache, no system folders, failing
    downloads."""
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNBOOK_DATA", raising=False)
    monkeypatch.setattr(cnnbook.data, "SYSTEM_DIRS", (tmp_path / "system",))

    def offline(self):
        raise RuntimeError("no network in tests")

    monkeypatch.setattr(FashionMNIST, "download", offline)


@pytest.mark.parametrize("compress", [True, False])
def test_reads_a_local_copy_through_torchvision(tmp_path, compress):
    arrays = _write_copy(tmp_path / "copy", compress=compress)
    train = fashion_mnist(train=True, root=tmp_path / "copy")
    test = fashion_mnist(train=False, root=tmp_path / "copy")
    assert isinstance(train, FashionMNIST) and len(train) == 5 and len(test) == 3
    assert torch.equal(
        train.data, torch.from_numpy(arrays["train-images-idx3-ubyte"]).to(torch.uint8)
    )
    assert train.targets.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert sorted(
        p.name for p in (tmp_path / "cache" / "FashionMNIST" / "raw").iterdir()
    ) == sorted(FILES)


def test_torchvision_layout_and_transform(tmp_path):
    _write_copy(tmp_path / "tv" / "FashionMNIST" / "raw")
    dataset = fashion_mnist(
        train=True, root=tmp_path / "tv", transform=lambda img: img.size
    )
    assert dataset[0][0] == (28, 28)


def test_search_order_root_then_env_then_system(tmp_path, monkeypatch):
    _write_copy(tmp_path / "system", n_train=2)
    assert len(fashion_mnist(train=True)) == 2
    _write_copy(tmp_path / "env", n_train=4)
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "env"))
    assert len(fashion_mnist(train=True)) == 4
    _write_copy(tmp_path / "root", n_train=6)
    assert len(fashion_mnist(train=True, root=tmp_path / "root")) == 6


def test_cached_copy_is_used_when_the_source_is_gone(tmp_path):
    _write_copy(tmp_path / "system", n_train=2)
    fashion_mnist(train=True)
    for f in (tmp_path / "system").iterdir():
        f.unlink()
    assert len(fashion_mnist(train=True)) == 2


def _age(folder, seconds=10**6):
    """Make every file in ``folder`` look older than the cache."""
    for f in folder.iterdir():
        stamp = f.stat().st_mtime - seconds
        os.utime(f, (stamp, stamp))


def _raw(tmp_path):
    return tmp_path / "cache" / "FashionMNIST" / "raw"


def test_another_source_replaces_a_cached_subset(tmp_path):
    # The incident: a small subset passed once as root= shadowed Debian's full copy.
    full = _write_copy(tmp_path / "system", n_train=7, n_test=4, seed=1)
    _age(tmp_path / "system")
    _write_copy(tmp_path / "subset", n_train=5, n_test=2, seed=2)
    assert len(fashion_mnist(train=False, root=tmp_path / "subset")) == 2
    test = fashion_mnist(train=False)
    train = fashion_mnist(train=True)
    assert len(test) == 4 and len(train) == 7
    assert train.targets.tolist() == full["train-labels-idx1-ubyte"].tolist()


def test_a_cache_without_a_record_is_replaced(tmp_path):
    # A cache written by an older cnnbook (no record of its source) is not trusted.
    _write_copy(_raw(tmp_path), n_train=5, compress=False, seed=2)
    _write_copy(tmp_path / "system", n_train=7, seed=1)
    _age(tmp_path / "system")
    assert len(fashion_mnist(train=True)) == 7


def test_a_copy_with_the_same_sizes_but_other_content_replaces_the_cache(tmp_path):
    _write_copy(tmp_path / "a", seed=1)
    b = _write_copy(tmp_path / "b", seed=2)
    _age(tmp_path / "b")
    fashion_mnist(train=True, root=tmp_path / "a")
    train = fashion_mnist(train=True, root=tmp_path / "b")
    assert train.targets.tolist() == b["train-labels-idx1-ubyte"].tolist()


def test_a_source_changed_in_place_is_unpacked_again(tmp_path):
    _write_copy(tmp_path / "copy", seed=1)
    fashion_mnist(train=True, root=tmp_path / "copy")
    new = _write_copy(tmp_path / "copy", seed=2)
    train = fashion_mnist(train=True, root=tmp_path / "copy")
    assert train.targets.tolist() == new["train-labels-idx1-ubyte"].tolist()


def test_a_cached_file_changed_behind_our_back_is_unpacked_again(tmp_path):
    arrays = _write_copy(tmp_path / "copy", seed=1)
    fashion_mnist(train=True, root=tmp_path / "copy")
    target = _raw(tmp_path) / "train-labels-idx1-ubyte"
    stat = target.stat()
    target.write_bytes(_idx_labels((arrays["train-labels-idx1-ubyte"] + 1) % 10))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    train = fashion_mnist(train=True, root=tmp_path / "copy")
    assert train.targets.tolist() == arrays["train-labels-idx1-ubyte"].tolist()


def test_the_cache_records_each_files_source(tmp_path):
    _write_copy(tmp_path / "copy")
    fashion_mnist(train=True, root=tmp_path / "copy")
    manifest = tmp_path / "cache" / "FashionMNIST" / cnnbook.data.MANIFEST
    records = json.loads(manifest.read_text())
    assert sorted(records) == sorted(FILES)
    for name, record in records.items():
        source = tmp_path / "copy" / f"{name}.gz"
        assert record["source"] == str(source.resolve())
        assert record["size"] == source.stat().st_size
        assert record["mtime_ns"] == source.stat().st_mtime_ns
        assert len(record["sha256"]) == 64
    assert records["train-images-idx3-ubyte"]["items"] == 5


def test_an_unchanged_source_reuses_the_cache(tmp_path):
    _write_copy(tmp_path / "copy")
    fashion_mnist(train=True, root=tmp_path / "copy")
    before = [(_raw(tmp_path) / name).stat() for name in FILES]
    fashion_mnist(train=True, root=tmp_path / "copy")
    after = [(_raw(tmp_path) / name).stat() for name in FILES]
    assert [(s.st_ino, s.st_mtime_ns) for s in before] == [
        (s.st_ino, s.st_mtime_ns) for s in after
    ]


def test_a_bad_copy_leaves_the_cache_alone(tmp_path):
    good = _write_copy(tmp_path / "system", n_train=7, seed=1)
    fashion_mnist(train=True)
    _write_copy(tmp_path / "bad", seed=2)
    (tmp_path / "bad" / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_labels(np.zeros(2)))
    )
    with pytest.raises(ValueError, match="holds 5 images but"):
        fashion_mnist(train=True, root=tmp_path / "bad")
    train = fashion_mnist(train=True)
    assert train.targets.tolist() == good["train-labels-idx1-ubyte"].tolist()


@pytest.mark.parametrize("train", [True, False])
def test_expect_full_names_the_copy_it_found(tmp_path, train):
    _write_copy(tmp_path / "subset", n_train=5, n_test=3)
    with pytest.raises(ValueError) as info:
        fashion_mnist(train=train, root=tmp_path / "subset", expect_full=True)
    message = str(info.value)
    split, size, found = ("training", "60,000", 5) if train else ("test", "10,000", 3)
    assert f"full Fashion-MNIST {split} set of {size} images" in message
    assert f"but found {found} in the copy at {tmp_path / 'subset'}" in message
    assert str(_raw(tmp_path)) in message and "CNNBOOK_DATA" in message


def test_expect_full_names_a_cached_copy_of_unknown_origin(tmp_path):
    _write_copy(_raw(tmp_path), compress=False)
    with pytest.raises(ValueError, match="cached copy in .*raw, of unknown origin"):
        fashion_mnist(train=True, expect_full=True)


def test_expect_full_accepts_a_full_copy(tmp_path, monkeypatch):
    monkeypatch.setitem(cnnbook.data.FULL_SIZES, "train", 5)
    _write_copy(tmp_path / "copy", n_train=5)
    assert len(fashion_mnist(train=True, root=tmp_path / "copy", expect_full=True))
    with pytest.raises(ValueError, match="set of 10,000 images, but found 3"):
        fashion_mnist(train=False, root=tmp_path / "copy", expect_full=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train": "yes"}, "train must be True or False, got 'yes'"),
        ({"expect_full": 1}, "expect_full must be True or False, got 1"),
        ({"root": 42}, r"root must be a folder \(str or Path\) or None, got 42"),
        ({"transform": "ToTensor"}, "transform must be callable or None, got"),
    ],
)
def test_rejects_arguments_of_the_wrong_type(tmp_path, kwargs, message):
    _write_copy(tmp_path / "copy")
    arguments = {"train": True, "root": tmp_path / "copy", **kwargs}
    with pytest.raises(TypeError, match=message):
        fashion_mnist(**arguments)


def test_root_may_be_a_string(tmp_path):
    _write_copy(tmp_path / "copy", n_test=4)
    assert len(fashion_mnist(train=False, root=str(tmp_path / "copy"))) == 4


def test_incomplete_copy_is_skipped(tmp_path, monkeypatch):
    _write_copy(tmp_path / "partial")
    (tmp_path / "partial" / "t10k-labels-idx1-ubyte.gz").unlink()
    _write_copy(tmp_path / "system", n_train=7)
    assert len(fashion_mnist(train=True, root=tmp_path / "partial")) == 7


def test_nothing_found_names_every_place_and_the_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist(train=True, root=tmp_path / "mine")
    message = str(info.value)
    for place in ["mine", "env", "system", "cache"]:
        assert str(tmp_path / place) in message
    assert (
        "apt-get install dataset-fashion-mnist" in message and "CNNBOOK_DATA" in message
    )
    assert "no network in tests" in message


@pytest.fixture
def mirror(tmp_path):
    """A Fashion-MNIST 'mirror' served over HTTP on the loopback interface."""
    served = tmp_path / "mirror"
    _write_copy(served, n_train=3)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_falls_back_to_torchvision_download(tmp_path, monkeypatch, mirror):
    monkeypatch.undo()  # the real download method, pointed at the local mirror
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNBOOK_DATA", raising=False)
    monkeypatch.setattr(cnnbook.data, "SYSTEM_DIRS", ())
    monkeypatch.setattr(FashionMNIST, "mirrors", [mirror])
    monkeypatch.setattr(
        FashionMNIST, "resources", [(f"{name}.gz", None) for name in FILES]
    )
    assert len(fashion_mnist(train=True)) == 3
    with pytest.raises(ValueError, match="in the copy downloaded by torchvision into"):
        fashion_mnist(train=True, expect_full=True)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(b"not gzip at all"), "is not a valid gzip file"),
        (
            lambda p: p.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 12)),
            "bad header",
        ),
        (
            lambda p: p.write_bytes(
                gzip.compress(gzip.decompress(p.read_bytes())[:-100])
            ),
            "truncated or padded",
        ),
        (
            lambda p: p.write_bytes(
                gzip.compress(struct.pack(">IIII", 0x803, 1, 32, 32) + bytes(1024))
            ),
            "32x32 images",
        ),
    ],
)
def test_a_corrupt_file_is_named(tmp_path, damage, message):
    _write_copy(tmp_path / "copy")
    bad = tmp_path / "copy" / "train-images-idx3-ubyte.gz"
    damage(bad)
    with pytest.raises(
        ValueError, match=rf"train-images-idx3-ubyte\.gz.*{message}|{message}"
    ):
        fashion_mnist(train=True, root=tmp_path / "copy")


def test_images_and_labels_must_pair_up(tmp_path):
    _write_copy(tmp_path / "copy")
    (tmp_path / "copy" / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_labels(np.zeros(2)))
    )
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels"):
        fashion_mnist(train=False, root=tmp_path / "copy")


def test_cache_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNBOOK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cnnbook.data.cache_dir() == tmp_path / "xdg" / "cnnbook"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cnnbook.data.cache_dir() == tmp_path / "home" / ".cache" / "cnnbook"


def test_class_names():
    assert (
        len(CLASS_NAMES) == 10
        and CLASS_NAMES[0] == "T-shirt/top"
        and CLASS_NAMES[9] == "Ankle boot"
    )


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "cache" / "file"
    with pytest.raises(TypeError):
        cnnbook.data._write_atomically(target, "text, not bytes")
    assert list(target.parent.iterdir()) == []

    def refuse(source, destination):
        raise PermissionError(f"cannot replace {destination}")

    monkeypatch.setattr("cnnbook.data.os.replace", refuse)
    with pytest.raises(PermissionError, match="cannot replace"):
        cnnbook.data._write_atomically(target, b"data")
    assert list(target.parent.iterdir()) == []
