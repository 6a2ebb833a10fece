import io
import math
import re
import types

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

import cnnbook.plotting
from cnnbook import (
    plot_confusion_matrix,
    plot_feature_maps,
    plot_rgb_filters,
    sample_image,
    show_image,
    use_compact_figures,
)
from cnnbook.plotting import figure_format


def _panels(fig):
    """The axes that hold an image, in grid order."""
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


@pytest.fixture
def no_new_pyplot_figures():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "a helper left a pyplot figure open"


# --- plot_feature_maps ----------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3, 8, 13, 64])
def test_one_titled_panel_per_channel(channels, no_new_pyplot_figures):
    fig = plot_feature_maps(torch.randn(1, channels, 6, 9), title_prefix="Conv channel")
    assert isinstance(fig, Figure)
    panels = _panels(fig)
    assert len(panels) == channels
    assert [ax.get_title() for ax in panels] == [
        f"Conv channel {i}" for i in range(channels)
    ]
    ncols = min(channels, math.ceil(math.sqrt(2 * channels)))
    assert len(fig.axes) == ncols * math.ceil(
        channels / ncols
    )  # spare grid cells stay hidden
    assert not any(ax.axison for ax in fig.axes)


def test_eight_channels_make_a_four_by_two_grid():
    fig = plot_feature_maps(torch.randn(8, 5, 5))
    positions = {
        (ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start)
        for ax in fig.axes
    }
    assert positions == {(r, c) for r in range(2) for c in range(4)}


def test_panels_show_the_channel_values():
    maps = torch.randn(1, 3, 4, 5, requires_grad=True) * 2
    for index, ax in enumerate(_panels(plot_feature_maps(maps))):
        assert np.allclose(ax.images[0].get_array(), maps[0, index].detach().numpy())


def test_channel_scale_stretches_each_panel():
    maps = torch.stack(
        [torch.full((4, 4), 0.0), torch.linspace(-5, 5, 16).reshape(4, 4)]
    )
    maps[0, 0, 0] = 1.0
    fig = plot_feature_maps(maps, scale="channel")
    assert [ax.images[0].get_clim() for ax in _panels(fig)] == [(0.0, 1.0), (-5.0, 5.0)]
    assert len(fig.axes) == 2  # no colour bar: the panels have no common scale


def test_shared_scale_uses_the_overall_range_and_adds_a_colour_bar():
    maps = torch.stack([torch.zeros(3, 3), torch.full((3, 3), 4.0)])
    maps[0, 0, 0] = -2.0
    fig = plot_feature_maps(maps, scale="shared")
    assert {ax.images[0].get_clim() for ax in _panels(fig)} == {(-2.0, 4.0)}
    assert len(fig.axes) == 3


@pytest.mark.parametrize(
    ("value", "clim"), [(0.0, (-0.5, 0.5)), (3.0, (1.5, 4.5)), (-0.25, (-0.75, 0.25))]
)
def test_shared_scale_of_a_constant_map_is_widened_around_it(value, clim):
    # For example every channel zeroed by ReLU: the derived range would be empty.
    fig = plot_feature_maps(torch.full((2, 3, 3), value), scale="shared")
    assert {ax.images[0].get_clim() for ax in _panels(fig)} == {clim}
    assert len(fig.axes) == 3


def test_explicit_limits_let_two_figures_share_one_scale():
    fig = plot_feature_maps(
        torch.rand(2, 3, 3), scale="shared", vlim=(-3.0, 3.0), cmap="RdBu_r"
    )
    panels = _panels(fig)
    assert {ax.images[0].get_clim() for ax in panels} == {(-3.0, 3.0)}
    assert panels[0].images[0].get_cmap().name == "RdBu_r"


def test_custom_titles():
    fig = plot_feature_maps(torch.rand(2, 3, 3), titles=["conv", "ReLU"])
    assert [ax.get_title() for ax in _panels(fig)] == ["conv", "ReLU"]


@pytest.mark.parametrize("titles", [["only one"], ("a", "b", "c")])
def test_rejects_a_title_count_that_does_not_match(titles):
    with pytest.raises(ValueError, match="titles must be a sequence of 2 strings"):
        plot_feature_maps(torch.rand(2, 3, 3), titles=titles)


@pytest.mark.parametrize("titles", ["ab", 2, {"a", "b"}])
def test_rejects_titles_that_are_not_a_sequence(titles):
    with pytest.raises(TypeError, match="titles must be a sequence of strings"):
        plot_feature_maps(torch.rand(2, 3, 3), titles=titles)


