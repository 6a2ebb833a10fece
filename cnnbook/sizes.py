"""Output sizes and receptive fields of convolution and pooling layers.

The formulas are PyTorch's own (see the "Shape" sections of ``torch.nn.Conv2d`` and
``torch.nn.MaxPool2d``), applied to each spatial dimension separately.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

from cnnbook import _checks

IntOrPair = int | tuple[int, int]


# The overloads tell a type checker that ints give an int and a pair of sizes a pair.
@overload
def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int: ...
@overload
def conv_output_size(
    size: tuple[int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> tuple[int, int]: ...
@overload
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> IntOrPair: ...
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> IntOrPair:
    """Return the output height/width of a convolution, as ``nn.Conv2d`` computes it.

    With ``span = dilation * (kernel_size - 1) + 1``, the pixels the kernel covers:
    ``out = floor((size + 2 * padding - span) / stride) + 1``.

    Args:
        size: the input's height and width, or one int for both.
        kernel_size: the kernel's height and width, or one int for both.
        stride: the step between windows; 1 visits every position.
        padding: zeros added on each side; 0 adds none.
        dilation: the spacing of the kernel's taps; 1 means adjacent pixels.

    Returns:
        An int when every argument is an int, otherwise an ``(h, w)`` pair.

    Raises:
        TypeError: an argument is neither an int nor a pair of ints.
        ValueError: a value is out of range, or the kernel does not fit in the
            padded input; the message names the argument at fault.
    """
    args = {
        "size": size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    out = []
    for dim, (n, k, s, p, d) in enumerate(_checked_dims(args)):
        span = d * (k - 1) + 1  # how many input pixels the (dilated) kernel covers
        _check_fits(n, k, p, d, span, _dimension(args, dim))
        out.append((n + 2 * p - span) // s + 1)
    return _result(out, args)


@overload
def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int: ...
@overload
def pool_output_size(
    size: tuple[int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> tuple[int, int]: ...
@overload
def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> IntOrPair: ...
def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> IntOrPair:
    """Return the output height/width of max or average pooling, as PyTorch does.

    Args:
        size: the input's height and width, or one int for both.
        kernel_size: the window's height and width, or one int for both.
        stride: the step between windows; None (the default) means ``kernel_size``.
        padding: padding on each side, at most half of ``kernel_size`` (as in
            PyTorch); 0 adds none.
        dilation: the spacing of the window's taps; 1 means adjacent pixels.
        ceil_mode: round the division up instead of down; a window that would
            start in the right or bottom padding is still dropped.

    Returns:
        An int when every argument is an int, otherwise an ``(h, w)`` pair.

    Raises:
        TypeError: an argument has the wrong type (as for :func:`conv_output_size`).
        ValueError: a value is out of range; the message names the argument.
    """
    _checks.flag("ceil_mode", ceil_mode)
    args = {
        "size": size,
        "kernel_size": kernel_size,
        "stride": kernel_size if stride is None else stride,
        "padding": padding,
        "dilation": dilation,
    }
    out = []
    for dim, (n, k, s, p, d) in enumerate(_checked_dims(args)):
        if 2 * p > k:
            raise ValueError(
                f"padding={p} is more than half of kernel_size={k}{_where(args, dim)}"
            )
        span = d * (k - 1) + 1
        _check_fits(n, k, p, d, span, _dimension(args, dim))
        room = n + 2 * p - span
        steps = math.ceil(room / s) if ceil_mode else room // s
        if ceil_mode and steps * s >= n + p:
            steps -= 1  # the last window would start in the padding
        out.append(steps + 1)
    return _result(out, args)


def _checked_dims(
    args: dict[str, IntOrPair],
) -> list[tuple[int, int, int, int, int]]:
    """Per dimension (height, width): the values of ``args`` in order, range-checked."""
    pairs = [_checks.int_pair(name, value) for name, value in args.items()]
    dims = []
    for dim in range(2):
        n, k, s, p, d = (
            _check_range(name, pair[dim], _where(args, dim))
            for name, pair in zip(args, pairs, strict=True)
        )
        dims.append((n, k, s, p, d))
    return dims


def receptive_fields(
    layers: Sequence[tuple[int, int] | tuple[int, int, int]],
) -> list[tuple[int, int]]:
    """Return the receptive field and the jump after each layer of a stack.

    After layer ``i``, one output pixel sees a ``field x field`` square of the input,
    and neighbouring output pixels are ``jump`` input pixels apart:
    ``field += dilation * (kernel_size - 1) * jump`` and then ``jump *= stride``.

    Args:
        layers: one ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``
            tuple of ints per layer, first layer first.

    Returns:
        One ``(field, jump)`` pair per layer.

    Raises:
        TypeError: a layer is not a tuple of ints.
        ValueError: a layer has the wrong length or a value out of range.
    """
    field, jump = 1, 1
    result = []
    for index, layer in enumerate(layers):
        rule = f"layer {index} must be (kernel_size, stride[, dilation]), got {layer!r}"
        if not isinstance(layer, tuple) or not all(_checks.is_int(v) for v in layer):
            raise TypeError(rule)
        if len(layer) not in (2, 3):
            raise ValueError(rule)
        where = f" (layer {index})"
        kernel = _check_range("kernel_size", layer[0], where)
        stride = _check_range("stride", layer[1], where)
        dilation = _check_range("dilation", layer[2] if len(layer) == 3 else 1, where)
        field += dilation * (kernel - 1) * jump
        jump *= stride
        result.append((field, jump))
    return result


_MINIMUM = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}


def _check_range(name: str, value: int, where: str) -> int:
    """``value`` if it is at least the minimum for argument ``name``.

    ``where`` (such as ``" (in the width)"``) follows the name in the message.
    """
    return _checks.int_at_least(f"{name}{where}", value, _MINIMUM[name])


def _check_fits(n: int, k: int, p: int, d: int, span: int, dimension: str) -> None:
    """Raise ``ValueError`` when the dilated kernel is wider than the padded input.

    ``dimension`` is ``"height"``, ``"width"`` or ``""`` (the arguments were ints).
    """
    if span > n + 2 * p:
        where = f"in the {dimension}: " if dimension else ""
        raise ValueError(
            f"{where}kernel_size={k} with dilation={d} spans {span} pixels, more than "
            f"the padded input (size {n} + 2 * padding {p} = {n + 2 * p})"
        )


def _dimension(args: dict[str, IntOrPair], dim: int) -> str:
    """Return ``"height"`` or ``"width"`` when the arguments were pairs, else ``""``."""
    if all(isinstance(v, int) for v in args.values()):
        return ""
    return "height" if dim == 0 else "width"


def _where(args: dict[str, IntOrPair], dim: int) -> str:
    """Say which dimension is at fault, when the arguments were pairs."""
    dimension = _dimension(args, dim)
    return f" (in the {dimension})" if dimension else ""


def _result(out: list[int], args: dict[str, IntOrPair]) -> IntOrPair:
    return (
        out[0] if all(isinstance(v, int) for v in args.values()) else (out[0], out[1])
    )
