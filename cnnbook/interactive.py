"""Interactive figures that work on a static page: offline, with no kernel.

Each explorer is computed here, in PyTorch, when the page runs: every number it shows
comes from the caller's tensors and is formatted in Python. The browser only looks the
numbers up as the reader moves a control. The result is one HTML fragment that carries
its data, a small script (``static/explorers.js``) and its style, and requests nothing
over the network. It shows as a cell output in the built book, in Jupyter and in
Colab. Where scripts do not run (an untrusted notebook), a static image of the first
view shows instead.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from cnnbook import _checks
from cnnbook.diagrams import MAX_CELLS, plot_conv_steps
from cnnbook.plotting import _render, figure_format
from cnnbook.sizes import conv_output_size

MAX_CHANNELS = 16
"""The most channels :func:`feature_map_explorer` offers (each adds a picture)."""

MAX_MAP_SIDE = 512
"""The largest feature-map side :func:`feature_map_explorer` embeds."""

SIZE_RANGES = {
    "size": (1, 12),
    "kernel_size": (1, 7),
    "stride": (1, 4),
    "padding": (0, 3),
    "dilation": (1, 4),
}
"""The slider ranges of :func:`output_size_explorer`, smallest and largest."""


class InteractiveFigure:
    """An interactive figure, displayed by Jupyter through ``_repr_html_``.

    Made by the explorer functions of this module; ``html`` is the fragment to embed
    anywhere else.

    Args:
        kind: which explorer it is: ``"kernel"``, ``"output-size"`` or
            ``"feature-maps"``.
        fragment: the self-contained HTML fragment, kept as ``html``.
    """

    def __init__(self, kind: str, fragment: str) -> None:
        self.kind = kind
        self.html = fragment

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"InteractiveFigure({self.kind!r}, {len(self.html):,} characters)"


def kernel_explorer(
    image: torch.Tensor,
    kernel: torch.Tensor,
    *,
    caption: str,
    alt: str,
    stride: int = 1,
    padding: int = 0,
    decimals: int = 2,
) -> InteractiveFigure:
    """Step a kernel across a small input, one output value at a time.

    The reader moves with buttons, a slider or the arrow keys. Each step highlights
    the window, lists the products of its pixels with the kernel's weights, and fills
    in the output, which is ``F.conv2d``'s. Numbers are shown rounded to ``decimals``
    places; the products and outputs come from the unrounded values. The static
    fallback is :func:`~cnnbook.diagrams.plot_conv_steps` at the first position.

    Args:
        image: an ``(H, W)`` tensor; padded, at most ``MAX_CELLS`` cells a side.
        kernel: a ``(kH, kW)`` tensor.
        caption: the figure's caption.
        alt: a description of the figure for screen readers and the fallback image.
        stride: the step between windows.
        padding: zeros added on each side.
        decimals: decimal places of the numbers shown, 0 to 4.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: a shape or value is out of range, or a value is not finite.
    """
    image = _finite_tensor("image", image, dims=(2,))
    kernel = _finite_tensor("kernel", kernel, dims=(2,))
    stride = _checks.positive_int("stride", stride)
    padding = _checks.int_at_least("padding", padding, 0)
    decimals = _checks.int_between("decimals", decimals, 0, 4)
    caption, alt = _text("caption", caption), _text("alt", alt)
    rows, cols = conv_output_size(
        (image.shape[0], image.shape[1]),
        (kernel.shape[0], kernel.shape[1]),
        stride=stride,
        padding=padding,
    )
    padded = F.pad(image, (padding,) * 4)
    if max(padded.shape) > MAX_CELLS:
        raise ValueError(
            f"image padded by {padding} is {tuple(padded.shape)}: at most "
            f"{MAX_CELLS} cells a side fit on a phone"
        )
    outputs = F.conv2d(image[None, None], kernel[None, None], None, stride, padding)
    windows = F.unfold(padded[None, None], tuple(kernel.shape), stride=stride)[0]
    products = windows * kernel.reshape(-1, 1)  # (kH * kW, one column per step)
    values = outputs.flatten()
    limit = max(values.abs().max().item(), 1e-12)
    low, high = image.min().item(), image.max().item()
    data = {
        "rows": rows,
        "cols": cols,
        "stride": stride,
        "padding": padding,
        "kernel_shape": list(kernel.shape),
        "input": _grid(padded, decimals),
        "input_colours": _colours(padded, "gray", low, max(high, low + 1e-12)),
        "kernel": _grid(kernel, decimals),
        "products": [_numbers(column, decimals) for column in products.T],
        "outputs": _numbers(values, decimals),
        "values": [repr(v) for v in values.tolist()],
        "output_colours": _colours(values, "RdBu_r", -limit, limit),
    }
    fallback = plot_conv_steps(
        image, kernel, stride=stride, padding=padding, positions=[(0, 0)]
    )
    return _figure("kernel", data, caption, alt, _figure_uri(fallback))


def output_size_explorer(
    *, caption: str, alt: str, start: Mapping[str, int] | None = None
) -> InteractiveFigure:
    """Explore the output size of a convolution along one side.

    Five sliders set the input size, kernel size, stride, padding and dilation within
    ``SIZE_RANGES``. For every setting, the output size (or the error message of a
    setting that cannot work) is computed by
    :func:`~cnnbook.sizes.conv_output_size` when the figure is made; the page draws
    each window's taps under the padded input.

    Args:
        caption: the figure's caption.
        alt: a description of the figure for screen readers and the fallback image.
        start: the setting shown first, by argument name; a missing name takes the
            smallest value of its range (size 7 and kernel_size 3 by default).

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: ``start`` names an unknown argument or a value out of range.
    """
    caption, alt = _text("caption", caption), _text("alt", alt)
    first = {name: low for name, (low, _) in SIZE_RANGES.items()}
    first |= {"size": 7, "kernel_size": 3}
    if start is not None:
        if not isinstance(start, Mapping):
            raise TypeError(f"start must be a mapping, got {type(start).__name__}")
        for name, value in start.items():
            if name not in SIZE_RANGES:
                raise ValueError(
                    f"start names {name!r}; expected some of {list(SIZE_RANGES)}"
                )
            first[name] = _checks.int_between(
                f"start[{name!r}]", value, *SIZE_RANGES[name]
            )
    sizes, errors = [], {}
    for n, k, s, p, d in itertools.product(
        *(range(low, high + 1) for low, high in SIZE_RANGES.values())
    ):
        try:
            sizes.append(conv_output_size(n, k, stride=s, padding=p, dilation=d))
        except ValueError as error:
            sizes.append(0)
            errors[f"{n},{k},{p},{d}"] = f"ValueError: {error}"
    symbols = dict(size="n", kernel_size="k", stride="s", padding="p", dilation="d")
    data = {
        "names": list(SIZE_RANGES),
        "labels": [f"{name} {symbols[name]}" for name in SIZE_RANGES],
        "ranges": [list(bounds) for bounds in SIZE_RANGES.values()],
        "start": [first[name] for name in SIZE_RANGES],
        "sizes": sizes,
        "errors": errors,
    }
    fallback = _plot_windows(*(first[name] for name in SIZE_RANGES))
    return _figure("output-size", data, caption, alt, _figure_uri(fallback))


def feature_map_explorer(
    stages: Mapping[str, torch.Tensor],
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    caption: str,
    alt: str,
    vlim: tuple[float, float] | None = None,
    cmap: str = "RdBu_r",
    input_names: Sequence[str] | None = None,
    decimals: int = 2,
) -> InteractiveFigure:
    """Pick a channel and a stage, and see that filter's weights next to its map.

    Every map is drawn at full resolution on one colour scale shared by all stages
    and channels, so switching between, say, a convolution and its ReLU shows what
    the activation changed and nothing else. The range, the share of zeros and the
    picture of each map are computed here.

    Args:
        stages: stage name -> maps of shape ``(C, H, W)`` or ``(1, C, H, W)``, all of
            one shape, in the order the reader should see them.
        weight: the convolution's weights, ``(C, C_in, kH, kW)``.
        bias: the convolution's biases, ``(C,)``, or None.
        caption: the figure's caption.
        alt: a description of the figure for screen readers and the fallback image.
        vlim: the colour scale's ends; None: from -m to m, m the largest
            absolute value of all maps.
        cmap: a matplotlib colour map name.
        input_names: a short name for each input channel; None: R, G, B for three
            channels, else their numbers.
        decimals: decimal places of the numbers shown, 0 to 4.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: a shape or value is out of range, or a value is not finite.
    """
    maps = _stage_maps(stages)
    channels, height, width = next(iter(maps.values())).shape
    weight = _finite_tensor("weight", weight, dims=(4,))
    if weight.shape[0] != channels:
        raise ValueError(
            f"weight has {weight.shape[0]} filters but the maps have {channels} "
            "channels"
        )
    if bias is not None:
        bias = _finite_tensor("bias", bias, dims=(1,))
        if bias.shape[0] != channels:
            raise ValueError(f"bias must have {channels} values, got {bias.shape[0]}")
    caption, alt = _text("caption", caption), _text("alt", alt)
    decimals = _checks.int_between("decimals", decimals, 0, 4)
    colour_map = _colour_map(cmap)
    low, high = _scale(maps, vlim)
    names = _input_names(input_names, weight.shape[1])
    w_limit = max(weight.abs().max().item(), 1e-12)
    frames = {
        name: [_map_uri(m, colour_map, low, high) for m in stage]
        for name, stage in maps.items()
    }
    data = {
        "stages": list(maps),
        "channels": channels,
        "size": [height, width],
        "inputs": names,
        "weights": [_grid_stack(w, decimals) for w in weight],
        "weight_colours": [
            [_colours(w_in, cmap, -w_limit, w_limit) for w_in in w] for w in weight
        ],
        "weight_scale": _number(w_limit, decimals),
        "bias": None if bias is None else _numbers(bias, decimals),
        "scale": _numbers(torch.tensor([low, 0.0, high]), decimals),
        "colourbar": _colourbar_uri(colour_map),
        "frames": frames,
        "stats": {name: [_map_stats(m) for m in stage] for name, stage in maps.items()},
    }
    return _figure("feature-maps", data, caption, alt, next(iter(frames.values()))[0])


# --- the fragment ---------------------------------------------------------------


def _figure(
    kind: str, data: dict[str, object], caption: str, alt: str, fallback: str
) -> InteractiveFigure:
    """Wrap ``data`` with the script, style, fallback image and caption."""
    payload = _script_json(data)
    digest = hashlib.sha256(f"{kind}\0{caption}\0{payload}".encode()).hexdigest()
    uid = f"cnnbook-{kind}-{digest[:12]}"
    static = resources.files("cnnbook") / "static"
    style = (static / "explorers.css").read_text(encoding="utf-8")
    script = (static / "explorers.js").read_text(encoding="utf-8")
    fragment = (
        f'<figure class="cnnbook-explorer" id="{uid}" data-kind="{kind}">\n'
        f"<style>{style}</style>\n"
        f'<div class="cx-fallback"><img src="{fallback}" alt="{html.escape(alt)}">'
        "</div>\n"
        f'<div class="cx-live" hidden data-alt="{html.escape(alt)}"></div>\n'
        f'<script type="application/json" class="cx-data">{payload}</script>\n'
        f"<script>{script}\nwindow.cnnbookExplorer("
        f'document.getElementById("{uid}"));</script>\n'
        f"<figcaption>{html.escape(caption)}</figcaption>\n"
        "</figure>"
    )
    return InteractiveFigure(kind, fragment)


def _script_json(data: dict[str, object]) -> str:
    """``data`` as JSON that cannot end its ``<script>`` element early."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure_uri(fig: Figure) -> str:
    """``fig`` as a data URI, in the format the book's figures use."""
    fmt = figure_format(fig)
    rendered = _render(fig, fmt)
    assert rendered is not None  # figure_format chose the format that suits fig
    return _data_uri(rendered[0], fmt)


