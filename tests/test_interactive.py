import base64
import html
import io
import json
import re
from typing import Any

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnbook import (
    SIZE_RANGES,
    InteractiveFigure,
    conv_output_size,
    feature_map_explorer,
    kernel_explorer,
    output_size_explorer,
)
from cnnbook.interactive import _share

TEXT = {"caption": "A caption.", "alt": "A description of the figure."}


def _payload(figure: InteractiveFigure) -> dict[str, Any]:
    """The data the fragment embeds for its script."""
    match = re.search(
        r'<script type="application/json" class="cx-data">(.*?)</script>',
        figure.html,
        re.DOTALL,
    )
    assert match is not None
    return json.loads(match[1])


def _decode(uri: str) -> np.ndarray:
    header, data = uri.split(",", 1)
    assert header.startswith("data:image/") and header.endswith(";base64")
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        return np.asarray(image.convert("RGB"))


# --- the fragment -----------------------------------------------------------------


def test_fragment_is_self_contained_and_displays_in_jupyter():
    figure = output_size_explorer(**TEXT)
    assert figure._repr_html_() == figure.html
    assert "InteractiveFigure('output-size'" in repr(figure)
    fragment = figure.html
    assert fragment.startswith('<figure class="cnnbook-explorer"')
    assert fragment.endswith("</figure>")
    # nothing is fetched: no src or href that is not embedded data
    assert not re.search(r"""(src|href)=["'](?!data:)""", fragment)
    # the one URL is SVG's namespace, a name and not a request
    names = fragment.replace('"http://www.w3.org/2000/svg"', "")
    assert "http://" not in names and "https://" not in names
    assert "<figcaption>A caption.</figcaption>" in fragment
    assert 'alt="A description of the figure."' in fragment
    assert "window.cnnbookExplorer(" in fragment


def test_text_and_data_are_escaped():
    figure = kernel_explorer(
        torch.zeros(4, 4),
        torch.ones(2, 2),
        caption='<script>alert("x")</script> & more',
        alt='a "quoted" <b>alt</b> text',
    )
    assert "<script>alert" not in figure.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in figure.html
    assert 'alt="a &quot;quoted&quot; &lt;b&gt;alt&lt;/b&gt; text"' in figure.html
    stages = {"</script><b>": torch.zeros(1, 4, 4)}
    maps = feature_map_explorer(stages, torch.zeros(1, 1, 1, 1), **TEXT)
    assert "</script><b>" not in maps.html
    assert _payload(maps)["stages"] == ["</script><b>"]


def test_same_input_gives_the_same_fragment_and_ids_differ_by_content():
    a = kernel_explorer(torch.eye(4), torch.ones(2, 2), **TEXT)
    b = kernel_explorer(torch.eye(4), torch.ones(2, 2), **TEXT)
    c = kernel_explorer(torch.eye(4), -torch.ones(2, 2), **TEXT)
    assert a.html == b.html
    ids = [re.search(r'id="([^"]+)"', f.html)[1] for f in (a, c)]
    assert ids[0] != ids[1] and all(i.startswith("cnnbook-kernel-") for i in ids)


# --- kernel explorer --------------------------------------------------------------


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2)])
def test_kernel_explorer_embeds_pytorchs_numbers(stride, padding):
    torch.manual_seed(0)
    image, kernel = torch.rand(6, 7), torch.randn(3, 2)
    data = _payload(
        kernel_explorer(image, kernel, stride=stride, padding=padding, **TEXT)
    )
    expected = F.conv2d(image[None, None], kernel[None, None], None, stride, padding)
    rows, cols = conv_output_size((6, 7), (3, 2), stride=stride, padding=padding)
    assert (data["rows"], data["cols"]) == (rows, cols) == tuple(expected.shape[2:])
    assert [float(v) for v in data["values"]] == expected.flatten().tolist()
    assert data["outputs"] == [
        f"{v:.2f}".replace("-0.00", "0.00") for v in expected.flatten().tolist()
    ]
    padded = F.pad(image, (padding,) * 4)
    assert len(data["input"]) == 6 + 2 * padding
    assert data["input"][0][0] == f"{padded[0, 0].item():.2f}"
    # step 1 (row 0, column 1): the window starts `stride` columns to the right
    window = padded[0:3, stride : stride + 2]
    products = (window * kernel).flatten().tolist()
    assert data["products"][1] == [
        f"{p:.2f}".replace("-0.00", "0.00") for p in products
    ]
    assert len(data["products"]) == rows * cols


