"""Timing convolutions fairly on any device, and turning times into TFLOP/s.

The timer is written out here rather than taken from ``torch.utils.benchmark``:
importing that module on a machine with a CUDA toolkit but no GPU logs a warning to
stderr, which a page of the book must not do.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

import torch
from torch import nn

from cnnbook import _checks
from cnnbook.sizes import conv_output_size

# Dense (no sparsity) peak TFLOP/s from NVIDIA's data sheets, by math mode. Longer
# names first: "H100 PCIe" must match before "H100".
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H100 PCIe": {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0},
    "H100": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4},
    "H200": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4},
    "A100": {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0},
}


def conv2d_flops(conv: nn.Conv2d, input_shape: tuple[int, int, int, int]) -> int:
    """Floating-point operations of one forward pass of ``conv`` on ``input_shape``.

    Each output value takes ``in_channels / groups * kH * kW`` multiply-adds, counted
    as two operations each; the bias is ignored, as is usual.

    Args:
        conv: the layer; its padding must be numbers, not ``"same"`` or ``"valid"``.
        input_shape: the input's ``(N, C, H, W)``, four positive ints.

    Raises:
        TypeError: ``conv`` is not an ``nn.Conv2d``, or ``input_shape`` is not a
            tuple of ints.
        ValueError: ``input_shape`` does not fit the layer (channels, or a kernel
            larger than the padded input), or the layer's padding is a str.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    rule = f"input_shape must be four positive ints (N, C, H, W), got {input_shape!r}"
    if not isinstance(input_shape, (tuple, list)) or not all(
        _checks.is_int(n) for n in input_shape
    ):
        raise TypeError(rule)
    if len(input_shape) != 4 or min(input_shape) < 1:
        raise ValueError(rule)
    batch, channels, height, width = input_shape
    if channels != conv.in_channels:
        raise ValueError(
            f"input_shape has {channels} channels, "
            f"but the layer expects {conv.in_channels}"
        )
    if isinstance(conv.padding, str):
        raise ValueError(
            "conv2d_flops needs numeric padding, not padding=" + repr(conv.padding)
        )
    kernel_h, kernel_w = _checks.int_pair("conv.kernel_size", conv.kernel_size)
    out_h, out_w = conv_output_size(
        (height, width),
        (kernel_h, kernel_w),
        stride=_checks.int_pair("conv.stride", conv.stride),
        padding=_checks.int_pair("conv.padding", conv.padding),
        dilation=_checks.int_pair("conv.dilation", conv.dilation),
    )
    per_output = conv.in_channels // conv.groups * kernel_h * kernel_w
    return 2 * batch * conv.out_channels * out_h * out_w * per_output


def time_call(
    fn: Callable[[], object], *, warmup: int = 3, min_run_time: float = 0.2
) -> float:
    """Median seconds per call of ``fn``, with warm-up and CUDA synchronisation.

    The same as ``time_interleaved([fn], ...)[0]``: see :func:`time_interleaved`.

    Args:
        fn: the function to time, called with no arguments.
        warmup: untimed calls before timing starts.
        min_run_time: about how many seconds to spend timing.

    Raises:
        TypeError: ``fn`` is not callable, or another argument has the wrong type.
        ValueError: ``warmup`` is negative or ``min_run_time`` not above 0.
    """
    _checks.function("fn", fn)
    return time_interleaved([fn], warmup=warmup, min_run_time=min_run_time)[0]


def time_interleaved(
    fns: Sequence[Callable[[], object]],
    *,
    warmup: int = 3,
    min_run_time: float = 0.2,
) -> list[float]:
    """Median seconds per call of each function in ``fns``, timed in turns.

    Each function runs ``warmup`` times first (to load kernels, pick algorithms and
    fill caches) and is given a block size: the number of calls, a power of ten, that
    makes one block last at least 10 ms. Then the functions take turns, one block
    each, in reversed order every other round (A B, B A, A B, ...), until about
    ``min_run_time`` seconds per function have passed and at least three rounds are
    done. Each block starts and ends with ``torch.cuda.synchronize()`` when CUDA is
    present, so asynchronous GPU work is counted in full.

    Taking turns makes a slow spell of the machine (other work, a change of clock
    speed) fall on all the functions alike instead of on whichever ran during it. The
    result is, for each function in order, its median block time divided by its
    block size; a stray slow block does not move a median.

    Args:
        fns: the functions to time, each called with no arguments.
        warmup: untimed calls of each function before timing starts.
        min_run_time: about how many seconds to spend timing each function.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: ``fns`` is empty, ``warmup`` negative or ``min_run_time`` not
            above 0.
    """
    if not isinstance(fns, (list, tuple)):
        raise TypeError(f"fns must be a list or tuple of callables, got {fns!r}")
    if not fns:
        raise ValueError("fns must hold at least one callable, got an empty sequence")
    for i, fn in enumerate(fns):
        _checks.function(f"fns[{i}]", fn)
    _checks.int_at_least("warmup", warmup, 0)
    _checks.finite_positive("min_run_time", min_run_time)
    for fn in fns:
        for _ in range(warmup):
            fn()
    numbers = [_calls_per_block(fn) for fn in fns]
    blocks: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    deadline = time.perf_counter() + min_run_time * len(fns)
    rounds = 0
    while rounds < 3 or time.perf_counter() < deadline:
        for i in order if rounds % 2 == 0 else reversed(order):
            blocks[i].append(_block(fns[i], numbers[i]) / numbers[i])
        rounds += 1
    return [statistics.median(times) for times in blocks]