def _data_uri(data: bytes, fmt: str) -> str:
    return f"data:image/{fmt};base64,{base64.b64encode(data).decode('ascii')}"


# --- numbers and colours ---------------------------------------------------------


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _numbers(values: torch.Tensor, decimals: int) -> list[str]:
    return [_number(v, decimals) for v in values.flatten().tolist()]


def _grid(values: torch.Tensor, decimals: int) -> list[list[str]]:
    return [_numbers(row, decimals) for row in values]


def _grid_stack(values: torch.Tensor, decimals: int) -> list[list[list[str]]]:
    return [_grid(plane, decimals) for plane in values]


def _colours(
    values: torch.Tensor, cmap: str, low: float, high: float
) -> list[list[str]]:
    """A ``[background, text]`` pair of hex colours for each value, in reading
    order; the text is black or white, whichever contrasts more."""
    rgba = _colour_map(cmap)((values.flatten().numpy() - low) / (high - low))
    linear = np.where(
        rgba[:, :3] <= 0.04045,
        rgba[:, :3] / 12.92,
        ((rgba[:, :3] + 0.055) / 1.055) ** 2.4,
    )
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    black = (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05)
    return [
        [matplotlib.colors.to_hex(colour), "#000000" if dark else "#ffffff"]
        for colour, dark in zip(rgba, black, strict=True)
    ]