def test_custom_column_count():
    fig = plot_feature_maps(torch.rand(5, 3, 3), ncols=5)
    assert len(fig.axes) == 5
    assert len(plot_feature_maps(torch.rand(2, 3, 3), ncols=10).axes) == 2


@pytest.mark.parametrize("bad", [[[[0.0]]], np.zeros((1, 2, 2)), None])
def test_rejects_non_tensors(bad):
    with pytest.raises(TypeError, match="maps must be a torch.Tensor, got"):
        plot_feature_maps(bad)


def test_rejects_complex_values():
    with pytest.raises(TypeError, match="maps must be real-valued"):
        plot_feature_maps(torch.zeros(1, 2, 2, dtype=torch.complex64))


@pytest.mark.parametrize("shape", [(4, 4), (4,), (1, 1, 2, 4, 4)])
def test_rejects_the_wrong_rank(shape):
    with pytest.raises(
        ValueError, match=r"maps must have shape \(C, H, W\) or \(1, C, H, W\)"
    ):
        plot_feature_maps(torch.zeros(shape))


def test_rejects_a_batch_of_several():
    with pytest.raises(ValueError, match="batch of 2.*maps\\[0\\]"):
        plot_feature_maps(torch.zeros(2, 8, 4, 4))


@pytest.mark.parametrize("shape", [(0, 4, 4), (1, 0, 4, 4)])
def test_rejects_zero_channels(shape):
    with pytest.raises(ValueError, match="at least one channel"):
        plot_feature_maps(torch.zeros(shape))


def test_rejects_empty_maps():
    with pytest.raises(ValueError, match="maps must not be empty"):
        plot_feature_maps(torch.zeros(2, 0, 4))


def test_rejects_non_finite_values():
    maps = torch.zeros(2, 3, 3)
    maps[1, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        plot_feature_maps(maps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "global"}, "scale must be 'channel' or 'shared'"),
        ({"vlim": (0.0, 1.0)}, "pass scale='shared'"),
        ({"scale": "shared", "vlim": (1.0, 1.0)}, "low < high"),
        ({"scale": "shared", "vlim": (0.0, 1.0, 2.0)}, "low < high"),
        ({"ncols": 0}, "ncols must be a positive int"),
        ({"panel_size": 0}, "panel_size must be a finite number above 0"),
    ],
)
def test_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_feature_maps(torch.rand(2, 3, 3), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": None}, "scale must be 'channel' or 'shared'"),
        ({"scale": "shared", "vlim": [0.0, 1.0]}, "vlim must be"),
        ({"scale": "shared", "vlim": (0.0, "1")}, "vlim must be"),
        ({"ncols": 2.0}, "ncols must be a positive int"),
        ({"panel_size": "1"}, "panel_size must be a finite number"),
    ],
)
def test_rejects_options_of_the_wrong_type(kwargs, message):
    with pytest.raises(TypeError, match=message):
        plot_feature_maps(torch.rand(2, 3, 3), **kwargs)


# --- show_image -----------------------------------------------------------------------


def test_show_pil_image(no_new_pyplot_figures):
    img = sample_image()
    fig = show_image(img, "Chelsea")
    (ax,) = fig.axes
    assert ax.get_title() == "Chelsea"
    assert ax.images[0].get_array().shape == (300, 451, 3)
    width, height = fig.get_size_inches()
    assert width > height  # the figure follows the photo's landscape shape


@pytest.mark.parametrize("shape", [(3, 5, 7), (1, 3, 5, 7)])
def test_show_tensor_image(shape):
    tensor = torch.rand(shape)
    (ax,) = show_image(tensor).axes
    assert np.allclose(
        ax.images[0].get_array(), tensor.reshape(3, 5, 7).permute(1, 2, 0).numpy()
    )
    assert ax.get_title() == ""


def test_show_image_into_existing_axes():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert show_image(torch.rand(3, 4, 4), "right", ax=right) is fig
    assert right.get_title() == "right" and not left.images


@pytest.mark.parametrize("shape", [(4, 4), (1, 4, 4), (2, 3, 4, 4), (4, 4, 3)])
def test_show_image_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"shape \(3, H, W\) or \(1, 3, H, W\)"):
        show_image(torch.rand(shape))


@pytest.mark.parametrize("shape", [(3, 0, 4), (1, 3, 4, 0)])
def test_show_image_rejects_an_empty_tensor(shape):
    with pytest.raises(
        ValueError, match=re.escape(f"non-empty image, got shape {shape}")
    ):
        show_image(torch.rand(shape))


