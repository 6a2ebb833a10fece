"""Looking inside a model with forward hooks.

Intermediate outputs (:func:`capture_activations`) and a per-layer table
(:func:`layer_summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn


def capture_activations(
    model: nn.Module, x: torch.Tensor, layers: Sequence[str]
) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` once and return the outputs of the named submodules, detached.

    ``layers`` are names as in ``model.named_modules()`` (for example
    ``"features.4"``). The forward hooks are removed afterwards, even when the forward
    pass fails; the model runs under ``torch.no_grad()``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(layers, str):
        raise TypeError("layers must be a sequence of layer names, not a single string")
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules or name == ""]
    if missing:
        available = ", ".join(name for name in modules if name) or "(none)"
        raise ValueError(
            f"no layer named {', '.join(map(repr, missing))}; "
            f"the model has: {available}"
        )
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            captured[name] = output.detach()

        return hook

    handles = [modules[name].register_forward_hook(keep(name)) for name in layers]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: captured[name] for name in layers}


@dataclass(frozen=True)
class LayerRow:
    """One row of :func:`layer_summary`."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int


def layer_summary(model: nn.Module, x: torch.Tensor) -> list[LayerRow]:
    """Run ``x`` through ``model`` and describe every leaf layer.

    Returns, for every leaf layer (in the order the model defines them), its name,
    type, output shape and number of parameters.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    leaves = [
        name for name, module in modules.items() if name and not any(module.children())
    ]
    outputs = capture_activations(model, x, leaves)
    return [
        LayerRow(
            name=name,
            kind=type(modules[name]).__name__,
            output_shape=tuple(outputs[name].shape),
            parameters=sum(p.numel() for p in modules[name].parameters()),
        )
        for name in leaves
    ]
