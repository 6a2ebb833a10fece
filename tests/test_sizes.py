import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbook import conv_output_size, pool_output_size, receptive_fields

# --- conv_output_size ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((256, 3), 254),
        ((256, 3, 1, 1), 256),
        ((256, 3, 2, 1), 128),
        ((7, 3, 2, 0, 2), 2),
        ((5, 5), 1),
        ((6, 2, 2), 3),
        (((256, 128), 3, 1, 1), (256, 128)),
        ((32, (3, 5), (1, 2), (1, 2)), (32, 16)),
    ],
)
def test_conv_output_size_examples(args, expected):
    assert conv_output_size(*args) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"size": 4, "kernel_size": 7},
            r"^kernel_size=7 with dilation=1 spans 7 pixels, more than the padded "
            r"input \(size 4 \+ 2 \* padding 0 = 4\)$",
        ),
        (
            {"size": 5, "kernel_size": 3, "dilation": 3},
            "kernel_size=3 with dilation=3 spans 7 pixels",
        ),
        (
            {"size": 8, "kernel_size": 3, "stride": 0},
            "stride must be a positive int, got 0",
        ),
        (
            {"size": 8, "kernel_size": 3, "padding": -1},
            "padding must be a non-negative int, got -1",
        ),
        ({"size": 8, "kernel_size": 0}, "kernel_size must be a positive int, got 0"),
        ({"size": 0, "kernel_size": 1}, "^size must be a positive int, got 0$"),
        (
            {"size": 8, "kernel_size": 3, "dilation": 0},
            "dilation must be a positive int, got 0",
        ),
        (
            {"size": (8, 2), "kernel_size": 3},
            r"^in the width: kernel_size=3 with dilation=1 spans 3 pixels, more than "
            r"the padded input \(size 2 \+ 2 \* padding 0 = 2\)$",
        ),
        (
            {"size": (2, 8), "kernel_size": 3, "padding": (0, 1)},
            r"^in the height: kernel_size=3 with dilation=1 spans 3 pixels",
        ),
        (
            {"size": 8, "kernel_size": (3, 3), "stride": (1, 0)},
            r"^stride \(in the width\) must be a positive int, got 0$",
        ),
        ({"size": 8, "kernel_size": (3, 3, 3)}, "kernel_size must be an int or an"),
    ],
)
def test_conv_output_size_names_the_bad_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 8.0, "kernel_size": 3}, "size must be an int or an"),
        (
            {"size": 8, "kernel_size": 3, "padding": "same"},
            "padding must be an int or an",
        ),
        ({"size": 8, "kernel_size": True}, "kernel_size must be an int or an"),
        ({"size": 8, "kernel_size": (3, False)}, "kernel_size must be an int or an"),
        ({"size": 8, "kernel_size": [3, 3]}, "kernel_size must be an int or an"),
    ],
)
def test_conv_output_size_rejects_wrong_types(kwargs, message):
    with pytest.raises(TypeError, match=message):
        conv_output_size(**kwargs)


# --- pool_output_size ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"size": 256, "kernel_size": 2}, 128),
        ({"size": 7, "kernel_size": 2}, 3),
        ({"size": 7, "kernel_size": 2, "ceil_mode": True}, 4),
        (
            {"size": 5, "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
            3,
        ),
        (
            {"size": 6, "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
            4,
        ),
        ({"size": 10, "kernel_size": 3, "stride": 1, "dilation": 2}, 6),
        ({"size": (9, 6), "kernel_size": 3, "stride": 2}, (4, 2)),
    ],
)
def test_pool_output_size_examples(kwargs, expected):
    assert pool_output_size(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"size": 8, "kernel_size": 3, "padding": 2},
            "padding=2 is more than half of kernel_size=3",
        ),
        (
            {"size": 2, "kernel_size": 3},
            "^kernel_size=3 with dilation=1 spans 3 pixels",
        ),
        (
            {"size": (8, 1), "kernel_size": (2, 5), "padding": (0, 1)},
            r"^in the width: kernel_size=5 with dilation=1 spans 5 pixels, more than "
            r"the padded input \(size 1 \+ 2 \* padding 1 = 3\)$",
        ),
        ({"size": 8, "kernel_size": 2, "stride": 0}, "stride must be a positive int"),
    ],
)
def test_pool_output_size_names_the_bad_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool_output_size(**kwargs)


def test_pool_output_size_rejects_a_non_bool_ceil_mode():
    with pytest.raises(TypeError, match="ceil_mode must be True or False"):
        pool_output_size(8, 2, ceil_mode=1)


# --- property: the formulas agree with real layers ----------------------------------


