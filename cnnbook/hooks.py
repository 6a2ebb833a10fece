"""Looking inside a model with forward hooks.

Intermediate outputs (:func:`capture_activations`) and a per-layer table
(:func:`layer_summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from cnnbook import _checks

_Hook = Callable[[nn.Module, tuple[object, ...], torch.Tensor], None]


def capture_activations(
    model: nn.Module, x: torch.Tensor, layers: Sequence[str]
) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` once and return the outputs of the named layers, detached.

    The forward hooks are removed afterwards, even when the forward pass fails; the
    model runs under ``torch.no_grad()``.

    Args:
        model: the network.
        x: its input, for example a batch of images.
        layers: names as in ``model.named_modules()``, for example ``"features.4"``.

    Returns:
        ``{name: output}`` for each name in ``layers``, in that order.

    Raises:
        TypeError: if ``model`` is not a module, ``x`` not a tensor, or ``layers``
            not a sequence of strings.
        ValueError: if the model has no layer of one of those names.
    """
    _checks.module("model", model)
    _checks.tensor("x", x)
    _checks.strings("layers", layers, "layer names")
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules or name == ""]
    if missing:
        available = ", ".join(name for name in modules if name) or "(none)"
        raise ValueError(
            f"no layer named {', '.join(map(repr, missing))}; "
            f"the model has: {available}"
        )
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str) -> _Hook:
        def hook(
            module: nn.Module, args: tuple[object, ...], output: torch.Tensor
        ) -> None:
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
    """One row of :func:`layer_summary`.

    Attributes:
        name: the layer's name in ``model.named_modules()``.
        kind: its class name, for example ``"Conv2d"``.
        output_shape: the shape of its output.
        parameters: its number of parameters.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int


def layer_summary(model: nn.Module, x: torch.Tensor) -> list[LayerRow]:
    """Run ``x`` through ``model`` and describe every leaf layer.

    Args:
        model: the network.
        x: its input, for example a batch of images.

    Returns:
        A :class:`LayerRow` per leaf layer (a layer with no sublayers), in the order
        the model defines them: its name, type, output shape and parameter count.

    Raises:
        TypeError: if ``model`` is not a module or ``x`` not a tensor.
    """
    _checks.module("model", model)
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
