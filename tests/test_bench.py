import itertools
import time

import pytest
import torch
from torch import nn

import cnnbook.bench
from cnnbook import (
    compare_times,
    conv2d_flops,
    fast_cudnn,
    peak_tflops,
    time_call,
    time_interleaved,
)


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
        (nn.Conv2d(3, 8, 3), (1, 3, 8.0, 8), TypeError, "four positive ints"),
        (nn.Conv2d(3, 8, 3), "1, 3, 8, 8", TypeError, "four positive ints"),
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
        (
            {"fn": print, "warmup": -1},
            ValueError,
            "warmup must be a non-negative int, got -1",
        ),
        (
            {"fn": print, "min_run_time": 0},
            ValueError,
            "min_run_time must be a finite number above 0, got 0",
        ),
        (
            {"fn": print, "min_run_time": float("inf")},
            ValueError,
            "min_run_time must be a finite number above 0, got inf",
        ),
        (
            {"fn": print, "min_run_time": True},
            TypeError,
            "min_run_time must be a finite number above 0, got True",
        ),
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
    with pytest.raises(
        ValueError, match="^mode must be 'fp32', 'tf32' or 'bf16', got 'fp16'$"
    ):
        peak_tflops("NVIDIA H200", "fp16")
    with pytest.raises(TypeError, match="mode must be 'fp32', 'tf32' or 'bf16'"):
        peak_tflops("NVIDIA H200", 32)
    with pytest.raises(TypeError, match="device_name must be a str, got NoneType"):
        peak_tflops(None, "fp32")


def test_time_call_batches_fast_calls_and_synchronises_cuda(monkeypatch):
    syncs = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: syncs.append(1))
    calls = []
    seconds = time_call(lambda: calls.append(1), warmup=0, min_run_time=0.02)
    assert seconds < 1e-4
    assert len(calls) > 1000  # many calls per block, not one
    assert len(syncs) >= 2 * 3  # both ends of at least three blocks


def test_time_interleaved_gives_each_function_its_own_time():
    calls = {"short": 0, "long": 0}

    def short():
        calls["short"] += 1
        time.sleep(0.001)

    def long():
        calls["long"] += 1
        time.sleep(0.004)

    seconds = time_interleaved([short, long], warmup=1, min_run_time=0.03)
    assert len(seconds) == 2
    assert 0.001 <= seconds[0] < 0.05
    assert 0.004 <= seconds[1] < 0.05
    assert calls["short"] > 1 and calls["long"] > 1


def test_time_interleaved_takes_turns_in_alternating_order(monkeypatch):
    # Replace the block timer by a log of which function ran, with a fake time.
    ticks = itertools.count()
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks) * 0.001)
    order = []

    def block(fn, number):
        fn()
        return 0.02 * number  # one call lasts 20 ms: one call per block

    monkeypatch.setattr(cnnbook.bench, "_block", block)
    fns = [lambda: order.append("a"), lambda: order.append("b")]
    seconds = time_interleaved(fns, warmup=0, min_run_time=0.001)
    assert seconds == [0.02, 0.02]
    # one block each to size the blocks, then at least three rounds, A B, B A, A B
    assert order[:8] == ["a", "b", "a", "b", "b", "a", "a", "b"]


def test_time_interleaved_median_ignores_one_slow_block(monkeypatch):
    times = iter([0.02, 0.02, 0.5, 0.02, 0.02])  # sizing block, then four blocks

    def block(fn, number):
        return next(times, 0.02) * number

    monkeypatch.setattr(cnnbook.bench, "_block", block)
    clock = itertools.count()
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock) * 0.1)
    assert time_interleaved([print], warmup=0, min_run_time=0.05) == [0.02]


