"""Figures for images and feature maps.

Every function here builds a ``matplotlib.figure.Figure`` directly instead of going
through ``pyplot``, so no figure is left open behind the caller's back. In Jupyter a
returned figure displays itself; in a script, call ``fig.savefig(...)``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from PIL import Image

from cnnbook import _checks


def use_compact_figures(quality: int = 85, png_scale: int = 2) -> None:
    """Make Jupyter show each figure in the format that suits its content.

    Photo-like figures (images with no text drawn over them: photos, feature maps)
    become JPEG of the given ``quality``, a fifth of a PNG's weight. Everything else
    (line charts, histograms, diagrams with numbers in their cells) becomes PNG at
    ``png_scale`` times the figure's resolution, shown at its normal size, so lines and
    small numbers stay crisp on high-density screens and when zoomed.
    :func:`figure_format` makes the choice. Every figure is saved with a tight box, so a
    title or label that sticks out of the canvas is kept, not clipped. Outside IPython
    (a plain script) this does nothing.

    Args:
        quality: the JPEG quality, from 1 to 95.
        png_scale: how many times the figure's resolution to save a PNG at, 1 to 4.

    Raises:
        TypeError: an argument is not an int.
        ValueError: an argument is out of its range.
    """
    _checks.int_between("quality", quality, 1, 95)
    _checks.int_between("png_scale", png_scale, 1, 4)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    for mime in ("image/png", "image/jpeg", "image/svg+xml", "application/pdf"):
        formatters[mime].pop(Figure, None)  # what the inline backend registered
    formatters["image/png"].for_type(
        Figure, lambda fig: _render(fig, "png", scale=png_scale)
    )
    formatters["image/jpeg"].for_type(
        Figure, lambda fig: _render(fig, "jpeg", quality=quality)
    )


def figure_format(fig: Figure) -> Literal["png", "jpeg"]:
    """Return the format that :func:`use_compact_figures` gives ``fig``.

    ``"jpeg"`` when it shows images and no text drawn over them, ``"png"`` otherwise.

    Args:
        fig: the figure.

    Raises:
        TypeError: ``fig`` is not a ``matplotlib.figure.Figure``.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    has_images = any(ax.images for ax in fig.axes)
    has_text = bool(fig.texts) or any(ax.texts for ax in fig.axes)
    return "jpeg" if has_images and not has_text else "png"