def _calls_per_block(fn: Callable[[], object]) -> int:
    """The smallest power of ten of calls of ``fn`` that lasts at least 10 ms."""
    number = 1
    while _block(fn, number) < 0.01 and number < 1_000_000:
        number *= 10
    return number


def _block(fn: Callable[[], object], number: int) -> float:
    """Seconds for ``number`` calls of ``fn``, with the GPU idle at both ends."""
    _synchronize()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    _synchronize()
    return time.perf_counter() - start


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def fast_cudnn(enabled: bool = True) -> AbstractContextManager[None]:
    """Inside a ``with`` block, let cuDNN pick its fastest convolution algorithms.

    ``with fast_cudnn():`` sets ``torch.backends.cudnn.benchmark = True`` (cuDNN
    tries its algorithms on the first call with each new input shape and keeps the
    fastest) and ``torch.backends.cudnn.deterministic = False``: the settings to time
    a GPU with. ``fast_cudnn(False)`` sets the opposite, the repeatable settings
    that :func:`~cnnbook.device.seed_everything` chooses. When the block ends, also
    through an exception, both flags get back the values they had before it. The
    flags concern cuDNN only, so on a machine without an NVIDIA GPU nothing that
    runs changes.

    Args:
        enabled: True for the fastest algorithms, False for repeatable ones.
    """
    _checks.flag("enabled", enabled)
    return _cudnn_flags(benchmark=enabled, deterministic=not enabled)


@contextmanager
def _cudnn_flags(*, benchmark: bool, deterministic: bool) -> Iterator[None]:
    """Set cuDNN's two flags for the ``with`` block, and restore them after it."""
    cudnn = torch.backends.cudnn
    previous = cudnn.benchmark, cudnn.deterministic
    cudnn.benchmark, cudnn.deterministic = benchmark, deterministic
    try:
        yield
    finally:
        cudnn.benchmark, cudnn.deterministic = previous


def compare_times(seconds: float, baseline: float, *, tolerance: float = 0.05) -> str:
    """Words for how a time compares with a baseline time, to fit "X ... Y".

    ``"was 2.4 times as fast as"`` when ``seconds`` is the shorter time, ``"took 1.3
    times as long as"`` when it is the longer one, and ``"was about as fast as"``
    when neither time is ``1 + tolerance`` times the other or more (or when the factor
    would read 1). The factor has three significant digits, whole numbers from 100
    up. Text built from these words follows the measurement instead of assuming
    which of two times is the shorter.

    Args:
        seconds: the time to describe.
        baseline: the time to compare it with.
        tolerance: the relative difference below which the times count as equal.

    Raises:
        TypeError: an argument is not a number.
        ValueError: a time is not above 0, or the tolerance is negative; or one of
            them is infinite or NaN.
    """
    _checks.finite_positive("seconds", seconds)
    _checks.finite_positive("baseline", baseline)
    _checks.finite_non_negative("tolerance", tolerance)
    faster, slower = _factor(baseline / seconds), _factor(seconds / baseline)
    if seconds < baseline and baseline / seconds >= 1 + tolerance and faster != "1":
        return f"was {faster} times as fast as"
    if seconds > baseline and seconds / baseline >= 1 + tolerance and slower != "1":
        return f"took {slower} times as long as"
    return "was about as fast as"


def _factor(ratio: float) -> str:
    """A ratio of two times for prose: 1.05, 2.4, 17.3, 119, 1,286."""
    return f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"


def peak_tflops(device_name: str, mode: str) -> float | None:
    """The data-sheet peak TFLOP/s of a GPU called ``device_name`` in math ``mode``.

    Args:
        device_name: the GPU's name, as ``torch.cuda.get_device_name()`` gives it.
        mode: ``"fp32"``, ``"tf32"`` or ``"bf16"``.

    Returns:
        The peak, or None for an unknown device (every CPU among them).

    Raises:
        TypeError: an argument is not a str.
        ValueError: ``mode`` is not one of the three.
    """
    if not isinstance(device_name, str):
        raise TypeError(f"device_name must be a str, got {type(device_name).__name__}")
    _checks.choice("mode", mode, ("fp32", "tf32", "bf16"))
    for name, peaks in PEAK_TFLOPS.items():
        if name in device_name:
            return peaks[mode]
    return None