def test_show_image_rejects_an_empty_pil_image():
    with pytest.raises(ValueError, match=r"non-empty image, got size \(0, 4\)"):
        show_image(Image.new("RGB", (0, 4)))


def test_show_image_rejects_normalised_values():
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*undo any normalisation"):
        show_image(torch.randn(3, 4, 4) * 3)


def test_show_image_rejects_other_types():
    with pytest.raises(TypeError, match="PIL.Image or a torch.Tensor, got ndarray"):
        show_image(np.zeros((4, 4, 3)))


# --- use_compact_figures --------------------------------------------------------------


def test_compact_figures_is_a_no_op_outside_ipython():
    import IPython

    assert IPython.get_ipython() is None
    use_compact_figures()  # must not raise or start a shell
    assert IPython.get_ipython() is None


@pytest.fixture
def formatter(monkeypatch):
    """An IPython display formatter set up by use_compact_figures, with no shell."""
    import IPython
    from IPython.core.formatters import DisplayFormatter

    display = DisplayFormatter()
    shell = types.SimpleNamespace(display_formatter=display)
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    use_compact_figures(quality=70)
    return display


def _photo_figure(title="a photo"):
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(np.random.default_rng(0).random((20, 30, 3)))
    ax.set_title(title)
    return fig


def _line_figure(title="a chart"):
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0, 1])
    ax.set_title(title)
    return fig


def test_photos_are_jpeg_and_charts_png(formatter):
    photo, _ = formatter.format(_photo_figure())
    chart, chart_metadata = formatter.format(_line_figure())
    assert "image/jpeg" in photo and "image/png" not in photo
    assert "image/png" in chart and "image/jpeg" not in chart
    with Image.open(io.BytesIO(photo["image/jpeg"])) as image:
        assert image.format == "JPEG"
    # the PNG has twice the pixels, and is shown at the figure's own size
    with Image.open(io.BytesIO(chart["image/png"])) as image:
        assert image.format == "PNG"
        assert chart_metadata["image/png"]["width"] == round(image.width / 2)
        assert 250 < chart_metadata["image/png"]["width"] < 350  # 3 in at 100 dpi


def test_numbers_drawn_over_an_image_make_it_png(formatter):
    fig = _photo_figure()
    fig.axes[0].text(1, 1, "0.25")
    assert figure_format(fig) == "png"
    data, _ = formatter.format(fig)
    assert "image/png" in data and "image/jpeg" not in data


@pytest.mark.parametrize("make", [_photo_figure, _line_figure])
def test_a_title_wider_than_the_canvas_is_kept_not_clipped(formatter, make):
    """Constrained layout cannot fit this title; the saved image must grow around it."""
    long_title = "a title far too long for a figure only three inches wide, " * 2
    clipped = make(long_title)
    clipped.canvas.draw()
    title = clipped.axes[0].title.get_window_extent()
    assert title.width > clipped.bbox.width  # the title sticks out of the canvas
    # (at twice the resolution, text measures a little differently: allow 2%)
    assert _displayed_width(formatter, clipped) >= 0.98 * title.width


def _displayed_width(formatter, fig):
    data, metadata = formatter.format(fig)
    mime = "image/png" if "image/png" in data else "image/jpeg"
    with Image.open(io.BytesIO(data[mime])) as image:
        return image.width / (2 if mime == "image/png" else 1)


def test_empty_figures_show_no_image(formatter):
    data, _ = formatter.format(Figure())
    assert not {"image/png", "image/jpeg"} & set(data)


def test_figure_format_rejects_other_types():
    with pytest.raises(TypeError, match="matplotlib Figure, got str"):
        figure_format("fig")


@pytest.mark.parametrize(
    ("scale", "error"), [(0, ValueError), (5, ValueError), (2.0, TypeError)]
)
def test_compact_figures_rejects_bad_png_scale(scale, error):
    with pytest.raises(error, match="png_scale must be an int from 1 to 4"):
        use_compact_figures(png_scale=scale)


