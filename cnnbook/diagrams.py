"""Diagrams, drawn from real numbers, of a kernel sliding over a small input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from cnnbook.conv import conv2d_reference

MAX_CELLS = 12
"""The largest padded input side that still leaves room for a number in every cell."""

CELL = 0.4
"""Inches per cell, the same in all three panels."""

_GAP = 0.25  # inches between panels and around the figure
_TITLE = 0.3  # inches above each panel for its title
_TITLE_FONT = FontProperties(size="small")


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

    ``image`` is a small ``(H, W)`` tensor and ``kernel`` a ``(kH, kW)`` tensor. Each
    row of the figure shows one output position: the input (zero-padded, with the
    padding shaded, when ``padding`` > 0) with the cells under the kernel highlighted,
    the kernel, and the output so far with the new cell outlined. ``positions`` lists
    the output cells ``(row, column)`` to show; by default the first two, the first of
    the second row, and the last. ``stride``, ``padding`` and ``dilation`` are ints,
    the same along both sides.
    """
    image, kernel = _as_grid("image", image), _as_grid("kernel", kernel)
    _check_ints(stride=stride, padding=padding, dilation=dilation)
    padded = F.pad(image, (padding,) * 4) if padding > 0 else image
    if max(padded.shape) > MAX_CELLS:
        raise ValueError(
            f"the padded input is {tuple(padded.shape)}; "
            f"keep it within {MAX_CELLS} x {MAX_CELLS} to draw it"
        )
    out = conv2d_reference(
        image[None, None],
        kernel[None, None],
        stride=stride,
        padding=padding,
        dilation=dilation,
    )[0, 0]
    positions = _check_positions(positions, tuple(out.shape))

    input_title = f"padded input (padding={padding})" if padding else "input"
    titles = [
        (
            input_title,
            "kernel",
            f"output[{row}, {col}] = {out[row, col].item():g}",
        )
        for row, col in positions
    ]
    fig, axes = _step_axes(padded.shape, kernel.shape, out.shape, titles)
    shade = np.zeros(padded.shape)
    if padding > 0:
        shade[:padding] = shade[-padding:] = 0.15
        shade[:, :padding] = shade[:, -padding:] = 0.15
    order = [(r, c) for r in range(out.shape[0]) for c in range(out.shape[1])]
    for (row, col), (ax_in, ax_k, ax_out) in zip(positions, axes, strict=True):
        top, left = row * stride, col * stride  # the window's top-left input cell
        taps = [
            (top + dilation * a, left + dilation * b)
            for a in range(kernel.shape[0])
            for b in range(kernel.shape[1])
        ]
        _grid(ax_in, padded.numpy(), shade, highlight=taps)
        _grid(ax_k, kernel.numpy(), np.zeros(kernel.shape), highlight=[])
        shown = np.full(out.shape, np.nan)  # cells not computed yet stay empty
        for r, c in order[: order.index((row, col)) + 1]:
            shown[r, c] = out[r, c].item()
        _grid(ax_out, shown, np.zeros(out.shape), highlight=[], outline=(row, col))
    return fig


def _check_ints(**values: object) -> None:
    """Raise ``TypeError`` naming the first value that is not an int."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}")


def _as_grid(name: str, value: object) -> torch.Tensor:
    """Check that ``value`` is a 2-D tensor and return it as a float CPU tensor."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a 2-D tensor (H, W), got {type(value).__name__}"
        )
    if value.dim() != 2:
        raise ValueError(
            f"{name} must be a 2-D tensor (H, W), got shape {tuple(value.shape)}"
        )
    return value.detach().float().cpu()


def _check_positions(
    positions: Sequence[tuple[int, int]] | None, out_shape: tuple[int, int]
) -> list[tuple[int, int]]:
    """Return the output cells to draw: ``positions``, checked, or the default ones."""
    last = (out_shape[0] - 1, out_shape[1] - 1)
    if positions is None:
        first_row_second = (0, min(1, last[1]))
        second_row_first = (min(1, last[0]), 0)
        return list(dict.fromkeys([(0, 0), first_row_second, second_row_first, last]))
    checked = []
    for position in positions:
        if not (
            isinstance(position, tuple)
            and len(position) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in position)
        ):
            raise TypeError(
                f"each position must be a (row, column) tuple of ints, got {position!r}"
            )
        row, col = position
        if not (0 <= row <= last[0] and 0 <= col <= last[1]):
            raise ValueError(f"position {position} is outside the {out_shape} output")
        checked.append(position)
    if not checked:
        raise ValueError("positions must list at least one output cell")
    return checked


def _step_axes(
    padded_shape: Sequence[int],
    kernel_shape: Sequence[int],
    out_shape: Sequence[int],
    titles: list[tuple[str, str, str]],
) -> tuple[Figure, list[list[Axes]]]:
    """Make one row of three titled axes per step, every cell ``CELL`` inches wide.

    Each column is as wide as its grid or its widest title, whichever is wider, so that
    no title runs into its neighbour or off the figure; the grid is centred in it.
    """
    shapes = [padded_shape, kernel_shape, out_shape]
    col_widths = [
        max(
            CELL * shape[1],
            max(_text_width(row_titles[k]) for row_titles in titles) + 0.15,
        )
        for k, shape in enumerate(shapes)
    ]
    row_height = _TITLE + CELL * padded_shape[0] + _GAP
    fig_w = sum(col_widths) + _GAP * (len(col_widths) + 1)
    fig_h = row_height * len(titles) + _GAP
    fig = Figure(figsize=(fig_w, fig_h))
    axes = []
    for index, row_titles in enumerate(titles):
        top = fig_h - _GAP - index * row_height - _TITLE  # inches from the bottom
        left = _GAP
        row = []
        for shape, width, title in zip(shapes, col_widths, row_titles, strict=True):
            w, h = CELL * shape[1], CELL * shape[0]
            x = left + (width - w) / 2
            ax = fig.add_axes((x / fig_w, (top - h) / fig_h, w / fig_w, h / fig_h))
            ax.set_title(title, fontsize="small")
            row.append(ax)
            left += width + _GAP
        axes.append(row)
    return fig, axes


def _text_width(text: str) -> float:
    """Width in inches of ``text`` in the panel-title font."""
    width, _, _ = TextToPath().get_text_width_height_descent(
        text, _TITLE_FONT, ismath=False
    )
    return width / 72


def _grid(
    ax: Axes,
    values: np.ndarray,
    shade: np.ndarray,
    *,
    highlight: list[tuple[int, int]],
    outline: tuple[int, int] | None = None,
) -> None:
    """Draw ``values`` as a table of cells.

    Cells are grey where ``shade`` > 0 and orange where listed in ``highlight``; the
    ``outline`` cell gets a blue frame; NaN values are left blank.
    """
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
                # above the grid lines and the frame, which would otherwise split
                # the blue line in two; not clipped, so it is as wide on the border
                zorder=3,
                clip_on=False,
            )
        )
    for (r, c), value in np.ndenumerate(values):
        if not np.isnan(value):
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize="small")
    ax.set_xticks(np.arange(-0.5, values.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, values.shape[0]), minor=True)
    ax.grid(which="minor", color="0.6", lw=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