def _colour_map(name: object) -> matplotlib.colors.Colormap:
    if not isinstance(name, str):
        raise TypeError(f"cmap must be a colour map name, got {type(name).__name__}")
    if name not in matplotlib.colormaps:
        raise ValueError(f"cmap {name!r} is not a matplotlib colour map")
    return matplotlib.colormaps[name]


def _map_uri(
    values: torch.Tensor,
    colour_map: matplotlib.colors.Colormap,
    low: float,
    high: float,
) -> str:
    """One map on the shared scale as a lossless WebP data URI.

    The pixels index the colour map's own table, as ``colour_map`` does when it
    colours floats, so the picture holds exactly the colours matplotlib would draw.
    """
    scaled = (values.numpy() - low) / (high - low) * colour_map.N
    index = np.clip(scaled.astype(np.int64), 0, colour_map.N - 1).astype(np.uint8)
    picture = Image.fromarray(index).convert("P")
    table = colour_map(np.arange(colour_map.N), bytes=True)[:, :3]
    picture.putpalette(table.flatten().tolist())
    buffer = io.BytesIO()
    picture.save(buffer, "WEBP", lossless=True, method=6)
    return _data_uri(buffer.getvalue(), "webp")


def _colourbar_uri(colour_map: matplotlib.colors.Colormap) -> str:
    ramp = colour_map(np.linspace(0, 1, 256)[None, :], bytes=True)[..., :3]
    buffer = io.BytesIO()
    Image.fromarray(np.repeat(ramp, 4, axis=0)).save(buffer, "PNG", optimize=True)
    return _data_uri(buffer.getvalue(), "png")