def _render(
    fig: Figure, fmt: Literal["png", "jpeg"], *, quality: int = 85, scale: int = 1
) -> tuple[bytes, dict[str, int]] | None:
    """Return ``fig`` as ``fmt`` in a tight box, with its display width.

    None if ``fmt`` does not suit it. PNGs are reduced to a 256-colour palette, which
    charts never exceed visibly, at a third of the size.
    """
    if not fig.axes or figure_format(fig) != fmt:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=fig.dpi * scale, bbox_inches="tight")
    with Image.open(buffer) as opened:
        width = opened.width
        image: Image.Image = opened
        if fmt == "png":
            image = opened.convert("RGB").quantize(256, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        extra = {"quality": quality} if fmt == "jpeg" else {}
        image.save(buffer, fmt, optimize=True, **extra)
    return buffer.getvalue(), {"width": round(width / scale)}


def show_image(
    image: Image.Image | torch.Tensor,
    title: str | None = None,
    *,
    ax: Axes | None = None,
    height: float = 3.0,
) -> Figure:
    """Draw an RGB image and return the figure that holds it.

    Args:
        image: a PIL image, or a tensor of shape ``(3, H, W)`` or ``(1, 3, H, W)``
            with values in [0, 1], on any device.
        title: a title above the image; None for none.
        ax: the axes to draw into; None makes a new figure.
        height: the new figure's height in inches (unused with ``ax``).

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: the image is empty, or a tensor has the wrong shape or values
            outside [0, 1].
    """
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    _checks.finite_positive("height", height)
    pixels: Image.Image | np.ndarray
    if isinstance(image, Image.Image):
        pixels = image.convert("RGB")
        width_px, height_px = pixels.size
        if not (width_px and height_px):
            raise ValueError(
                f"show_image expects a non-empty image, got size {pixels.size}"
            )
    elif isinstance(image, torch.Tensor):
        rgb = image.detach()
        if rgb.dim() == 4 and rgb.shape[0] == 1:
            rgb = rgb[0]
        if rgb.dim() != 3 or rgb.shape[0] != 3:
            raise ValueError(
                "show_image expects a tensor of shape (3, H, W) or (1, 3, H, W), "
                f"got {tuple(image.shape)}"
            )
        if rgb.numel() == 0:
            raise ValueError(
                f"show_image expects a non-empty image, got shape {tuple(image.shape)}"
            )
        rgb = rgb.float().cpu()
        low, high = rgb.min().item(), rgb.max().item()
        if not (0.0 <= low and high <= 1.0):
            raise ValueError(
                f"show_image expects values in [0, 1], got [{low:.3g}, {high:.3g}]; "
                "undo any normalisation first"
            )
        # (C, H, W) -> (H, W, C), as matplotlib wants
        pixels = rgb.permute(1, 2, 0).numpy()
        height_px, width_px = rgb.shape[1:]
    else:
        raise TypeError(
            f"image must be a PIL.Image or a torch.Tensor, got {type(image).__name__}"
        )

    if ax is None:
        fig = Figure(
            figsize=(height * width_px / height_px, height + 0.3), layout="constrained"
        )
        ax = fig.add_subplot()
    ax.imshow(pixels)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    # the figure itself, also when ax sits in a subfigure (matplotlib 3.8 and later)
    holder = ax.figure
    return holder.figure if isinstance(holder, SubFigure) else holder


def plot_feature_maps(
    maps: torch.Tensor,
    *,
    title_prefix: str = "Channel",
    titles: Sequence[str] | None = None,
    scale: Literal["channel", "shared"] = "channel",
    vlim: tuple[float, float] | None = None,
    cmap: str = "gray",
    ncols: int | None = None,
    panel_size: float = 1.6,
) -> Figure:
    """Draw every channel of a feature map in a grid and return the figure.

    ``scale="channel"`` stretches each panel to its own min..max, which shows structure
    but makes panels incomparable. ``scale="shared"`` puts every panel on one colour
    scale, from ``vlim`` when given or else the overall min..max, and adds a colour bar.

    Args:
        maps: shape ``(C, H, W)`` or ``(1, C, H, W)``, any number of channels, on
            any device.
        title_prefix: panel ``i`` is titled ``f"{title_prefix} {i}"``, counting
            from 0 like tensor indices.
        titles: one title per channel, instead of the numbered ones.
        scale: ``"channel"`` or ``"shared"``, as above.
        vlim: ``(low, high)`` of the shared scale; None for the data's min..max.
        cmap: the name of a matplotlib colour map.
        ncols: columns in the grid; None for about ``sqrt(2 C)``.
        panel_size: the width of a panel in inches.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: a value is out of range or does not fit ``maps``.
    """
    fmap = _as_chw(maps)
    channels, height, width = fmap.shape
    if titles is None:
        titles = [f"{title_prefix} {index}" for index in range(channels)]
    elif isinstance(titles, str) or not isinstance(titles, Sequence):
        raise TypeError(f"titles must be a sequence of strings, got {titles!r}")
    elif len(titles) != channels:
        raise ValueError(
            f"titles must be a sequence of {channels} strings, one per channel, "
            f"got {len(titles)}"
        )
    _checks.choice("scale", scale, ("channel", "shared"))
    if vlim is not None and scale != "shared":
        raise ValueError(
            "vlim sets one colour scale for all panels; pass scale='shared' with it"
        )
    if ncols is None:
        ncols = min(channels, math.ceil(math.sqrt(2 * channels)))
    _checks.positive_int("ncols", ncols)
    _checks.finite_positive("panel_size", panel_size)
    if scale == "shared" and vlim is None:
        low, high = fmap.min().item(), fmap.max().item()
        if low == high:
            # A constant map (say, a channel that ReLU zeroed everywhere): centre it
            # on a scale max(1, |low|) wide, so that it draws.
            pad = 0.5 * max(1.0, abs(low))
            low, high = low - pad, high + pad
        vlim = (low, high)
    if vlim is not None:
        _check_vlim(vlim)

    ncols = min(ncols, channels)
    nrows = math.ceil(channels / ncols)
    fig = Figure(
        figsize=(
            ncols * panel_size + (0.6 if vlim is not None else 0.0),
            nrows * (panel_size * height / width + 0.25),
        ),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    limits = {} if vlim is None else {"vmin": vlim[0], "vmax": vlim[1]}
    for index, ax in enumerate(axes):
        ax.set_axis_off()
        if index < channels:
            image = ax.imshow(fmap[index].numpy(), cmap=cmap, **limits)
            ax.set_title(titles[index], fontsize="small")
    if vlim is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.9)
    return fig


def _check_vlim(vlim: object) -> None:
    """Raise unless ``vlim`` is a ``(low, high)`` tuple of numbers with low < high."""
    rule = f"vlim must be (low, high) with low < high, got {vlim!r}"
    if not isinstance(vlim, tuple) or not all(_checks.is_real(v) for v in vlim):
        raise TypeError(rule)
    if len(vlim) != 2 or not vlim[0] < vlim[1]:
        raise ValueError(rule)


def _as_chw(maps: torch.Tensor) -> torch.Tensor:
    """Check ``maps`` is one ``(C, H, W)`` feature map and return it as float on CPU."""
    maps = _checks.tensor("maps", maps)
    if maps.is_complex():
        raise TypeError("maps must be real-valued, got a complex tensor")
    if maps.dim() == 4:
        if maps.shape[0] != 1:
            raise ValueError(
                f"maps must be one feature map, got a batch of {maps.shape[0]} "
                f"(shape {tuple(maps.shape)}); pick one sample, for example maps[0]"
            )
        maps = maps[0]
    if maps.dim() != 3:
        raise ValueError(
            "maps must have shape (C, H, W) or (1, C, H, W), "
            f"got {maps.dim()} dimensions {tuple(maps.shape)}"
        )
    if maps.shape[0] == 0:
        raise ValueError("maps must have at least one channel, got 0")
    if maps.shape[1] == 0 or maps.shape[2] == 0:
        raise ValueError(
            "maps must not be empty, "
            f"got height x width {maps.shape[1]} x {maps.shape[2]}"
        )
    fmap = maps.detach().float().cpu()
    if not torch.isfinite(fmap).all():
        raise ValueError("maps must be finite, got NaN or infinite values")
    return fmap


def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str]) -> Figure:
    """Draw a confusion matrix with its counts.

    Rows are the true class, columns the predicted class. The colour shows each count as
    a share of its row (the true class), from 0 to 1, so classes of different sizes are
    comparable; the number printed in each cell is the count.

    Args:
        matrix: a square tensor of counts; row ``i`` column ``j`` counts the
            samples of class ``i`` predicted as class ``j``.
        class_names: one name per class, in the order of the rows.

    Raises:
        TypeError: ``matrix`` is not a tensor, or ``class_names`` not a sequence.
        ValueError: ``matrix`` is not square or has negative entries, or
            ``class_names`` has the wrong length.
    """
    _checks.tensor("matrix", matrix)
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"matrix must be a square 2-D tensor, got {_checks.describe(matrix)}"
        )
    names_rule = f"class_names must name all {matrix.shape[0]} classes"
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"{names_rule}, got {class_names!r}")
    if len(class_names) != matrix.shape[0]:
        raise ValueError(f"{names_rule}, got {len(class_names)} names")
    counts = matrix.detach().cpu().to(torch.int64)
    if (counts < 0).any():
        raise ValueError("a confusion matrix holds counts; it has negative entries")
    shares = counts.float() / counts.sum(dim=1, keepdim=True).clamp(min=1)
    size = 0.5 * len(class_names) + 1.5
    fig = Figure(figsize=(size + 1, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(shares.numpy(), cmap="Blues", vmin=0, vmax=1)
    for row in range(len(counts)):
        for col in range(len(counts)):
            if counts[row, col]:
                colour = "white" if shares[row, col] > 0.5 else "black"
                ax.text(
                    col,
                    row,
                    str(counts[row, col].item()),
                    ha="center",
                    va="center",
                    fontsize="small",
                    color=colour,
                )
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted class", ylabel="true class")
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    return fig


def plot_rgb_filters(
    weight: torch.Tensor, *, ncols: int = 8, panel_size: float = 0.8
) -> Figure:
    """Draw the filters of a first convolution layer as small RGB tiles.

    Each filter is stretched to its own range (its lowest weight over all three colours
    maps to 0, its highest to 1), as is usual for first-layer filters: the tiles show
    patterns, not magnitudes.

    Args:
        weight: the layer's weight, shape ``(O, 3, kH, kW)``.
        ncols: the most tiles in a row.
        panel_size: the width of a tile in inches.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: ``weight`` has the wrong shape or is empty, or a number is not
            positive.
    """
    _checks.tensor("weight", weight)
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise ValueError(
            "weight must have shape (out_channels, 3, kH, kW), "
            f"got {_checks.describe(weight)}"
        )
    if weight.numel() == 0:
        raise ValueError(
            "weight must hold at least one non-empty filter, "
            f"got {_checks.describe(weight)}"
        )
    _checks.positive_int("ncols", ncols)
    _checks.finite_positive("panel_size", panel_size)
    filters = weight.detach().float().cpu()
    low = filters.amin(dim=(1, 2, 3), keepdim=True)
    high = filters.amax(dim=(1, 2, 3), keepdim=True)
    tiles = (filters - low) / (high - low).clamp(min=1e-12)
    ncols = min(ncols, len(tiles))
    nrows = math.ceil(len(tiles) / ncols)
    fig = Figure(figsize=(ncols * panel_size, nrows * panel_size), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for index, ax in enumerate(axes):
        ax.set_axis_off()
        if index < len(tiles):
            ax.imshow(tiles[index].permute(1, 2, 0).numpy(), interpolation="nearest")
    return fig
