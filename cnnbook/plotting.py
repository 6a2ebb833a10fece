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

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image


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
    """
    if (
        isinstance(quality, bool)
        or not isinstance(quality, int)
        or not 1 <= quality <= 95
    ):
        raise ValueError(f"quality must be an int from 1 to 95, got {quality!r}")
    if (
        isinstance(png_scale, bool)
        or not isinstance(png_scale, int)
        or not 1 <= png_scale <= 4
    ):
        raise ValueError(f"png_scale must be an int from 1 to 4, got {png_scale!r}")
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
    with Image.open(buffer) as image:
        width = image.width
        if fmt == "png":
            image = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
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

    ``image`` is a PIL image, or a tensor of shape ``(3, H, W)`` or ``(1, 3, H, W)``
    with values in [0, 1] on any device. Draws into ``ax`` when given, otherwise into a
    new figure ``height`` inches tall.
    """
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
        height_px, width_px = pixels.shape[:2]
    else:
        raise TypeError(
            "show_image expects a PIL.Image or a torch.Tensor, "
            f"got {type(image).__name__}"
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
    return ax.figure


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

    ``maps`` has shape ``(C, H, W)`` or ``(1, C, H, W)``, on any device, with any
    number of channels; the grid has ``ncols`` columns (by default about
    ``sqrt(2 C)``). Panel ``i`` is titled ``f"{title_prefix} {i}"``, counting from 0
    like tensor indices, unless ``titles`` gives one title per channel.

    ``scale="channel"`` stretches each panel to its own min..max, which shows structure
    but makes panels incomparable. ``scale="shared"`` puts every panel on one colour
    scale, from ``vlim`` when given or else the overall min..max, and adds a colour bar.
    """
    fmap = _as_chw(maps)
    channels, height, width = fmap.shape
    if titles is None:
        titles = [f"{title_prefix} {index}" for index in range(channels)]
    elif isinstance(titles, str) or len(titles) != channels:
        raise ValueError(
            f"titles must be a sequence of {channels} strings, one per channel"
        )
    if scale not in ("channel", "shared"):
        raise ValueError(f"scale must be 'channel' or 'shared', got {scale!r}")
    if vlim is not None and scale != "shared":
        raise ValueError(
            "vlim sets one colour scale for all panels; pass scale='shared' with it"
        )
    if ncols is None:
        ncols = min(channels, math.ceil(math.sqrt(2 * channels)))
    elif isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    if scale == "shared" and vlim is None:
        low, high = fmap.min().item(), fmap.max().item()
        if low == high:
            # A constant map (say, a channel that ReLU zeroed everywhere): centre it
            # on a scale max(1, |low|) wide, so that it draws.
            pad = 0.5 * max(1.0, abs(low))
            low, high = low - pad, high + pad
        vlim = (low, high)
    if vlim is not None and not vlim[0] < vlim[1]:
        raise ValueError(f"vlim must be (low, high) with low < high, got {vlim!r}")

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


def _as_chw(maps: torch.Tensor) -> torch.Tensor:
    """Check ``maps`` is one ``(C, H, W)`` feature map and return it as float on CPU."""
    if not isinstance(maps, torch.Tensor):
        raise TypeError(
            "expected a torch.Tensor of shape (C, H, W) or (1, C, H, W), "
            f"got {type(maps).__name__}"
        )
    if maps.is_complex():
        raise TypeError("expected a real-valued tensor, got a complex one")
    if maps.dim() == 4:
        if maps.shape[0] != 1:
            raise ValueError(
                f"expected one feature map, got a batch of {maps.shape[0]} "
                f"(shape {tuple(maps.shape)}); pick one sample, for example maps[0]"
            )
        maps = maps[0]
    if maps.dim() != 3:
        raise ValueError(
            "expected shape (C, H, W) or (1, C, H, W), "
            f"got {maps.dim()} dimensions {tuple(maps.shape)}"
        )
    if maps.shape[0] == 0:
        raise ValueError("expected at least one channel, got 0")
    if maps.shape[1] == 0 or maps.shape[2] == 0:
        raise ValueError(
            "expected non-empty maps, "
            f"got height x width {maps.shape[1]} x {maps.shape[2]}"
        )
    fmap = maps.detach().float().cpu()
    if not torch.isfinite(fmap).all():
        raise ValueError("feature maps contain NaN or infinite values")
    return fmap


def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str]) -> Figure:
    """Draw a confusion matrix with its counts.

    Rows are the true class, columns the predicted class. The colour shows each count as
    a share of its row (the true class), from 0 to 1, so classes of different sizes are
    comparable; the number printed in each cell is the count.
    """
    if (
        not isinstance(matrix, torch.Tensor)
        or matrix.dim() != 2
        or matrix.shape[0] != matrix.shape[1]
    ):
        raise ValueError(f"matrix must be a square 2-D tensor, got {_shape_of(matrix)}")
    if isinstance(class_names, str) or len(class_names) != matrix.shape[0]:
        raise ValueError(f"class_names must name all {matrix.shape[0]} classes")
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

    ``weight`` has shape ``(O, 3, kH, kW)``. Each filter is stretched to its own range
    (its lowest weight over all three colours maps to 0, its highest to 1), as is usual
    for first-layer filters: the tiles show patterns, not magnitudes.
    """
    if (
        not isinstance(weight, torch.Tensor)
        or weight.dim() != 4
        or weight.shape[1] != 3
    ):
        raise ValueError(
            f"weight must have shape (out_channels, 3, kH, kW), got {_shape_of(weight)}"
        )
    if weight.numel() == 0:
        raise ValueError(
            f"weight must hold at least one non-empty filter, got {_shape_of(weight)}"
        )
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
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


def _shape_of(value: object) -> str:
    return (
        f"shape {tuple(value.shape)}"
        if isinstance(value, torch.Tensor)
        else type(value).__name__
    )
