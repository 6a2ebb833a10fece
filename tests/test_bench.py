import time

import pytest
import torch
from torch import nn

from cnnbook import conv2d_flops, peak_tflops, time_call


def test_flops_of_the_seed_layer():
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
    # 8 * 256 * 256 outputs, each 3 * 3 * 3 multiply-adds
    assert conv2d_flops(conv, (1, 3, 256, 256)) == 2 * 8 * 256 * 256 * 27


def test_flops_follow_stride_groups_and_batch():
    conv = nn.Conv2d(64, 64, kernel_size=3, stride=2, padding=1, groups=64)
    assert conv2d_flops(conv, (4, 64, 56, 56)) == 2 * 4 * 64 * 28 * 28 * 9


def test_flops_match_a_count_from_the_unfolded_matrix_product():
    conv = nn.Conv2d(
        5, 7, kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1)
    )
    x = torch.randn(2, 5, 11, 9)
    out = conv(x)
    columns = nn.functional.unfold(
        x, (3, 2), dilation=(2, 1), padding=(1, 0), stride=(1, 2)
    )
    assert columns.shape[-1] == out.shape[-1] * out.shape[-2]
    expected = 2 * 2 * 7 * columns.shape[1] * columns.shape[2]
    assert conv2d_flops(conv, tuple(x.shape)) == expected


@pytest.mark.parametrize(
    ("conv", "shape", "error", "message"),
    [
        (nn.Linear(3, 3), (1, 3, 8, 8), TypeError, "must be a torch.nn.Conv2d"),
        (nn.Conv2d(3, 8, 3), (1, 3, 8), ValueError, "four positive ints"),
        (nn.Conv2d(3, 8, 3), (1, 3, 0, 8), ValueError, "four positive ints"),
        (
            nn.Conv2d(3, 8, 3),
            (1, 4, 8, 8),
            ValueError,
            "has 4 channels, but the layer expects 3",
        ),
        (
            nn.Conv2d(3, 8, 3, padding="same"),
            (1, 3, 8, 8),
            ValueError,
            "numeric padding",
        ),
        (nn.Conv2d(3, 8, 5), (1, 3, 4, 4), ValueError, "kernel_size=5"),
    ],
)
def test_flops_bad_input(conv, shape, error, message):
    with pytest.raises(error, match=message):
        conv2d_flops(conv, shape)


def test_time_call_measures_the_call_and_warms_up():
    calls = []

    def work():
        calls.append(1)
        time.sleep(0.002)

    seconds = time_call(work, warmup=2, min_run_time=0.05)
    assert 0.002 <= seconds < 0.05
    assert len(calls) > 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fn": 3}, TypeError, "fn must be callable"),
        ({"fn": print, "warmup": -1}, ValueError, "warmup must be an int >= 0"),
        ({"fn": print, "min_run_time": 0}, ValueError, "min_run_time must be positive"),
    ],
)
def test_time_call_bad_input(kwargs, error, message):
    fn = kwargs.pop("fn")
    with pytest.raises(error, match=message):
        time_call(fn, **kwargs)


def test_peaks_of_known_and_unknown_devices():
    assert peak_tflops("NVIDIA H100 PCIe", "bf16") == 756.0
    assert peak_tflops("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert peak_tflops("NVIDIA H200", "tf32") == 494.7
    assert peak_tflops("CPU", "fp32") is None
    with pytest.raises(ValueError, match="mode must be 'fp32', 'tf32' or 'bf16'"):
        peak_tflops("NVIDIA H200", "fp16")


def test_time_call_batches_fast_calls_and_synchronises_cuda(monkeypatch):
    syncs = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: syncs.append(1))
    calls = []
    seconds = time_call(lambda: calls.append(1), warmup=0, min_run_time=0.02)
    assert seconds < 1e-4
    assert len(calls) > 1000  # many calls per block, not one
    assert len(syncs) >= 2 * 3  # both ends of at least three blocks
