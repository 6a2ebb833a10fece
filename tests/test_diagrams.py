import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnbook import plot_conv_steps


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_draws_one_row_per_position_with_real_values():
    image = torch.arange(16.0).reshape(4, 4)
    kernel = torch.ones(2, 2)
    before = plt.get_fignums()
    fig = plot_conv_steps(image, kernel, positions=[(0, 0), (2, 2)])
    assert plt.get_fignums() == before
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    ax_in, ax_k, ax_out = fig.axes[3:6]
    assert len(_texts(ax_in)) == 16 and _texts(ax_k) == ["1"] * 4
    # output[2, 2] = 10 + 11 + 14 + 15; every cell before it in reading order is filled
    assert ax_out.get_title() == "output[2, 2] = 50"
    assert len(_texts(ax_out)) == 9
    assert len(_texts(fig.axes[2])) == 1  # the first row shows only output[0, 0]
    highlighted = [p for p in ax_in.patches if p.get_fill()]
    assert sorted((p.get_y() + 0.5, p.get_x() + 0.5) for p in highlighted) == [
        (2, 2),
        (2, 3),
        (3, 2),
        (3, 3),
    ]


def test_padding_stride_and_dilation_move_the_window():
    image = torch.ones(5, 5)
    fig = plot_conv_steps(
        image, torch.ones(2, 2), stride=2, padding=1, dilation=2, positions=[(1, 1)]
    )
    ax_in = fig.axes[0]
    assert ax_in.images[0].get_array().shape == (7, 7)
    covered = sorted(
        (p.get_y() + 0.5, p.get_x() + 0.5) for p in ax_in.patches if p.get_fill()
    )
    assert covered == [(2, 2), (2, 4), (4, 2), (4, 4)]


def test_default_positions():
    fig = plot_conv_steps(torch.ones(4, 4), torch.ones(3, 3))
    assert [ax.get_title() for ax in fig.axes[2::3]] == [
        "output[0, 0] = 9",
        "output[0, 1] = 9",
        "output[1, 0] = 9",
        "output[1, 1] = 9",
    ]


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "message"),
    [
        (
            torch.ones(1, 4, 4),
            torch.ones(2, 2),
            {},
            r"image must be a 2-D tensor \(H, W\), got shape \(1, 4, 4\)",
        ),
        (
            torch.ones(12, 12),
            torch.ones(3, 3),
            {"padding": 1},
            r"padded input is \(14, 14\)",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"positions": [(3, 0)]},
            r"position \(3, 0\) is outside the \(3, 3\) output",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"stride": 0},
            "stride must be a positive int, got 0",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"padding": -1},
            "padding must be a non-negative int, got -1",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"dilation": 0},
            "dilation must be a positive int, got 0",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"positions": []},
            "positions must list at least one output cell",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"positions": [(0, -1)]},
            r"position \(0, -1\) is outside",
        ),
        (
            torch.ones(3, 3),
            torch.ones(4, 4),
            {},
            "spans 4 pixels, more than the padded input",
        ),
    ],
)
def test_rejects_bad_input(image, kernel, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_conv_steps(image, kernel, **kwargs)


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "message"),
    [
        (torch.ones(4, 4), [[1.0]], {}, "kernel must be a torch.Tensor, got list"),
        (None, torch.ones(2, 2), {}, "image must be a torch.Tensor, got NoneType"),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"padding": 1.0},
            "padding must be a non-negative int, got 1.0",
        ),
        (torch.ones(4, 4), torch.ones(2, 2), {"stride": True}, "stride must be"),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"positions": (0, 0)},
            r"each position must be a \(row, column\) tuple of ints, got 0",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"positions": 3},
            r"positions must be a list of \(row, column\) tuples, got 3",
        ),
        (torch.ones(4, 4), torch.ones(2, 2), {"dilation": (2, 2)}, "dilation must be"),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"positions": [(0, 0.5)]},
            r"each position must be a \(row, column\) tuple of ints",
        ),
    ],
)
def test_rejects_wrong_types(image, kernel, kwargs, message):
    with pytest.raises(TypeError, match=message):
        plot_conv_steps(image, kernel, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dilation": 2},  # a 1 x 1 output under a long title
        {"padding": 1, "stride": 2, "positions": [(0, 0), (0, 1)]},
        {"positions": [(2, 2)]},
    ],
)
def test_titles_fit_and_cells_are_one_size(kwargs):
    image = torch.arange(25.0).reshape(5, 5)
    fig = plot_conv_steps(image, torch.tensor([[1.0, 0, -1]] * 3), **kwargs)
    renderer = FigureCanvasAgg(fig).get_renderer()
    page = fig.bbox
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for index, box in enumerate(titles):
        assert page.x0 <= box.x0 and box.x1 <= page.x1, fig.axes[index].get_title()
        if index % 3:  # not the first panel of its row
            assert titles[index - 1].x1 < box.x0  # no overlap with the left neighbour
    # every cell has the same size in inches, in every panel
    cell_sizes = {
        round(ax.bbox.width / ax.images[0].get_array().shape[1], 6) for ax in fig.axes
    } | {
        round(ax.bbox.height / ax.images[0].get_array().shape[0], 6) for ax in fig.axes
    }
    assert len(cell_sizes) == 1


def test_input_title_names_the_padding_only_when_there_is_some():
    image, kernel = torch.ones(4, 4), torch.ones(2, 2)
    plain = plot_conv_steps(image, kernel, positions=[(0, 0)])
    padded = plot_conv_steps(image, kernel, padding=1, positions=[(0, 0)])
    assert plain.axes[0].get_title() == "input"
    assert padded.axes[0].get_title() == "padded input (padding=1)"


@pytest.mark.parametrize("cell", [(0, 0), (1, 1), (2, 2)])
def test_outline_is_one_clean_blue_line_on_the_grid(cell):
    # the middle of each side of the outline, drawn on the grid line between two
    # cells (or on the frame), must be blue: no grid line or frame drawn over it
    fig = plot_conv_steps(torch.ones(4, 4), torch.ones(2, 2), positions=[cell])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3] / 255
    ax_out = fig.axes[2]
    row, col = cell
    sides = [  # (x, y) in data coordinates: left, right, top, bottom
        (col - 0.5, row),
        (col + 0.5, row),
        (col, row - 0.5),
        (col, row + 0.5),
    ]
    blue = np.array(to_rgb("tab:blue"))
    for x, y in sides:
        px, py = ax_out.transData.transform((x, y))
        colour = pixels[round(pixels.shape[0] - py), round(px)]
        assert np.abs(colour - blue).max() < 0.05, ((x, y), colour)


def test_only_the_padding_is_shaded():
    fig = plot_conv_steps(
        torch.ones(3, 3), torch.ones(2, 2), padding=1, positions=[(0, 0)]
    )
    ax_in, ax_k, ax_out = fig.axes
    shade = ax_in.images[0].get_array()
    assert shade.shape == (5, 5) and np.all(shade[1:4, 1:4] == 0)
    border = np.concatenate([shade[0], shade[-1], shade[:, 0], shade[:, -1]])
    assert np.all(border > 0)
    assert not ax_k.images[0].get_array().any()
    assert not ax_out.images[0].get_array().any()