def test_kernel_explorer_colours_and_fallback():
    data = _payload(kernel_explorer(torch.eye(4), torch.ones(2, 2), **TEXT))
    # black text on light cells, white on dark ones
    assert data["input_colours"][0] == ["#ffffff", "#000000"]
    assert data["input_colours"][1] == ["#000000", "#ffffff"]
    assert len(data["output_colours"]) == 9
    figure = kernel_explorer(torch.eye(4), torch.ones(2, 2), **TEXT)
    fallback = re.search(r'<div class="cx-fallback"><img src="([^"]+)"', figure.html)
    assert _decode(fallback[1]).shape[0] > 50  # the plot_conv_steps picture


def test_kernel_explorer_shows_numbers_to_the_chosen_decimals():
    image = torch.full((3, 3), 1 / 3)
    data = _payload(kernel_explorer(image, torch.ones(1, 1), decimals=4, **TEXT))
    assert data["outputs"][0] == "0.3333"
    zero = _payload(kernel_explorer(-1e-9 * torch.ones(3, 3), torch.ones(1, 1), **TEXT))
    assert zero["outputs"][0] == "0.00"  # no "-0.00"


@pytest.mark.parametrize(
    "image, kernel, kwargs, error, message",
    [
        ([[1.0]], torch.ones(1, 1), {}, TypeError, "image must be a torch.Tensor"),
        (torch.ones(1, 4, 4), torch.ones(2, 2), {}, ValueError, "image must be 2-D"),
        (torch.ones(4, 4), torch.ones(2), {}, ValueError, "kernel must be 2-D"),
        (torch.ones(0, 4), torch.ones(1, 1), {}, ValueError, "image is empty"),
        (
            torch.ones(4, 4, dtype=torch.long),
            torch.ones(2, 2),
            {},
            TypeError,
            "image must hold floats",
        ),
        (
            torch.full((4, 4), float("nan")),
            torch.ones(2, 2),
            {},
            ValueError,
            "image holds NaN",
        ),
        (
            torch.ones(4, 4),
            torch.tensor([[float("inf")]]),
            {},
            ValueError,
            "kernel holds NaN or infinite",
        ),
        (torch.ones(2, 2), torch.ones(3, 3), {}, ValueError, "kernel_size=3"),
        (
            torch.ones(12, 12),
            torch.ones(3, 3),
            {"padding": 1},
            ValueError,
            "at most 12 cells",
        ),
        (torch.ones(4, 4), torch.ones(2, 2), {"stride": 0}, ValueError, "stride"),
        (torch.ones(4, 4), torch.ones(2, 2), {"padding": -1}, ValueError, "padding"),
        (torch.ones(4, 4), torch.ones(2, 2), {"decimals": 5}, ValueError, "decimals"),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"caption": ""},
            ValueError,
            "caption must not be empty",
        ),
        (
            torch.ones(4, 4),
            torch.ones(2, 2),
            {"alt": None},
            TypeError,
            "alt must be a str",
        ),
    ],
)
def test_kernel_explorer_rejects_bad_input(image, kernel, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        kernel_explorer(image, kernel, **(TEXT | kwargs))


# --- output-size explorer ---------------------------------------------------------


def test_output_size_table_is_conv_output_size_everywhere():
    data = _payload(output_size_explorer(**TEXT))
    assert data["names"] == list(SIZE_RANGES)
    settings = np.prod([high - low + 1 for low, high in SIZE_RANGES.values()])
    assert len(data["sizes"]) == settings
    ranges = [range(low, high + 1) for low, high in SIZE_RANGES.values()]
    index, refused = 0, 0
    for n in ranges[0]:
        for k in ranges[1]:
            for s in ranges[2]:
                for p in ranges[3]:
                    for d in ranges[4]:
                        try:
                            expected = conv_output_size(n, k, s, p, d)
                        except ValueError as error:
                            assert data["sizes"][index] == 0
                            shown = data["errors"][f"{n},{k},{p},{d}"]
                            assert shown == f"ValueError: {error}"
                            refused += 1
                        else:
                            assert data["sizes"][index] == expected
                        index += 1
    assert refused > 0 and refused < settings  # both kinds are covered


def test_output_size_start_and_fallback():
    data = _payload(output_size_explorer(**TEXT))
    assert data["start"] == [7, 3, 1, 0, 1]
    start = {"size": 5, "dilation": 2}
    assert _payload(output_size_explorer(start=start, **TEXT))["start"] == [
        5,
        3,
        1,
        0,
        2,
    ]
    figure = output_size_explorer(start={"size": 1, "kernel_size": 7}, **TEXT)
    src = re.search(r'<div class="cx-fallback"><img src="([^"]+)"', figure.html)[1]
    assert _decode(src).size > 0  # a setting with no output still has a picture


@pytest.mark.parametrize(
    "start, error, message",
    [
        ([("size", 3)], TypeError, "start must be a mapping"),
        ({"width": 3}, ValueError, "start names 'width'"),
        ({"size": 0}, ValueError, "start['size'] must be an int from 1 to 12"),
        ({"stride": 1.5}, TypeError, "start['stride'] must be an int"),
    ],
)
def test_output_size_explorer_rejects_bad_start(start, error, message):
    with pytest.raises(error, match=re.escape(message)):
        output_size_explorer(start=start, **TEXT)


# --- feature-map explorer ---------------------------------------------------------


def _stages():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 10, 12).abs()
    x[..., ::2] *= -1  # half of every map negative, none of it 0
    return {"conv": x, "ReLU": torch.relu(x), "Leaky": F.leaky_relu(x, 0.1)}


