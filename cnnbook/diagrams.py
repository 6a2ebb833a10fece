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

from cnnbook import _checks
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

    Each row of the figure shows one output position: the input (zero-padded, with the
    padding shaded, when ``padding`` > 0) with the cells under the kernel highlighted,
    the kernel, and the output so far with the new cell outlined.

    Args:
        image: a small ``(H, W)`` tensor; padded, at most ``MAX_CELLS`` cells a side.
        kernel: a ``(kH, kW)`` tensor.
        stride: the step between windows, the same along both sides.
        padding: zeros added on each side; 0 adds none.
        dilation: the spacing of the kernel's taps; 1 means adjacent cells.
        positions: the output cells ``(row, column)`` to show, one per row of the
            figure; None shows the first two, the first of the second row, and the
            last.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: a shape or value is out of range, or the padded input is too
            large to draw.
    """
    image, kernel = _as_grid("image", image), _as_grid("kernel", kernel)
    stride = _checks.positive_int("stride", stride)
    padding = _checks.int_at_least("padding", padding, 0)
    dilation = _checks.positive_int("dilation", dilation)
    padded = _padded_input(image, padding)
    out = conv2d_reference(
        image[None, None],
        kernel[None, None],
        stride=stride,
        padding=padding,
        dilation=dilation,
    )[0, 0]
    positions = _check_positions(positions, (out.shape[0], out.shape[1]))
    titles = _step_titles(out, positions, padding)
    fig, axes = _step_axes(padded.shape, kernel.shape, out.shape, titles)
    padding_shade = _padding_shade(padded.shape, padding)
    for (row, col), (ax_in, ax_k, ax_out) in zip(positions, axes, strict=True):
        covered = _covered_cells(row * stride, col * stride, kernel.shape, dilation)
        _draw_cells(ax_in, padded.numpy(), padding_shade, highlight=covered)
        _draw_cells(ax_k, kernel.numpy())
        _draw_cells(ax_out, _outputs_so_far(out, row, col), outline=(row, col))
    return fig


# --- checks ---------------------------------------------------------------------


def _as_grid(name: str, value: object) -> torch.Tensor:
    """Check that ``value`` is a 2-D tensor and return it as a float CPU tensor."""
    grid = _checks.tensor(name, value)
    if grid.dim() != 2:
        raise ValueError(
            f"{name} must be a 2-D tensor (H, W), got {_checks.describe(grid)}"
        )
    return grid.detach().float().cpu()


def _padded_input(image: torch.Tensor, padding: int) -> torch.Tensor:
    """``image`` with ``padding`` zeros on each side; ``ValueError`` if too large."""
    padded = F.pad(image, (padding,) * 4) if padding > 0 else image
    if max(padded.shape) > MAX_CELLS:
        raise ValueError(
            f"the padded input is {tuple(padded.shape)}; "
            f"keep it within {MAX_CELLS} x {MAX_CELLS} to draw it"
        )
    return padded


def _check_positions(
    positions: object, out_shape: tuple[int, int]
) -> list[tuple[int, int]]:
    """Return the output cells to draw: ``positions``, checked, or the default ones."""
    last = (out_shape[0] - 1, out_shape[1] - 1)
    if positions is None:
        first_row_second = (0, min(1, last[1]))
        second_row_first = (min(1, last[0]), 0)
        return list(dict.fromkeys([(0, 0), first_row_second, second_row_first, last]))
    if not isinstance(positions, (list, tuple)):
        raise TypeError(
            f"positions must be a list of (row, column) tuples, got {positions!r}"
        )
    checked = []
    for position in positions:
        if not (
            isinstance(position, tuple)
            and len(position) == 2
            and all(_checks.is_int(v) for v in position)
        ):
            raise TypeError(
                f"each position must be a (row, column) tuple of ints, got {position!r}"
            )
        row, col = position
        if not (0 <= row <= last[0] and 0 <= col <= last[1]):
            raise ValueError(f"position {position} is outside the {out_shape} output")
        checked.append((row, col))
    if not checked:
        raise ValueError("positions must list at least one output cell")
    return checked


# --- geometry -------------------------------------------------------------------


def _covered_cells(
    top: int, left: int, kernel_shape: Sequence[int], dilation: int
) -> list[tuple[int, int]]:
    """The input cells under the kernel whose top-left tap is at ``(top, left)``."""
    return [
        (top + dilation * a, left + dilation * b)
        for a in range(kernel_shape[0])
        for b in range(kernel_shape[1])
    ]


def _padding_shade(shape: Sequence[int], padding: int) -> np.ndarray:
    """Grey levels for a padded input: light grey on the padding, 0 inside."""
    shade = np.zeros(tuple(shape))
    if padding > 0:
        shade[:padding] = shade[-padding:] = 0.15
        shade[:, :padding] = shade[:, -padding:] = 0.15
    return shade


def _outputs_so_far(out: torch.Tensor, row: int, col: int) -> np.ndarray:
    """``out`` up to cell ``(row, col)`` in reading order; NaN for the cells after."""
    shown = np.full(out.numel(), np.nan)
    count = row * out.shape[1] + col + 1  # cells visited so far, row by row
    shown[:count] = out.reshape(-1)[:count].numpy()
    return shown.reshape(tuple(out.shape))


# --- drawing --------------------------------------------------------------------


def _step_titles(
    out: torch.Tensor, positions: list[tuple[int, int]], padding: int
) -> list[tuple[str, str, str]]:
    """The three panel titles (input, kernel, output) of each step."""
    input_title = f"padded input (padding={padding})" if padding else "input"
    return [
        (input_title, "kernel", f"output[{row}, {col}] = {out[row, col].item():g}")
        for row, col in positions
    ]


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


def _draw_cells(
    ax: Axes,
    values: np.ndarray,
    background: np.ndarray | None = None,
    *,
    highlight: Sequence[tuple[int, int]] = (),
    outline: tuple[int, int] | None = None,
) -> None:
    """Draw ``values`` as a table of cells, each with its number; NaN stays blank.

    ``background`` gives each cell a grey level from 0 (white, also when None) to 1;
    cells listed in ``highlight`` are orange, and the ``outline`` cell gets a blue
    frame.
    """
    if background is None:
        background = np.zeros(values.shape)
    ax.imshow(background, cmap="Greys", vmin=0, vmax=1)
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
