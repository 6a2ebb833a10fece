"""Diagrams, drawn from real numbers, of a kernel sliding over a small input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnbook.conv import conv2d_reference

MAX_CELLS = 12
"""The largest padded input side that still leaves room to print a number in every cell."""


def plot_conv_steps(
    image: torch.Tensor,
    kernel: torch.Tensor,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    positions: Sequence[tuple[int, int]] | None = None,
) -> Figure:
    """Draw a convolution one output cell at a time and return the figure.

    ``image`` is a small ``(H, W)`` tensor and ``kernel`` a ``(kH, kW)`` tensor. Each row of the
    figure shows one output position: the zero-padded input with the cells under the kernel
    highlighted, the kernel, and the output so far with the new cell outlined. ``positions``
    lists the output cells ``(row, column)`` to show; by default the first two, the first of
    the second row, and the last.
    """
    for name, tensor in (("image", image), ("kernel", kernel)):
        if not isinstance(tensor, torch.Tensor) or tensor.dim() != 2:
            raise ValueError(
                f"{name} must be a 2-D tensor (H, W), got {_describe(tensor)}"
            )
    image, kernel = image.detach().float().cpu(), kernel.detach().float().cpu()
    padded = (
        F.pad(image, (padding, padding, padding, padding)) if padding > 0 else image
    )
    if max(padded.shape) > MAX_CELLS:
        raise ValueError(
            f"the padded input is {tuple(padded.shape)}; keep it within {MAX_CELLS} x {MAX_CELLS} to draw it"
        )
    out = conv2d_reference(
        image[None, None],
        kernel[None, None],
        stride=stride,
        padding=padding,
        dilation=dilation,
    )[0, 0]
    if positions is None:
        last = (out.shape[0] - 1, out.shape[1] - 1)
        positions = list(
            dict.fromkeys([(0, 0), (0, min(1, last[1])), (min(1, last[0]), 0), last])
        )
    for row, col in positions:
        if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
            raise ValueError(
                f"position {(row, col)} is outside the {tuple(out.shape)} output"
            )

    widths = [padded.shape[1], kernel.shape[1], out.shape[1]]
    cell = 0.4  # inches per cell, the same in all three panels
    fig = Figure(
        figsize=(
            cell * sum(widths) + 1.5,
            (cell * padded.shape[0] + 0.5) * len(positions),
        ),
        layout="constrained",
    )
    axes = fig.subplots(len(positions), 3, squeeze=False, width_ratios=widths)
    order = [(r, c) for r in range(out.shape[0]) for c in range(out.shape[1])]
    for (row, col), (ax_in, ax_k, ax_out) in zip(positions, axes, strict=True):
        top, left = row * stride, col * stride
        taps = [
            (top + dilation * a, left + dilation * b)
            for a in range(kernel.shape[0])
            for b in range(kernel.shape[1])
        ]
        shade = np.zeros(padded.shape)
        if padding > 0:
            shade[:padding, :] = shade[-padding:, :] = shade[:, :padding] = shade[
                :, -padding:
            ] = 0.15
        _grid(ax_in, padded.numpy(), shade, highlight=taps)
        ax_in.set_title(f"padded input (padding={padding})", fontsize="small")
        _grid(ax_k, kernel.numpy(), np.zeros(kernel.shape), highlight=[])
        ax_k.set_title("kernel", fontsize="small")
        done = order[: order.index((row, col)) + 1]
        shown = np.full(out.shape, np.nan)
        for r, c in done:
            shown[r, c] = out[r, c].item()
        _grid(ax_out, shown, np.zeros(out.shape), highlight=[], outline=(row, col))
        ax_out.set_title(
            f"output[{row}, {col}] = {out[row, col].item():g}", fontsize="small"
        )
    return fig


def _grid(
    ax: Axes,
    values: np.ndarray,
    shade: np.ndarray,
    *,
    highlight: list[tuple[int, int]],
    outline: tuple[int, int] | None = None,
) -> None:
    """Draw ``values`` as a table of cells: grey where ``shade`` > 0, orange where highlighted."""
    ax.imshow(shade, cmap="Greys", vmin=0, vmax=1)
    for r, c in highlight:
        ax.add_patch(
            Rectangle(
                (c - 0.5, r - 0.5),
                1,
                1,
                facecolor="tab:orange",
                alpha=0.45,
                edgecolor="tab:orange",
                lw=2,
            )
        )
    if outline is not None:
        ax.add_patch(
            Rectangle(
                (outline[1] - 0.5, outline[0] - 0.5),
                1,
                1,
                fill=False,
                edgecolor="tab:blue",
                lw=3,
            )
        )
    for (r, c), value in np.ndenumerate(values):
        if not np.isnan(value):
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize="small")
    ax.set_xticks(np.arange(-0.5, values.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, values.shape[0]), minor=True)
    ax.grid(which="minor", color="0.6", lw=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_anchor("N")


def _describe(value: object) -> str:
    return (
        f"shape {tuple(value.shape)}"
        if isinstance(value, torch.Tensor)
        else type(value).__name__
    )