def test_feature_maps_are_pictures_on_one_shared_scale():
    stages = _stages()
    weight, bias = torch.randn(3, 2, 3, 3), torch.randn(3)
    data = _payload(
        feature_map_explorer(stages, weight, bias, vlim=(-2.0, 2.0), **TEXT)
    )
    assert data["stages"] == ["conv", "ReLU", "Leaky"]
    assert data["channels"] == 3 and data["size"] == [10, 12]
    assert data["inputs"] == ["0", "1"] and data["scale"] == ["-2.00", "0.00", "2.00"]
    colours = matplotlib.colormaps["RdBu_r"]
    for name, maps in stages.items():
        for c in range(3):
            values = maps[0, c].numpy()
            expected = colours((values + 2) / 4, bytes=True)[..., :3]
            assert np.array_equal(_decode(data["frames"][name][c]), expected)
            stats = data["stats"][name][c]
            assert float(stats["raw_min"]) == values.min()
            assert float(stats["raw_max"]) == values.max()
            assert stats["min"] == f"{float(values.min()):.3g}"
            assert stats["zeros"] == ("50.0%" if name == "ReLU" else "0%")
    assert data["weights"][1][0][2] == [
        f"{w:.2f}".replace("-0.00", "0.00") for w in weight[1, 0, 2].tolist()
    ]
    assert data["bias"] == [f"{b:.2f}".replace("-0.00", "0.00") for b in bias.tolist()]


