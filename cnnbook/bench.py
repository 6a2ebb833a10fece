"""Timing convolutions fairly on any device, and turning times into TFLOP/s.

The timer is written out here rather than taken from ``torch.utils.benchmark``: importing that
module on a machine with a CUDA toolkit but no GPU logs a warning to stderr, which a page
of the book must not do.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from cnnbook.sizes import conv_output_size

# Dense (no sparsity) peak TFLOP/s from NVIDIA's data sheets, by math mode. Longer names first:
# "H100 PCIe" must match before "H100".
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H100 PCIe": {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0},
    "H100": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4},
    "H200": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4},
    "A100": {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0},
}


def conv2d_flops(conv: nn.Conv2d, input_shape: tuple[int, int, int, int]) -> int:
    """Floating-point operations of one forward pass of ``conv`` on an input of ``input_shape``.

    Each output value takes ``in_channels / groups * kH * kW`` multiply-adds, counted as two
    operations each; the bias is ignored, as is usual.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if len(input_shape) != 4 or any(
        isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in input_shape
    ):
        raise ValueError(
            f"input_shape must be four positive ints (N, C, H, W), got {input_shape!r}"
        )
    batch, channels, height, width = input_shape
    if channels != conv.in_channels:
        raise ValueError(
            f"input_shape has {channels} channels, but the layer expects {conv.in_channels}"
        )
    if isinstance(conv.padding, str):
        raise ValueError(
            "conv2d_flops needs numeric padding, not padding=" + repr(conv.padding)
        )
    out_h, out_w = conv_output_size(
        (height, width),
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
    )
    kernel_h, kernel_w = conv.kernel_size
    per_output = conv.in_channels // conv.groups * kernel_h * kernel_w
    return 2 * batch * conv.out_channels * out_h * out_w * per_output


def time_call(
    fn: Callable[[], object], *, warmup: int = 3, min_run_time: float = 0.2
) -> float:
    """Median seconds per call of ``fn``, with warm-up and CUDA synchronisation.

    ``fn`` runs ``warmup`` times first (to load kernels and fill caches). Then it runs in
    blocks of ``number`` calls, ``number`` chosen so that a block takes at least 10 ms, until
    ``min_run_time`` seconds have passed (at least three blocks). Each block starts and ends
    with ``torch.cuda.synchronize()`` when CUDA is present, so asynchronous GPU work is counted
    in full; the result is the median block time divided by ``number``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    if not min_run_time > 0:
        raise ValueError(f"min_run_time must be positive, got {min_run_time!r}")
    for _ in range(warmup):
        fn()
    number = 1
    while _block(fn, number) < 0.01 and number < 1_000_000:
        number *= 10
    blocks: list[float] = []
    deadline = time.perf_counter() + min_run_time
    while time.perf_counter() < deadline or len(blocks) < 3:
        blocks.append(_block(fn, number) / number)
    return statistics.median(blocks)


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


def peak_tflops(device_name: str, mode: str) -> float | None:
    """The data-sheet peak TFLOP/s of a GPU called ``device_name`` in math ``mode``, if known.

    ``mode`` is ``"fp32"``, ``"tf32"`` or ``"bf16"``. Unknown devices (every CPU among them)
    give ``None``.
    """
    if mode not in ("fp32", "tf32", "bf16"):
        raise ValueError(f"mode must be 'fp32', 'tf32' or 'bf16', got {mode!r}")
    for name, peaks in PEAK_TFLOPS.items():
        if name in device_name:
            return peaks[mode]
    return None