def test_compact_figures_without_ipython_installed(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ipython(name, *args, **kwargs):
        if name == "IPython":
            raise ImportError("no IPython here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipython)
    assert cnnbook.plotting.use_compact_figures() is None


@pytest.mark.parametrize(
    ("quality", "error"),
    [(0, ValueError), (96, ValueError), (80.0, TypeError), (True, TypeError)],
)
def test_compact_figures_rejects_bad_quality(quality, error):
    with pytest.raises(error, match="quality must be an int from 1 to 95"):
        use_compact_figures(quality)


# --- plot_confusion_matrix ------------------------------------------------------------


def test_confusion_matrix_colours_row_shares_and_prints_counts():
    matrix = torch.tensor([[8, 2, 0], [1, 1, 0], [0, 0, 5]])
    fig = plot_confusion_matrix(matrix, ["a", "b", "c"])
    ax = fig.axes[0]
    shares = ax.images[0].get_array()
    assert np.allclose(shares[0], [0.8, 0.2, 0.0]) and np.allclose(
        shares[1], [0.5, 0.5, 0.0]
    )
    assert sorted(t.get_text() for t in ax.texts) == sorted(["8", "2", "1", "1", "5"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_ylabel() == "true class"


@pytest.mark.parametrize(
    ("matrix", "names", "message"),
    [
        (torch.zeros(2, 3), ["a", "b"], r"square 2-D tensor, got shape \(2, 3\)"),
        (torch.eye(2), ["a"], "must name all 2 classes, got 1 names"),
        (-torch.eye(2), ["a", "b"], "negative entries"),
    ],
)
def test_confusion_matrix_rejects_bad_input(matrix, names, message):
    with pytest.raises(ValueError, match=message):
        plot_confusion_matrix(matrix, names)


@pytest.mark.parametrize(
    ("matrix", "names", "message"),
    [
        ([[1, 0], [0, 1]], ["a", "b"], "matrix must be a torch.Tensor, got list"),
        (torch.eye(2), "ab", "must name all 2 classes, got 'ab'"),
        (torch.eye(2), None, "must name all 2 classes, got None"),
    ],
)
def test_confusion_matrix_rejects_input_of_the_wrong_type(matrix, names, message):
    with pytest.raises(TypeError, match=message):
        plot_confusion_matrix(matrix, names)


# --- plot_rgb_filters -----------------------------------------------------------------


def test_rgb_filters_are_stretched_per_filter():
    weight = torch.randn(10, 3, 3, 3)
    fig = plot_rgb_filters(weight, ncols=4)
    assert len(fig.axes) == 12
    tiles = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(tiles) == 10 and tiles[0].shape == (3, 3, 3)
    assert all(np.isclose(t.min(), 0) and np.isclose(t.max(), 1) for t in tiles)


def test_rgb_filters_constant_filter_does_not_divide_by_zero():
    (ax,) = plot_rgb_filters(torch.ones(1, 3, 2, 2)).axes
    assert np.all(ax.images[0].get_array() == 0)


@pytest.mark.parametrize(
    ("weight", "kwargs", "message"),
    [
        (torch.zeros(4, 1, 3, 3), {}, r"shape \(out_channels, 3, kH, kW\)"),
        (torch.zeros(4, 3, 3, 3), {"ncols": 0}, "ncols must be a positive int"),
        (torch.zeros(4, 3, 3, 3), {"panel_size": -1}, "panel_size must be a finite"),
        (torch.zeros(0, 3, 3, 3), {}, r"non-empty filter, got shape \(0, 3, 3, 3\)"),
        (torch.zeros(2, 3, 0, 3), {}, r"non-empty filter, got shape \(2, 3, 0, 3\)"),
    ],
)
def test_rgb_filters_reject_bad_input(weight, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_rgb_filters(weight, **kwargs)


@pytest.mark.parametrize(
    ("weight", "kwargs", "message"),
    [
        (np.zeros((4, 3, 3, 3)), {}, "weight must be a torch.Tensor, got ndarray"),
        (torch.zeros(4, 3, 3, 3), {"ncols": 2.0}, "ncols must be a positive int"),
    ],
)
def test_rgb_filters_reject_input_of_the_wrong_type(weight, kwargs, message):
    with pytest.raises(TypeError, match=message):
        plot_rgb_filters(weight, **kwargs)


def test_show_image_in_a_subfigure_returns_the_whole_figure():
    fig = Figure()
    (sub,) = fig.subfigures(1, 1, squeeze=False).ravel()
    assert show_image(torch.rand(3, 4, 4), ax=sub.add_subplot()) is fig


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ax": "left"}, TypeError, "ax must be a matplotlib Axes, got str"),
        ({"height": "3"}, TypeError, "height must be a finite number above 0"),
        ({"height": 0}, ValueError, "height must be a finite number above 0"),
    ],
)
def test_show_image_rejects_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        show_image(torch.rand(3, 4, 4), **kwargs)