def test_feature_map_scale_defaults_to_the_largest_absolute_value():
    maps = {"only": torch.tensor([[[-3.0, 1.0]]])}
    data = _payload(feature_map_explorer(maps, torch.ones(1, 3, 1, 1), **TEXT))
    assert data["scale"] == ["-3.00", "0.00", "3.00"]
    assert data["inputs"] == ["R", "G", "B"] and data["bias"] is None
    named = feature_map_explorer(
        maps, torch.ones(1, 3, 1, 1), input_names=["a", "b", "c"], **TEXT
    )
    assert _payload(named)["inputs"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "stages, weight, kwargs, error, message",
    [
        (
            [torch.zeros(1, 2, 2)],
            torch.zeros(1, 1, 1, 1),
            {},
            TypeError,
            "stages must map stage names to tensors",
        ),
        ({}, torch.zeros(1, 1, 1, 1), {}, ValueError, "stages is empty"),
        (
            {"a": torch.zeros(2, 2)},
            torch.zeros(1, 1, 1, 1),
            {},
            ValueError,
            "stages['a'] must be 3-D or 4-D",
        ),
        (
            {"a": torch.zeros(2, 1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {},
            ValueError,
            "holds a batch of 2",
        ),
        (
            {"a": torch.zeros(1, 2, 2), "b": torch.zeros(1, 3, 3)},
            torch.zeros(1, 1, 1, 1),
            {},
            ValueError,
            "differ in shape",
        ),
        (
            {"a": torch.full((1, 2, 2), float("nan"))},
            torch.zeros(1, 1, 1, 1),
            {},
            ValueError,
            "stages['a'] holds NaN",
        ),
        (
            {"a": torch.zeros(17, 2, 2)},
            torch.zeros(17, 1, 1, 1),
            {},
            ValueError,
            "too large to embed",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(2, 1, 1, 1),
            {},
            ValueError,
            "weight has 2 filters but the maps have 1 channels",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1),
            {},
            ValueError,
            "weight must be 4-D",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {"bias": torch.zeros(2)},
            ValueError,
            "bias must have 1 values",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {"vlim": (1.0, -1.0)},
            ValueError,
            "low < high",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {"vlim": (0.0, float("nan"))},
            ValueError,
            "finite numbers",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {"vlim": [0, 1]},
            TypeError,
            "vlim must be a (low, high) pair",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {"cmap": "no such map"},
            ValueError,
            "not a matplotlib colour map",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {"cmap": 3},
            TypeError,
            "cmap must be a colour map name",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 2, 1, 1),
            {"input_names": ["x"]},
            ValueError,
            "name the 2 input channels",
        ),
        (
            {"a": torch.zeros(1, 2, 2)},
            torch.zeros(1, 2, 1, 1),
            {"input_names": "xy"},
            TypeError,
            "input_names must be a sequence",
        ),
        (
            {"": torch.zeros(1, 2, 2)},
            torch.zeros(1, 1, 1, 1),
            {},
            ValueError,
            "a stage name must not be empty",
        ),
    ],
)
def test_feature_map_explorer_rejects_bad_input(stages, weight, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        feature_map_explorer(stages, weight, **(TEXT | kwargs))


def test_fragment_size_grows_with_the_maps_only():
    small = feature_map_explorer(
        {"a": torch.rand(1, 8, 8)}, torch.ones(1, 1, 1, 1), **TEXT
    )
    large = feature_map_explorer(
        {"a": torch.rand(1, 64, 64)}, torch.ones(1, 1, 1, 1), **TEXT
    )
    # the script and style are the same few kilobytes; a 64 x 64 map of noise
    # costs at most 3 bytes a pixel
    assert len(small.html) < 30_000
    assert len(large.html) - len(small.html) < 3 * 64 * 64 * 4 / 3
    assert html.unescape(small.html).count("<figcaption>") == 1


@pytest.mark.parametrize(
    "count, total, shown",
    [
        (0, 10, "0%"),
        (10, 10, "100%"),
        (1, 3, "33.3%"),
        (1, 10_000, "< 0.1%"),
        (9_999, 10_000, "> 99.9%"),
        (999, 1_000, "99.9%"),
    ],
)
def test_share_of_zeros_reads_0_or_100_percent_only_when_exact(count, total, shown):
    assert _share(count, total) == shown
