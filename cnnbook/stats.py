"""Describing a batch of activations: how much is zero, and which channels are dead."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ActivationStats:
    """Summary of a ``(N, C, H, W)`` activation tensor, per channel and in total."""

    zero_fraction: torch.Tensor
    """``(C,)``: each channel's share of exact zeros, over all images and positions."""
    total_zero_fraction: float
    """The share of exact zeros in the whole tensor."""
    negative_fraction: torch.Tensor
    """``(C,)``: the share of values below zero in each channel."""
    dead_channels: tuple[int, ...]
    """Channels that are zero at every position of every image."""
    mean: torch.Tensor
    """``(C,)``: the mean of each channel."""


def activation_stats(activations: torch.Tensor) -> ActivationStats:
    """Count zeros, negatives and dead channels in ``activations``.

    ``activations`` has shape ``(C, H, W)`` (one image) or ``(N, C, H, W)`` (a
    batch), on any device. The per-channel results are float tensors on the CPU.
    """
    if not isinstance(activations, torch.Tensor):
        raise TypeError(
            f"activation_stats expects a torch.Tensor, got {type(activations).__name__}"
        )
    if activations.dim() == 3:
        activations = activations.unsqueeze(0)
    if activations.dim() != 4:
        raise ValueError(
            f"expected shape (C, H, W) or (N, C, H, W), got {tuple(activations.shape)}"
        )
    if activations.numel() == 0:
        raise ValueError(
            f"expected a non-empty tensor, got shape {tuple(activations.shape)}"
        )
    if activations.is_complex():
        raise TypeError("expected a real-valued tensor, got a complex one")
    values = activations.detach().float().cpu()
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