@st.composite
def conv_configs(draw):
    kernel = draw(st.integers(1, 5))
    dilation = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 3))
    span = dilation * (kernel - 1) + 1
    size = draw(st.integers(max(1, span - 2 * padding), 24))
    stride = draw(st.integers(1, 4))
    return size, kernel, stride, padding, dilation


@settings(max_examples=250, deadline=None)
@given(conv_configs(), conv_configs())
def test_conv_output_size_matches_nn_conv2d(h_config, w_config):
    (h, kh, sh, ph, dh), (w, kw, sw, pw, dw) = h_config, w_config
    layer = nn.Conv2d(
        1, 1, (kh, kw), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), bias=False
    )
    with torch.no_grad():
        out = layer(torch.zeros(1, 1, h, w))
    assert conv_output_size((h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw)) == tuple(
        out.shape[2:]
    )
    assert conv_output_size(h, kh, sh, ph, dh) == out.shape[2]


@st.composite
def pool_configs(draw, max_dilation):
    kernel = draw(st.integers(1, 5))
    dilation = draw(st.integers(1, max_dilation))
    padding = draw(st.integers(0, kernel // 2))
    span = dilation * (kernel - 1) + 1
    size = draw(st.integers(max(1, span - 2 * padding), 24))
    stride = draw(st.integers(1, 4))
    return size, kernel, stride, padding, dilation


@settings(max_examples=250, deadline=None)
@given(pool_configs(max_dilation=3), st.booleans())
def test_pool_output_size_matches_max_pool2d(config, ceil_mode):
    size, kernel, stride, padding, dilation = config
    layer = nn.MaxPool2d(
        kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode
    )
    out = layer(torch.zeros(1, 1, size, size))
    assert (
        pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
        == out.shape[-1]
    )


@settings(max_examples=250, deadline=None)
@given(pool_configs(max_dilation=1), st.booleans())
def test_pool_output_size_matches_avg_pool2d(config, ceil_mode):
    size, kernel, stride, padding, _ = config
    out = nn.AvgPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)(
        torch.zeros(1, 1, size, size)
    )
    assert (
        pool_output_size(size, kernel, stride, padding, ceil_mode=ceil_mode)
        == out.shape[-1]
    )


def test_pool_stride_defaults_to_the_kernel_size():
    assert pool_output_size(12, 3) == pool_output_size(12, 3, stride=3) == 4


# --- receptive_fields ---------------------------------------------------------------


def test_receptive_fields_of_a_small_stack():
    # conv3, conv3, pool2, conv3: 3, 5, 6, 10
    assert receptive_fields([(3, 1), (3, 1), (2, 2), (3, 1)]) == [
        (3, 1),
        (5, 1),
        (6, 2),
        (10, 2),
    ]


def test_dilation_widens_the_field():
    assert receptive_fields([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == [
        (3, 1),
        (7, 1),
        (15, 1),
    ]


def test_receptive_field_matches_the_gradient_footprint():
    # average pooling spreads the gradient over its whole window
    # (max pooling would pick one pixel)
    layers = [
        nn.Conv2d(1, 1, 3),
        nn.Conv2d(1, 1, 3, stride=2),
        nn.AvgPool2d(2),
        nn.Conv2d(1, 1, 3, dilation=2),
    ]
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            nn.init.ones_(layer.weight)
    x = torch.ones(1, 1, 64, 64, requires_grad=True)
    out = nn.Sequential(*layers)(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    footprint = int(rows.max() - rows.min() + 1)
    expected = receptive_fields([(3, 1), (3, 2), (2, 2), (3, 1, 2)])[-1][0]
    assert footprint == expected


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([(3,)], r"layer 0 must be \(kernel_size, stride\[, dilation\]\)"),
        ([(3, 1, 1, 1)], "layer 0 must be"),
        ([(3, 0)], r"^stride \(layer 0\) must be a positive int, got 0$"),
        ([(3, 1), (0, 1)], r"^kernel_size \(layer 1\) must be a positive int, got 0$"),
        ([(3, 1, 0)], r"^dilation \(layer 0\) must be a positive int, got 0$"),
    ],
)
def test_receptive_fields_rejects_bad_layers(layers, message):
    with pytest.raises(ValueError, match=message):
        receptive_fields(layers)


@pytest.mark.parametrize(
    "layers", [[(3, 1), [3, 1]], [(3.0, 1)], [("3", 1)], [(3, True)], [3]]
)
def test_receptive_fields_rejects_layers_of_the_wrong_type(layers):
    with pytest.raises(
        TypeError, match=r"must be \(kernel_size, stride\[, dilation\]\)"
    ):
        receptive_fields(layers)
