"""Describing a batch of activations: how much is zero, and which channels are dead."""

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
