"""What drives a decision: attribution maps written by hand.

:func:`saliency` (the gradient of a class score with respect to the input),
:func:`grad_cam` (channel-weighted activations of one layer), :func:`occlusion` (the
drop in a class probability when a patch of the input is covered),
:func:`effective_receptive_field` (the gradient footprint of one unit),
:func:`mass_extent` (how wide a footprint is) and :func:`deletion_curve` (the class
probability as the highest-ranked pixels are removed).

Every function wants the model in evaluation mode: in training mode batch
normalisation would normalise with the statistics of the batch at hand, so one
image's map would depend on the others in the batch, and each forward pass would
move the running averages the network was trained with. The functions leave the model
as they found it: no hooks left behind (even when they fail), the same mode, the same
``requires_grad`` flags, and no ``.grad`` accumulated in its parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnbook import _checks

__all__ = [
    "deletion_curve",
    "effective_receptive_field",
    "grad_cam",
    "mass_extent",
    "occlusion",
    "saliency",
]


class _Stop(Exception):
    """Raised by a forward hook to end a forward pass once a layer has run."""


def _check_model(model: object) -> nn.Module:
    """``model`` if it is a module in evaluation mode; raise otherwise."""
    checked = _checks.module("model", model)
    if checked.training:
        raise ValueError(
            "model is in training mode; call model.eval() first (in training mode "
            "batch norm uses the batch's statistics and updates its running averages)"
        )
    return checked


def _check_images(x: object) -> torch.Tensor:
    """``x`` if it is a floating-point batch of images ``(N, C, H, W)``."""
    images = _checks.tensor("x", x)
    if images.dim() != 4 or images.shape[0] == 0:
        raise ValueError(
            f"x must be a non-empty batch of images (N, C, H, W), got "
            f"{_checks.describe(images)}"
        )
    if not images.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {images.dtype}")
    return images


def _check_single(x: object) -> torch.Tensor:
    """``x`` if it is a batch of exactly one image ``(1, C, H, W)``."""
    image = _check_images(x)
    if image.shape[0] != 1:
        raise ValueError(
            f"x must hold one image, shape (1, C, H, W), got {_checks.describe(image)}"
        )
    return image


def _check_targets(target: object, n: int) -> list[int]:
    """``target`` as one class index per image: an int, or a sequence of ``n`` ints."""
    if _checks.is_int(target):
        assert isinstance(target, int)
        targets = [target] * n
    elif isinstance(target, Sequence) and not isinstance(target, str):
        if not all(_checks.is_int(t) for t in target):
            raise TypeError(
                f"target must be an int or a sequence of ints, got {target!r}"
            )
        targets = [int(t) for t in target]
        if len(targets) != n:
            raise ValueError(
                f"target must hold one class index per image ({n}), got {len(targets)}"
            )
    else:
        raise TypeError(f"target must be an int or a sequence of ints, got {target!r}")
    if any(t < 0 for t in targets):
        raise ValueError(
            f"target must hold class indices of at least 0, got {target!r}"
        )
    return targets


def _scores(output: object, targets: list[int]) -> torch.Tensor:
    """The ``targets`` column of each row of the model's ``(N, classes)`` output."""
    if not isinstance(output, torch.Tensor) or output.dim() != 2:
        raise ValueError(
            f"the model must return a (N, classes) tensor of scores, got "
            f"{_checks.describe(output)}"
        )
    if max(targets) >= output.shape[1]:
        raise ValueError(
            f"target {max(targets)} is out of range: the model has "
            f"{output.shape[1]} classes"
        )
    index = torch.tensor(targets, device=output.device)
    return output.gather(1, index[:, None])[:, 0]


def _find_layer(model: nn.Module, layer: object) -> nn.Module:
    """The sub-module of ``model`` named ``layer``; raise if there is none."""
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a layer name (str), got {layer!r}")
    modules = dict(model.named_modules())
    if layer == "" or layer not in modules:
        raise ValueError(f"the model has no layer named {layer!r}")
    found: nn.Module = modules[layer]
    return found


@contextmanager
def _captured(module: nn.Module, stop: bool = False) -> Iterator[list[torch.Tensor]]:
    """Keep the output of ``module`` in the yielded list while the block runs.

    With ``stop=True`` the forward pass ends right after ``module`` (the caller catches
    :class:`_Stop`). The hook is removed when the block ends, however it ends.
    """
    outputs: list[torch.Tensor] = []

    def hook(_: nn.Module, __: tuple[object, ...], output: object) -> None:
        if not isinstance(output, torch.Tensor):
            raise ValueError(
                f"the layer must output a tensor, got {type(output).__name__}"
            )
        outputs.append(output)
        if stop:
            raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        yield outputs
    finally:
        handle.remove()


