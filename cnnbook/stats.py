"""Describing activations (how much is zero, which channels are dead), and comparing
maps by the order of their values (:func:`rank_correlation`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnbook import _checks


@dataclass(frozen=True)
class ActivationStats:
    """Summary of a ``(N, C, H, W)`` activation tensor, per channel and in total.

    Attributes:
        zero_fraction: ``(C,)``: each channel's share of exact zeros, over all images
            and positions.
        total_zero_fraction: the share of exact zeros in the whole tensor.
        negative_fraction: ``(C,)``: the share of values below zero in each channel.
        dead_channels: the channels that are zero at every position of every image.
        mean: ``(C,)``: the mean of each channel.
    """

    zero_fraction: torch.Tensor
    total_zero_fraction: float
    negative_fraction: torch.Tensor
    dead_channels: tuple[int, ...]
    mean: torch.Tensor


def activation_stats(activations: torch.Tensor) -> ActivationStats:
    """Count zeros, negatives and dead channels in ``activations``.

    Args:
        activations: real values of shape ``(C, H, W)`` (one image) or
            ``(N, C, H, W)`` (a batch), on any device.

    Returns:
        The counts; the per-channel ones are float tensors on the CPU.

    Raises:
        TypeError: if ``activations`` is not a real-valued tensor.
        ValueError: if it has another shape, no elements, or a NaN.
    """
    _checks.tensor("activations", activations)
    if activations.dim() not in (3, 4) or activations.numel() == 0:
        raise ValueError(
            "activations must be non-empty, of shape (C, H, W) or (N, C, H, W), "
            f"got {_checks.describe(activations)}"
        )
    if activations.is_complex():
        raise TypeError(f"activations must be real-valued, got {activations.dtype}")
    values = activations.detach().float().cpu()
    if values.dim() == 3:
        values = values.unsqueeze(0)
    if torch.isnan(values).any():
        raise ValueError("activations contain NaN")
    per_channel = (0, 2, 3)
    zero_fraction = (values == 0).float().mean(dim=per_channel)
    return ActivationStats(
        zero_fraction=zero_fraction,
        total_zero_fraction=(values == 0).float().mean().item(),
        negative_fraction=(values < 0).float().mean(dim=per_channel),
        dead_channels=tuple(
            int(c) for c in torch.nonzero(zero_fraction == 1.0).flatten()
        ),
        mean=values.mean(dim=per_channel),
    )


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation between two maps of the same shape.

    Both are flattened and replaced by their ranks (tied values share the average of
    their ranks); the result is the Pearson correlation of the ranks, from -1 to 1.
    It depends only on the order of the values, not on their scale.

    Args:
        a: a real-valued tensor, for example an attribution map.
        b: a real-valued tensor with the same shape as ``a``.

    Returns:
        The correlation, or ``nan`` if either tensor is constant (it then has no
        order to compare).

    Raises:
        TypeError: if ``a`` or ``b`` is not a real-valued tensor.
        ValueError: if their shapes differ, they hold fewer than two values, or a
            value is NaN.
    """
    for name, value in (("a", a), ("b", b)):
        _checks.tensor(name, value)
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be real-valued, got {value.dtype}")
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    if a.numel() < 2:
        raise ValueError(f"a and b must hold at least two values, got {a.numel()}")
    ra, rb = _ranks(a), _ranks(b)
    if torch.isnan(ra).any() or torch.isnan(rb).any():
        raise ValueError("a and b must not contain NaN")
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = (ra.square().sum() * rb.square().sum()).sqrt()
    if denominator == 0:
        return float("nan")
    return float((ra * rb).sum() / denominator)


def _ranks(values: torch.Tensor) -> torch.Tensor:
    """The ranks (1 = smallest) of the flattened ``values``, ties averaged; NaN
    everywhere if a value is NaN."""
    flat = values.detach().flatten().double().cpu()
    if torch.isnan(flat).any():
        return torch.full_like(flat, float("nan"))
    _, inverse, counts = torch.unique(flat, return_inverse=True, return_counts=True)
    last = counts.cumsum(0).double()
    average = last - (counts.double() - 1) / 2
    ranks: torch.Tensor = average[inverse]
    return ranks