def _map_stats(values: torch.Tensor) -> dict[str, str]:
    """A map's range to three significant digits, and its share of exact zeros."""
    low, high = values.min().item(), values.max().item()
    return {
        "min": f"{low:.3g}",
        "max": f"{high:.3g}",
        "zeros": _share(int((values == 0).sum().item()), values.numel()),
        "raw_min": repr(low),
        "raw_max": repr(high),
    }


def _share(count: int, total: int) -> str:
    """``count / total`` as a percentage that reads 0% or 100% only when exact."""
    share = count / total
    if count in (0, total):
        return f"{share:.0%}"
    if share < 0.001:
        return "< 0.1%"
    if share > 0.999:
        return "> 99.9%"
    return f"{share:.1%}"


# --- checks ---------------------------------------------------------------------


def _finite_tensor(name: str, value: object, dims: tuple[int, ...]) -> torch.Tensor:
    """``value`` as a float CPU tensor, if it has one of ``dims`` dimensions, at least
    one element and only finite values."""
    tensor = _checks.tensor(name, value)
    if tensor.dim() not in dims:
        wanted = " or ".join(f"{d}-D" for d in dims)
        raise ValueError(f"{name} must be {wanted}, got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must hold floats, got {tensor.dtype}")
    tensor = tensor.detach().float().cpu()
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return tensor


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def _stage_maps(stages: object) -> dict[str, torch.Tensor]:
    """The stages as ``(C, H, W)`` float CPU tensors, all of one shape."""
    if not isinstance(stages, Mapping):
        raise TypeError(
            f"stages must map stage names to tensors, got {type(stages).__name__}"
        )
    if not stages:
        raise ValueError("stages is empty: give at least one stage")
    maps: dict[str, torch.Tensor] = {}
    for name, value in stages.items():
        _text("a stage name", name)
        tensor = _finite_tensor(f"stages[{name!r}]", value, dims=(3, 4))
        if tensor.dim() == 4:
            if tensor.shape[0] != 1:
                raise ValueError(
                    f"stages[{name!r}] holds a batch of {tensor.shape[0]}; give one "
                    "image's maps"
                )
            tensor = tensor[0]
        maps[name] = tensor
    shapes = {tuple(m.shape) for m in maps.values()}
    if len(shapes) > 1:
        raise ValueError(f"the stages' maps differ in shape: {sorted(shapes)}")
    channels, height, width = shapes.pop()
    if channels > MAX_CHANNELS or max(height, width) > MAX_MAP_SIDE:
        raise ValueError(
            f"maps of shape {(channels, height, width)} are too large to embed: at "
            f"most {MAX_CHANNELS} channels of {MAX_MAP_SIDE} pixels a side"
        )
    return maps


