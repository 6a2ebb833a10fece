"""A convolution written out by hand, to compare with ``torch.nn.functional.conv2d``.

The book's chapter "Convolution by hand" first writes the convolution as plain nested
loops; :func:`conv2d_reference` is the faster version that keeps only the loops over
output positions and does the rest as one tensor product.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnbook import _checks
from cnnbook.sizes import IntOrPair, conv_output_size


def conv2d_reference(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> torch.Tensor:
    """Compute what ``F.conv2d`` computes, with a Python loop over output positions.

    For every output position the function cuts out the window of the zero-padded
    input that the kernel covers (every ``dilation``-th pixel), multiplies it with
    each filter and sums over channels and kernel positions in one tensor operation.
    Like ``F.conv2d``, it does not flip the kernel: strictly speaking it computes a
    cross-correlation. ``F.conv2d`` itself gets the same numbers, up to float
    rounding, from optimised routines that do not loop over positions in Python.

    Args:
        x: the input batch, a float tensor of shape ``(N, C, H, W)``.
        weight: the filters, of shape ``(O, C, kH, kW)``.
        bias: one number per filter, shape ``(O,)``; None adds nothing.
        stride: the step between windows, an int or an ``(h, w)`` pair.
        padding: zeros added on each side, an int or an ``(h, w)`` pair.
        dilation: the spacing of the kernel's taps, an int or an ``(h, w)`` pair.

    Returns:
        The output, of shape ``(N, O, out_h, out_w)``.

    Raises:
        TypeError: an argument has the wrong type, or a tensor is not floating-point.
        ValueError: a shape, a value or the devices do not fit together.
    """
    _check_inputs(x, weight, bias)
    kernel_h, kernel_w = weight.shape[2:]
    # checks stride, padding and dilation, and that the kernel fits
    out_h, out_w = conv_output_size(
        (x.shape[2], x.shape[3]), (kernel_h, kernel_w), stride, padding, dilation
    )
    stride_h, stride_w = _checks.int_pair("stride", stride)
    pad_h, pad_w = _checks.int_pair("padding", padding)
    dil_h, dil_w = _checks.int_pair("dilation", dilation)
    # zeros around the border: left, right, top, bottom
    padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h))

    out = x.new_zeros(x.shape[0], weight.shape[0], out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride_h, j * stride_w
            window = padded[
                :,
                :,
                top : top + dil_h * (kernel_h - 1) + 1 : dil_h,
                left : left + dil_w * (kernel_w - 1) + 1 : dil_w,
            ]  # (N, C, kH, kW)
            # one number per (image, filter): sum of window * filter over C, kH and kW
            out[:, :, i, j] = (window.unsqueeze(1) * weight).sum(dim=(2, 3, 4))
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out


def _check_inputs(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> None:
    """Raise a clear error when the tensors cannot be convolved."""
    for name, value in (("x", x), ("weight", weight), ("bias", bias)):
        if value is None and name == "bias":
            continue
        tensor = _checks.tensor(name, value)
        if not tensor.is_floating_point():
            raise TypeError(
                f"{name} must be a floating-point tensor, got {tensor.dtype}"
            )
    if x.dim() != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}")
    if weight.dim() != 4:
        raise ValueError(
            f"weight must have shape (O, C, kH, kW), got {tuple(weight.shape)}"
        )
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"weight expects {weight.shape[1]} input channels but x has {x.shape[1]} "
            f"(x {tuple(x.shape)}, weight {tuple(weight.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"bias must have shape ({weight.shape[0]},), one per filter, "
            f"got {tuple(bias.shape)}"
        )
    devices = {x.device, weight.device}
    if bias is not None:
        devices.add(bias.device)
    if len(devices) > 1:
        raise ValueError("x, weight and bias must be on the same device")
