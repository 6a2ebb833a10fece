"""Output sizes and receptive fields of convolution and pooling layers.

The formulas are PyTorch's own (see the "Shape" sections of ``torch.nn.Conv2d`` and
``torch.nn.MaxPool2d``), applied to each spatial dimension separately.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

IntOrPair = int | tuple[int, int]


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

    Every argument is an int or an ``(h, w)`` pair; the result is an int when all of
    them are ints, otherwise an ``(h, w)`` pair. Raises ``TypeError`` for an argument of
    the wrong type, and ``ValueError`` naming the argument at fault when a value is out
    of range or the kernel does not fit in the padded input.
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


def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> IntOrPair:
    """Return the output height/width of max or average pooling, as PyTorch does.

    ``stride`` defaults to ``kernel_size``. With ``ceil_mode=True`` the division rounds
    up, but a window that would start in the right or bottom padding is dropped. As in
    PyTorch, ``padding`` may be at most half of ``kernel_size``.

    Arguments are ints or ``(h, w)`` pairs, as for :func:`conv_output_size`.
    """
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
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


def _checked_dims(args: dict[str, IntOrPair]) -> list[tuple[int, ...]]:
    """Per dimension (height, width): the values of ``args`` in order, range-checked."""
    pairs = _as_pairs(args)
    dims = []
    for dim in range(2):
        n, k, s, p, d = (pairs[name][dim] for name in args)
        _check_range(
            size=n,
            kernel_size=k,
            stride=s,
            padding=p,
            dilation=d,
            where=_where(args, dim),
        )
        dims.append((n, k, s, p, d))
    return dims


def receptive_fields(
    layers: Sequence[tuple[int, int] | tuple[int, int, int]],
) -> list[tuple[int, int]]:
    """Return the receptive field and the jump after each layer of a stack.

    Each layer is ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``.
    After layer ``i``, one output pixel sees a ``field x field`` square of the input,
    and neighbouring output pixels are ``jump`` input pixels apart:
    ``field += dilation * (kernel_size - 1) * jump`` and then ``jump *= stride``.
    """
    field, jump = 1, 1
    result = []
    for index, layer in enumerate(layers):
        shape = "(kernel_size, stride[, dilation])"
        if not isinstance(layer, tuple) or not all(_is_int(v) for v in layer):
            raise TypeError(
                f"layer {index} must be a tuple of ints {shape}, got {layer!r}"
            )
        if len(layer) not in (2, 3):
            raise ValueError(f"layer {index} must be {shape}, got {layer!r}")
        kernel, stride, dilation = (*layer, 1) if len(layer) == 2 else layer
        _check_range(
            kernel_size=kernel,
            stride=stride,
            dilation=dilation,
            where=f" (layer {index})",
        )
        field += dilation * (kernel - 1) * jump
        jump *= stride
        result.append((field, jump))
    return result


_MINIMUM = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}


def _check_range(where: str, **values: int) -> None:
    """Raise ``ValueError`` naming the first argument below its minimum."""
    for name, value in values.items():
        if value < _MINIMUM[name]:
            rule = "non-negative" if _MINIMUM[name] == 0 else "at least 1"
            raise ValueError(f"{name} must be {rule}, got {value}{where}")


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


def _as_pairs(args: dict[str, IntOrPair]) -> dict[str, tuple[int, int]]:
    """Turn each int argument into an ``(h, w)`` pair, checking types on the way.

    A value that is neither an int nor a tuple of ints raises ``TypeError``; a tuple of
    the wrong length raises ``ValueError``.
    """
    pairs = {}
    for name, value in args.items():
        pair = (value, value) if _is_int(value) else value
        rule = f"{name} must be an int or an (h, w) pair of ints, got {value!r}"
        if not isinstance(pair, tuple) or not all(_is_int(v) for v in pair):
            raise TypeError(rule)
        if len(pair) != 2:
            raise ValueError(rule)
        pairs[name] = pair
    return pairs


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
