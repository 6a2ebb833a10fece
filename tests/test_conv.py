import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbook import conv2d_reference


def test_matches_a_value_computed_by_hand():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    weight = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])  # top-left minus bottom-right
    out = conv2d_reference(x, weight, bias=torch.tensor([0.5]))
    assert out.shape == (1, 1, 3, 3)
    assert torch.all(out == 0 - 5 + 0.5)  # every x[i, j] - x[i + 1, j + 1] is -5


def test_does_not_flip_the_kernel():
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 1] = 1.0  # a single bright pixel
    weight = torch.arange(9.0).reshape(1, 1, 3, 3)
    out = conv2d_reference(x, weight, padding=1)
    # cross-correlation writes the kernel back rotated by 180 degrees
    assert torch.equal(out[0, 0], weight[0, 0].flip(0, 1))


@st.composite
def conv_problems(draw):
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    seed = draw(st.integers(0, 2**16))
    use_bias = draw(st.booleans())
    return (n, c, h, w), (o, c, kh, kw), use_bias, (sh, sw), (ph, pw), (dh, dw), seed


@settings(max_examples=200, deadline=None)
@given(conv_problems())
def test_matches_torch_conv2d(problem):
    x_shape, w_shape, use_bias, stride, padding, dilation, seed = problem
    gen = torch.Generator().manual_seed(seed)
    x, weight = torch.randn(x_shape, generator=gen), torch.randn(w_shape, generator=gen)
    bias = torch.randn(w_shape[0], generator=gen) if use_bias else None
    expected = F.conv2d(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation
    )
    actual = conv2d_reference(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation
    )
    assert actual.shape == expected.shape
    assert torch.allclose(actual, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("x", "weight", "bias", "error", "message"),
    [
        (
            [[1.0]],
            torch.zeros(1, 1, 1, 1),
            None,
            TypeError,
            "x must be a torch.Tensor, got list",
        ),
        (
            torch.zeros(1, 1, 3, 3, dtype=torch.int64),
            torch.zeros(1, 1, 1, 1),
            None,
            TypeError,
            "x must be a floating-point",
        ),
        (
            torch.zeros(1, 1, 3, 3),
            torch.zeros(1, 1, 1, 1, dtype=torch.int64),
            None,
            TypeError,
            "weight must be a floating-point",
        ),
        (
            torch.zeros(1, 3, 3),
            torch.zeros(1, 1, 1, 1),
            None,
            ValueError,
            r"x must have shape \(N, C, H, W\)",
        ),
        (
            torch.zeros(1, 1, 3, 3),
            torch.zeros(1, 1, 1),
            None,
            ValueError,
            r"weight must have shape \(O, C, kH, kW\)",
        ),
        (
            torch.zeros(1, 3, 5, 5),
            torch.zeros(8, 1, 3, 3),
            None,
            ValueError,
            "weight expects 1 input channels but x has 3",
        ),
        (
            torch.zeros(1, 1, 5, 5),
            torch.zeros(2, 1, 3, 3),
            torch.zeros(3),
            ValueError,
            r"bias must have shape \(2,\)",
        ),
        (
            torch.zeros(1, 1, 5, 5),
            torch.zeros(2, 1, 3, 3),
            "0",
            TypeError,
            "bias must be a torch.Tensor",
        ),
        (
            torch.zeros(1, 1, 2, 2),
            torch.zeros(1, 1, 3, 3),
            None,
            ValueError,
            "spans 3 pixels, more than the padded input",
        ),
    ],
)
def test_rejects_bad_input(x, weight, bias, error, message):
    with pytest.raises(error, match=message):
        conv2d_reference(x, weight, bias)


def test_rejects_mixed_devices():
    with pytest.raises(ValueError, match="same device"):
        conv2d_reference(
            torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 1, 1, device="meta")
        )


def test_bad_stride_is_named():
    with pytest.raises(
        ValueError, match=r"stride \(in the height\) must be a positive"
    ):
        conv2d_reference(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 1, 1), stride=0)


@pytest.mark.parametrize("name", ["stride", "padding", "dilation"])
def test_an_argument_of_the_wrong_type_is_named(name):
    with pytest.raises(TypeError, match=f"{name} must be an int or an"):
        conv2d_reference(
            torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 1, 1), **{name: 1.5}
        )


def test_padding_pair_pads_each_side_separately():
    x, weight = torch.ones(1, 1, 3, 3), torch.ones(1, 1, 1, 1)
    assert conv2d_reference(x, weight, padding=(1, 2)).shape == (1, 1, 5, 7)
