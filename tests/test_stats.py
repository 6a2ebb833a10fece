import math

import pytest
import torch

from cnnbook import ActivationStats, activation_stats, rank_correlation


def test_counts_zeros_negatives_and_dead_channels():
    acts = torch.tensor(
        [
            [[0.0, 1.0], [2.0, 0.0]],  # half zero
            [[0.0, 0.0], [0.0, 0.0]],  # dead
            [[-1.0, 3.0], [-2.0, 4.0]],  # no zeros, half negative
        ]
    )
    stats = activation_stats(acts)
    assert isinstance(stats, ActivationStats)
    assert stats.zero_fraction.tolist() == [0.5, 1.0, 0.0]
    assert stats.negative_fraction.tolist() == [0.0, 0.0, 0.5]
    assert stats.total_zero_fraction == pytest.approx(6 / 12)
    assert stats.dead_channels == (1,)
    assert stats.mean.tolist() == [0.75, 0.0, 1.0]


def test_a_channel_is_dead_only_if_zero_in_every_image():
    batch = torch.zeros(2, 2, 3, 3)
    batch[1, 0, 1, 1] = 0.5  # channel 0 fires once, in the second image
    assert activation_stats(batch).dead_channels == (1,)


def test_relu_output_of_a_seeded_conv():
    torch.manual_seed(0)
    pre = torch.nn.Conv2d(3, 4, 3)(torch.rand(1, 3, 16, 16))
    stats = activation_stats(torch.relu(pre))
    assert torch.equal(stats.zero_fraction, (pre <= 0).float().mean(dim=(0, 2, 3)))
    assert stats.negative_fraction.sum() == 0


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ([1.0], TypeError, "activations must be a torch.Tensor, got list"),
        (
            torch.zeros(4, 4),
            ValueError,
            r"of shape \(C, H, W\) or \(N, C, H, W\), got shape \(4, 4\)",
        ),
        (torch.zeros(1, 1, 1, 2, 2), ValueError, r"got shape \(1, 1, 1, 2, 2\)"),
        (torch.zeros(0, 2, 2), ValueError, r"non-empty.*got shape \(0, 2, 2\)"),
        (torch.zeros(2, 0, 2, 2), ValueError, r"non-empty.*got shape \(2, 0, 2, 2\)"),
        (
            torch.zeros(1, 2, 2, dtype=torch.complex64),
            TypeError,
            "activations must be real-valued, got torch.complex64",
        ),
        (torch.full((1, 2, 2), float("nan")), ValueError, "NaN"),
    ],
)
def test_rejects_bad_input(value, error, message):
    with pytest.raises(error, match=message):
        activation_stats(value)


def test_rank_correlation_by_hand_with_ties():
    a = torch.tensor([1.0, 2, 2, 3, 0])  # ranks 2, 3.5, 3.5, 5, 1
    b = torch.tensor([5.0, 1, 1, 2, 0])  # ranks 5, 2.5, 2.5, 4, 1
    assert rank_correlation(a, b) == pytest.approx(3.5 / 9.5)


def test_rank_correlation_sees_only_the_order():
    torch.manual_seed(0)
    a = torch.rand(6, 7)
    assert rank_correlation(a, a.exp() * 10) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert math.isnan(rank_correlation(torch.zeros(4), torch.arange(4.0)))  # no order


@pytest.mark.parametrize(
    ("a", "b", "error", "message"),
    [
        ([1.0, 2.0], torch.ones(2), TypeError, "a must be a torch.Tensor"),
        (torch.ones(2), torch.ones(2, dtype=torch.bool), TypeError, "b must be real"),
        (torch.ones(2), torch.ones(3), ValueError, "the same shape"),
        (torch.ones(1), torch.ones(1), ValueError, "at least two values"),
        (torch.tensor([1.0, float("nan")]), torch.ones(2), ValueError, "NaN"),
    ],
)
def test_rank_correlation_rejects_bad_input(a, b, error, message):
    with pytest.raises(error, match=message):
        rank_correlation(a, b)
