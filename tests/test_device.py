import random
from typing import Any

import numpy as np
import pytest
import torch

from cnnbook import device as device_module
from cnnbook import get_device, last_seed, seed_everything, tf32_convolutions

# torch adds cudnn.conv and cudnn.rnn at run time; its type stubs do not declare them.
CUDNN: Any = torch.backends.cudnn


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv("CNNBOOK_DEVICE", raising=False)
    monkeypatch.delenv("CNNBOOK_REQUIRE_GPU", raising=False)


def test_default_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_override_picks_cpu_even_when_cuda_exists(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("CNNBOOK_DEVICE", " cpu ")
    assert get_device() == torch.device("cpu")


def test_override_accepts_an_existing_cuda_index(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("CNNBOOK_DEVICE", "cuda:1")
    assert get_device() == torch.device("cuda", 1)


def test_override_asking_for_missing_cuda_fails_loudly(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CNNBOOK_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="CNNBOOK_DEVICE='cuda' asks for CUDA"):
        get_device()


def test_override_with_too_high_cuda_index(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("CNNBOOK_DEVICE", "cuda:3")
    with pytest.raises(RuntimeError, match="only 1 CUDA device"):
        get_device()


@pytest.mark.parametrize("value", ["banana", "cuda:x"])
def test_override_that_is_not_a_device(monkeypatch, value):
    monkeypatch.setenv("CNNBOOK_DEVICE", value)
    with pytest.raises(ValueError, match="not a valid torch device"):
        get_device()


def test_override_with_unsupported_device_type(monkeypatch):
    monkeypatch.setenv("CNNBOOK_DEVICE", "meta")
    with pytest.raises(ValueError, match="only 'cpu' and 'cuda"):
        get_device()


def test_require_gpu_without_cuda_raises(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CNNBOOK_REQUIRE_GPU", "1")
    with pytest.raises(
        RuntimeError, match="CNNBOOK_REQUIRE_GPU=1, but torch sees no CUDA device"
    ):
        get_device()


def test_require_gpu_with_cuda_returns_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("CNNBOOK_REQUIRE_GPU", "1")
    assert get_device() == torch.device("cuda")


def test_require_gpu_contradicting_a_cpu_override(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("CNNBOOK_REQUIRE_GPU", "1")
    monkeypatch.setenv("CNNBOOK_DEVICE", "cpu")
    with pytest.raises(RuntimeError, match="contradicts CNNBOOK_DEVICE='cpu'"):
        get_device()


def test_require_gpu_zero_allows_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CNNBOOK_REQUIRE_GPU", "0")
    assert get_device() == torch.device("cpu")


def test_require_gpu_with_an_unclear_value(monkeypatch):
    monkeypatch.setenv("CNNBOOK_REQUIRE_GPU", "yes")
    with pytest.raises(
        ValueError, match="CNNBOOK_REQUIRE_GPU must be '1' or '0', got 'yes'"
    ):
        get_device()


def test_last_seed_remembers_the_latest_call():
    seed_everything(11)
    assert last_seed() == 11
    seed_everything(3)
    assert last_seed() == 3


def _draw():
    return random.random(), np.random.rand(), torch.rand(3)


def test_same_seed_same_numbers():
    seed_everything(7)
    first = _draw()
    seed_everything(7)
    second = _draw()
    assert first[:2] == second[:2]
    assert torch.equal(first[2], second[2])


def test_same_seed_same_conv_weights():
    seed_everything(0)
    a = torch.nn.Conv2d(3, 8, 3)
    seed_everything(0)
    b = torch.nn.Conv2d(3, 8, 3)
    seed_everything(1)
    c = torch.nn.Conv2d(3, 8, 3)
    assert torch.equal(a.weight, b.weight)
    assert not torch.equal(a.weight, c.weight)


@pytest.mark.parametrize("seed", ["1", 1.0, True, None])
def test_seed_must_be_an_int(seed):
    with pytest.raises(TypeError, match=r"seed must be an int in \[0, 2\*\*32\)"):
        seed_everything(seed)


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_seed_must_fit_32_bits(seed):
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*32\), got"):
        seed_everything(seed)


def _conv_tf32_setting():
    return CUDNN.conv.fp32_precision


def test_tf32_convolutions_sets_the_new_api_and_restores_it_after_a_block():
    before = _conv_tf32_setting()
    with tf32_convolutions(False):
        assert _conv_tf32_setting() == "ieee"
        with tf32_convolutions(True):
            assert _conv_tf32_setting() == "tf32"
        assert _conv_tf32_setting() == "ieee"
    assert _conv_tf32_setting() == before


def test_tf32_convolutions_called_alone_keeps_its_setting():
    before = _conv_tf32_setting()
    try:
        tf32_convolutions(False)
        assert _conv_tf32_setting() == "ieee"
    finally:
        CUDNN.conv.fp32_precision = before


def test_tf32_convolutions_restores_after_an_error():
    before = _conv_tf32_setting()
    with pytest.raises(KeyError), tf32_convolutions(False):
        raise KeyError("boom")
    assert _conv_tf32_setting() == before


def test_tf32_convolutions_never_reads_the_legacy_flag_when_the_new_api_exists():
    with tf32_convolutions(False):
        # conv and rnn now differ, and torch refuses the legacy question...
        with pytest.raises(RuntimeError, match="mix of the legacy and new APIs"):
            _ = torch.backends.cudnn.allow_tf32
        with tf32_convolutions(True):  # ...so the helper must not ask it
            assert _conv_tf32_setting() == "tf32"


# torch 2.9 to 2.11 warn that allow_tf32 is deprecated: the fallback is for older
# versions.
@pytest.mark.filterwarnings("ignore:Please use the new API settings:UserWarning")
def test_tf32_convolutions_uses_allow_tf32_on_older_torch(monkeypatch):
    cudnn = CUDNN
    saved = cudnn.conv.fp32_precision, cudnn.rnn.fp32_precision
    monkeypatch.setattr(device_module, "_has_precision_api", lambda: False)
    try:
        with tf32_convolutions(False):
            assert cudnn.allow_tf32 is False
        assert cudnn.allow_tf32 is True
    finally:
        cudnn.conv.fp32_precision, cudnn.rnn.fp32_precision = saved


@pytest.mark.parametrize("value", [0, "off", None])
def test_tf32_convolutions_wants_a_bool(value):
    with pytest.raises(TypeError, match="enabled must be True or False"):
        tf32_convolutions(value)