def _input_leaf(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` that requires grad, so that gradients reach it (and the
    layers between) whatever the model's own ``requires_grad`` flags."""
    return x.detach().clone().requires_grad_(True)


def saliency(
    model: nn.Module,
    x: torch.Tensor,
    target: int | Sequence[int],
    reduction: str = "max",
) -> torch.Tensor:
    """The saliency map: how strongly each input pixel moves the class score.

    The gradient of each image's class score (the model's output, usually a logit)
    with respect to the image, as in Simonyan et al. (2014). Its absolute value is
    reduced over the colour channels by the maximum, as they did.

    Args:
        model: the network, in evaluation mode; it maps ``x`` to ``(N, classes)``.
        x: a batch of images, ``(N, C, H, W)``.
        target: the class index to explain: one int for every image, or one per image.
        reduction: ``"max"`` for the largest ``|gradient|`` over the channels,
            ``(N, H, W)``; ``"none"`` for ``|gradient|`` itself, ``(N, C, H, W)``.

    Returns:
        The map, detached, on ``x``'s device.

    Raises:
        TypeError: if ``model`` is not a module, ``x`` not a floating-point tensor,
            ``target`` not an int or a sequence of ints, or ``reduction`` not a str.
        ValueError: if the model is in training mode, ``x`` is not a batch of
            images, a target is out of range or ``reduction`` is not one of the two.
    """
    _check_model(model)
    images = _check_images(x)
    targets = _check_targets(target, images.shape[0])
    _checks.choice("reduction", reduction, ("max", "none"))
    leaf = _input_leaf(images)
    with torch.enable_grad():
        score = _scores(model(leaf), targets).sum()
        (gradient,) = torch.autograd.grad(score, leaf)
    magnitude = gradient.abs()
    return magnitude.amax(dim=1) if reduction == "max" else magnitude


def grad_cam(
    model: nn.Module,
    x: torch.Tensor,
    target: int | Sequence[int],
    layer: str,
    upsample: bool = False,
) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017): where in a layer the class evidence lies.

    The layer's output channels are weighted by the gradient of the class score with
    respect to them, averaged over the positions; the weighted sum over the channels
    goes through a ReLU, which keeps the evidence for the class.

    Args:
        model: the network, in evaluation mode; it maps ``x`` to ``(N, classes)``.
        x: a batch of images, ``(N, C, H, W)``.
        target: the class index to explain: one int for every image, or one per image.
        layer: the name of a layer in ``model.named_modules()`` whose output is a
            ``(N, channels, h, w)`` tensor, for example ``"features.18"``.
        upsample: if ``True``, bilinearly resize the maps to the input's ``H x W``.

    Returns:
        The maps, ``(N, h, w)`` at the layer's resolution (``(N, H, W)`` if
        ``upsample``), detached.

    Raises:
        TypeError: if an argument has the wrong type (see :func:`saliency`), ``layer``
            is not a str or ``upsample`` is not a bool.
        ValueError: as :func:`saliency`, or if the model has no such layer or its
            output is not ``(N, channels, h, w)``.
    """
    _check_model(model)
    images = _check_images(x)
    targets = _check_targets(target, images.shape[0])
    module = _find_layer(model, layer)
    _checks.flag("upsample", upsample)
    with torch.enable_grad(), _captured(module) as outputs:
        score = _scores(model(_input_leaf(images)), targets).sum()
    if len(outputs) != 1 or outputs[0].dim() != 4:
        raise ValueError(
            f"layer {layer!r} must run once and output (N, channels, h, w), got "
            f"{[tuple(o.shape) for o in outputs]}"
        )
    activation = outputs[0]
    (gradient,) = torch.autograd.grad(score, activation)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activation).sum(dim=1)).detach()
    if upsample:
        cam = F.interpolate(cam[:, None], size=images.shape[2:], mode="bilinear")[:, 0]
    return cam


def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    patch: int,
    stride: int,
    fill: float = 0.0,
    batch_size: int = 32,
) -> torch.Tensor:
    """Occlusion sensitivity (Zeiler and Fergus, 2014): cover a square patch of the
    image, and measure how far the class probability falls.

    The patch slides over the image in steps of ``stride``, from the top-left corner,
    as long as it fits. The covered images are evaluated ``batch_size`` at a time.

    Args:
        model: the network, in evaluation mode; it maps images to ``(N, classes)``
            scores, which are turned into probabilities with a softmax.
        x: one image, ``(1, C, H, W)``.
        target: the class index whose probability is watched.
        patch: the side of the square patch, in pixels.
        stride: the step between patch positions, in pixels.
        fill: the value written into the patch, on every channel (for inputs
            normalised with the ImageNet statistics, 0 is the mean colour, a grey).
        batch_size: how many covered images to evaluate at once.

    Returns:
        ``p(original) - p(covered)`` at each patch position, ``(rows, columns)``:
        positive where covering the patch lowers the probability.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if the model is in training mode, ``x`` is not one image, the
            target is out of range, ``patch`` is larger than the image or a number
            is out of range.
    """
    _check_model(model)
    image = _check_single(x)
    if not _checks.is_int(target):
        raise TypeError(f"target must be an int, got {target!r}")
    (cls,) = _check_targets(target, 1)
    patch = _checks.positive_int("patch", patch)
    stride = _checks.positive_int("stride", stride)
    if not _checks.is_real(fill):
        raise TypeError(f"fill must be a number, got {fill!r}")
    batch_size = _checks.positive_int("batch_size", batch_size)
    height, width = image.shape[2:]
    if patch > min(height, width):
        raise ValueError(f"patch ({patch}) must fit in the image ({height} x {width})")
    rows = range(0, height - patch + 1, stride)
    columns = range(0, width - patch + 1, stride)
    corners = [(r, c) for r in rows for c in columns]
    with torch.no_grad():
        base = _scores(model(image).softmax(dim=1), [cls])[0]
        drops = []
        for start in range(0, len(corners), batch_size):
            chunk = corners[start : start + batch_size]
            covered = image.repeat(len(chunk), 1, 1, 1)
            for i, (r, c) in enumerate(chunk):
                covered[i, :, r : r + patch, c : c + patch] = fill
            p = _scores(model(covered).softmax(dim=1), [cls] * len(chunk))
            drops.append(base - p)
    return torch.cat(drops).reshape(len(rows), len(columns))


def effective_receptive_field(
    model: nn.Module, x: torch.Tensor, layer: str
) -> torch.Tensor:
    """The gradient footprint of the central unit of a layer (Luo et al., 2016).

    For each image, the gradient of the central position of the layer's output
    (summed over its channels) with respect to the input; the absolute values are
    summed over the input channels and averaged over the images. The forward pass
    stops after ``layer``.

    Args:
        model: the network, in evaluation mode.
        x: a batch of images, ``(N, C, H, W)``.
        layer: the name of a layer in ``model.named_modules()`` whose output is a
            ``(N, channels, h, w)`` tensor.

    Returns:
        The footprint, ``(H, W)``, non-negative, detached. The unit is the one at
        ``(h // 2, w // 2)`` of the layer's ``h x w`` output.

    Raises:
        TypeError: if ``model`` is not a module, ``x`` not a floating-point tensor or
            ``layer`` not a str.
        ValueError: if the model is in training mode, ``x`` is not a batch of
            images, or the model has no such layer or it does not output
            ``(N, channels, h, w)``.
    """
    _check_model(model)
    images = _check_images(x)
    module = _find_layer(model, layer)
    leaf = _input_leaf(images)
    with torch.enable_grad(), _captured(module, stop=True) as outputs:
        try:
            model(leaf)
        except _Stop:
            pass
    if len(outputs) != 1 or outputs[0].dim() != 4:
        raise ValueError(
            f"layer {layer!r} must run and output (N, channels, h, w), got "
            f"{[tuple(o.shape) for o in outputs]}"
        )
    out = outputs[0]
    h, w = out.shape[2:]
    (gradient,) = torch.autograd.grad(out[:, :, h // 2, w // 2].sum(), leaf)
    return gradient.abs().sum(dim=1).mean(dim=0)


def mass_extent(
    footprint: torch.Tensor,
    fraction: float = 0.9,
    centre: tuple[int, int] | None = None,
) -> int:
    """The side of the smallest square, centred on ``centre``, that holds
    ``fraction`` of a non-negative map's total.

    Args:
        footprint: a non-negative ``(H, W)`` map with a positive sum, for example
            from :func:`effective_receptive_field`.
        fraction: the share of the total the square must hold, above 0 and at most 1.
        centre: the ``(row, column)`` of the square's centre; by default the map's
            centre of mass, rounded.

    Returns:
        The side of the square, an odd number of pixels (the square may extend
        past the map's edges, where there is nothing to add).

    Raises:
        TypeError: if ``footprint`` is not a tensor, ``fraction`` not a number or
            ``centre`` not a pair of ints.
        ValueError: if ``footprint`` is not a non-negative 2-D map with a positive
            sum, ``fraction`` is out of range or ``centre`` lies outside the map.
    """
    _checks.tensor("footprint", footprint)
    if footprint.dim() != 2 or not footprint.is_floating_point():
        raise ValueError(
            f"footprint must be a 2-D floating-point map, got "
            f"{_checks.describe(footprint)} of {footprint.dtype}"
        )
    if not bool(torch.isfinite(footprint).all()) or bool((footprint < 0).any()):
        raise ValueError("footprint must be finite and non-negative")
    total = footprint.double().sum()
    if total <= 0:
        raise ValueError("footprint must have a positive sum")
    fraction = _checks.finite_positive("fraction", fraction)
    if fraction > 1:
        raise ValueError(f"fraction must be at most 1, got {fraction!r}")
    height, width = footprint.shape
    if centre is None:
        rows = torch.arange(height, dtype=torch.float64)
        cols = torch.arange(width, dtype=torch.float64)
        mass = footprint.double()
        row = round(float((mass.sum(dim=1) * rows).sum() / total))
        col = round(float((mass.sum(dim=0) * cols).sum() / total))
    else:
        row, col = _checks.int_pair("centre", centre)
        if not (0 <= row < height and 0 <= col < width):
            raise ValueError(
                f"centre {centre!r} lies outside the {height} x {width} map"
            )
    # mass within the square of half-width r, for every r at once
    r_row = (torch.arange(height) - row).abs()[:, None]
    r_col = (torch.arange(width) - col).abs()[None, :]
    ring = torch.maximum(r_row, r_col).flatten()
    per_ring = torch.zeros(int(ring.max()) + 1, dtype=torch.float64)
    per_ring.index_add_(0, ring, footprint.double().flatten().cpu())
    inside = per_ring.cumsum(0) / total.cpu()
    radius = int(torch.searchsorted(inside, inside.new_tensor([fraction - 1e-12]))[0])
    return 2 * min(radius, len(inside) - 1) + 1


def deletion_curve(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    ranking: torch.Tensor,
    fractions: Sequence[float],
    fill: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """The class probability after removing the highest-ranked pixels.

    For each fraction ``f``, the ``round(f * H * W)`` pixels with the highest
    ``ranking`` are set to ``fill`` on every channel (ties broken by position), and
    the class probability of the result is measured; all in one batch.

    Args:
        model: the network, in evaluation mode; its outputs are turned into
            probabilities with a softmax.
        x: one image, ``(1, C, H, W)``.
        target: the class index whose probability is measured.
        ranking: an ``(H, W)`` map, higher meaning removed first: an attribution map,
            or random numbers for the baseline.
        fractions: the shares of the pixels to remove, each from 0 to 1.
        fill: what removed pixels become: a number for every channel (0 is the
            mean colour for inputs normalised with the ImageNet statistics), or an
            image of ``x``'s shape to take them from, for example a blurred copy.

    Returns:
        One probability per fraction, ``(len(fractions),)``.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if the model is in training mode, ``x`` is not one image,
            ``ranking`` does not match its height and width, ``fractions`` is
            empty or holds a value out of range, or the target is out of range.
    """
    _check_model(model)
    image = _check_single(x)
    if not _checks.is_int(target):
        raise TypeError(f"target must be an int, got {target!r}")
    (cls,) = _check_targets(target, 1)
    _checks.tensor("ranking", ranking)
    height, width = image.shape[2:]
    if tuple(ranking.shape) != (height, width):
        raise ValueError(
            f"ranking must be ({height}, {width}) like the image, got "
            f"{_checks.describe(ranking)}"
        )
    given: object = fractions  # checked as an object: callers may pass anything
    if isinstance(given, str) or not isinstance(given, Sequence):
        raise TypeError(f"fractions must be a sequence of numbers, got {fractions!r}")
    if not all(_checks.is_real(f) for f in fractions):
        raise TypeError(f"fractions must be a sequence of numbers, got {fractions!r}")
    if not fractions or not all(0 <= f <= 1 for f in fractions):
        raise ValueError(f"fractions must be numbers from 0 to 1, got {fractions!r}")
    if isinstance(fill, torch.Tensor):
        if fill.shape != image.shape:
            raise ValueError(
                f"fill must be a number or an image of x's shape "
                f"{tuple(image.shape)}, got {_checks.describe(fill)}"
            )
        source = fill.to(image).reshape(image.shape[1], -1)
    elif _checks.is_real(fill):
        source = torch.full_like(image, float(fill)).reshape(image.shape[1], -1)
    else:
        raise TypeError(f"fill must be a number or a tensor, got {fill!r}")
    order = ranking.flatten().argsort(descending=True, stable=True).to(image.device)
    batch = image.repeat(len(fractions), 1, 1, 1)
    flat = batch.view(len(fractions), image.shape[1], -1)
    for i, f in enumerate(fractions):
        chosen = order[: round(f * height * width)]
        flat[i][:, chosen] = source[:, chosen]
    with torch.no_grad():
        return _scores(model(batch).softmax(dim=1), [cls] * len(fractions)).detach()