@pytest.mark.parametrize(
    ("fns", "kwargs", "error", "message"),
    [
        (print, {}, TypeError, "fns must be a list or tuple of callables"),
        ([], {}, ValueError, "at least one callable"),
        ([print, 3], {}, TypeError, r"fns\[1\] must be callable, got int"),
        ([print], {"warmup": 1.5}, TypeError, "warmup must be a non-negative int"),
        ([print], {"warmup": -1}, ValueError, "warmup must be a non-negative int"),
        ([print], {"min_run_time": -1}, ValueError, "min_run_time must be a finite"),
        ([print], {"min_run_time": "1"}, TypeError, "min_run_time must be a finite"),
        ([print], {"min_run_time": float("inf")}, ValueError, "above 0, got inf"),
        ([print], {"min_run_time": float("nan")}, ValueError, "above 0, got nan"),
        ([print], {"min_run_time": True}, TypeError, "above 0, got True"),
    ],
)
def test_time_interleaved_bad_input(fns, kwargs, error, message):
    with pytest.raises(error, match=message):
        time_interleaved(fns, **kwargs)


def _cudnn_flags():
    return torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic


@pytest.fixture
def slow_cudnn():
    """Start from seed_everything's settings, and put the flags back afterwards."""
    before = _cudnn_flags()
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    yield
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before


def test_fast_cudnn_sets_the_flags_inside_and_restores_them(slow_cudnn):
    with fast_cudnn():
        assert _cudnn_flags() == (True, False)
        with fast_cudnn(False):
            assert _cudnn_flags() == (False, True)
        assert _cudnn_flags() == (True, False)
    assert _cudnn_flags() == (False, True)


def test_fast_cudnn_restores_the_flags_after_an_exception(slow_cudnn):
    with pytest.raises(ZeroDivisionError), fast_cudnn():
        assert _cudnn_flags() == (True, False)
        1 / 0  # noqa: B018
    assert _cudnn_flags() == (False, True)


def test_fast_cudnn_restores_other_starting_values(slow_cudnn):
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    with fast_cudnn(False):
        assert _cudnn_flags() == (False, True)
    assert _cudnn_flags() == (True, True)


def test_fast_cudnn_rejects_a_non_bool(slow_cudnn):
    with pytest.raises(TypeError, match="enabled must be True or False, got 1"):
        fast_cudnn(1)
    assert _cudnn_flags() == (False, True)


@pytest.mark.parametrize(
    ("seconds", "baseline", "words"),
    [
        (1.0, 2.4, "was 2.4 times as fast as"),
        (2.4, 1.0, "took 2.4 times as long as"),
        (0.001, 0.119, "was 119 times as fast as"),
        (1.0, 1286.0, "was 1,286 times as fast as"),
        (1.0, 1.05, "was 1.05 times as fast as"),
        (1.06, 1.0, "took 1.06 times as long as"),
        (1.0, 1.04, "was about as fast as"),
        (1.04, 1.0, "was about as fast as"),
        (0.3, 0.3, "was about as fast as"),
    ],
)
def test_compare_times_follows_the_measurement(seconds, baseline, words):
    assert compare_times(seconds, baseline) == words


def test_compare_times_tolerance():
    assert compare_times(1.0, 1.2, tolerance=0.25) == "was about as fast as"
    assert compare_times(1.02, 1.0, tolerance=0) == "took 1.02 times as long as"
    # a factor that would read "1" is "about as fast", whatever the tolerance
    assert compare_times(1.001, 1.0, tolerance=0) == "was about as fast as"


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("1", 1.0), {}, TypeError, "seconds must be a finite number above 0, got '1'"),
        ((1.0, True), {}, TypeError, "baseline must be a finite number above 0"),
        ((0.0, 1.0), {}, ValueError, "seconds must be a finite number above 0"),
        ((1.0, float("inf")), {}, ValueError, "baseline must be a finite number"),
        ((1.0, float("nan")), {}, ValueError, "baseline must be a finite number"),
        ((1.0, 1.0), {"tolerance": -0.1}, ValueError, "tolerance must be a finite"),
        ((1.0, 1.0), {"tolerance": None}, TypeError, "number of at least 0, got None"),
        ((1.0, 1.0), {"tolerance": float("inf")}, ValueError, "of at least 0, got inf"),
    ],
)
def test_compare_times_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        compare_times(*args, **kwargs)