def _scale(maps: Mapping[str, torch.Tensor], vlim: object) -> tuple[float, float]:
    if vlim is None:
        limit = max(m.abs().max().item() for m in maps.values())
        limit = limit or 1.0
        return -limit, limit
    rule = f"vlim must be a (low, high) pair of finite numbers, got {vlim!r}"
    if not isinstance(vlim, tuple) or not all(_checks.is_real(v) for v in vlim):
        raise TypeError(rule)
    if len(vlim) != 2 or not all(math.isfinite(v) for v in vlim):
        raise ValueError(rule)
    low, high = float(vlim[0]), float(vlim[1])
    if not low < high:
        raise ValueError(f"vlim must have low < high, got {vlim!r}")
    return low, high


def _input_names(names: object, count: int) -> list[str]:
    if names is None:
        return ["R", "G", "B"] if count == 3 else [str(c) for c in range(count)]
    if not isinstance(names, Sequence) or isinstance(names, str):
        raise TypeError(f"input_names must be a sequence of str, got {names!r}")
    if len(names) != count:
        raise ValueError(
            f"input_names must name the {count} input channels, got {len(names)}"
        )
    return [_text("an input name", name) for name in names]


# --- the static picture of the output-size explorer -------------------------------


def _plot_windows(
    size: int, kernel_size: int, stride: int, padding: int, dilation: int
) -> Figure:
    """The padded input along one side, and the taps of each window below it."""
    width = size + 2 * padding
    try:
        count = conv_output_size(size, kernel_size, stride, padding, dilation)
    except ValueError:
        count = 0
    fig = Figure(figsize=(0.3 * width + 1.1, 0.3 * (count + 1) + 0.3))
    ax = fig.add_axes((0, 0, 1, 1))
    for column in range(width):
        pad = not padding <= column < padding + size
        ax.add_patch(
            Rectangle(
                (column, 0),
                1,
                1,
                facecolor="#dddddd" if pad else "white",
                edgecolor="black",
            )
        )
    for row in range(count):
        for tap in range(kernel_size):
            ax.add_patch(
                Rectangle(
                    (row * stride + tap * dilation, row + 1.2),
                    1,
                    0.8,
                    facecolor="#1f77b4",
                    edgecolor="black",
                )
            )
        ax.text(-0.3, row + 1.6, f"out {row}", ha="right", va="center", fontsize=8)
    ax.text(-0.3, 0.5, "input", ha="right", va="center", fontsize=8)
    ax.set(xlim=(-2.5, width + 0.2), ylim=(count + 1.2, -0.2))
    ax.set_axis_off()
    return fig
