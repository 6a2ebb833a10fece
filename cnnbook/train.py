"""A plain, seeded training loop that returns its history as data.

:func:`train` is the loop that the training chapter writes out in full: each epoch
trains on every batch, then scores a validation set that the optimiser never sees.
The test set is not its business; score it once, at the end, with :func:`evaluate`
or :func:`predict`.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from cnnbook import _checks
from cnnbook.device import seed_everything


@dataclass
class History:
    """Per-epoch results of :func:`train`, one entry per epoch in each list.

    Attributes:
        train_loss: the mean cross-entropy over the epoch's training batches, taken
            while the weights were still changing.
        train_accuracy: the share of training examples classified correctly, likewise.
        val_loss: the mean cross-entropy on the validation set at the epoch's end.
        val_accuracy: the share of validation examples classified correctly then.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def best_epoch(self) -> int:
        """The epoch (counted from 1) with the lowest validation loss.

        The first such epoch wins a tie; a NaN loss never counts as the lowest.

        Raises:
            ValueError: if the history is empty or every validation loss is NaN.
        """
        if not self.val_loss:
            raise ValueError("the history is empty: no epoch has been validated")
        best = None
        for index, loss in enumerate(self.val_loss):
            if _beats(loss, None if best is None else self.val_loss[best]):
                best = index
        if best is None:
            raise ValueError("every validation loss is NaN: no epoch is the best")
        return best + 1


def _beats(loss: float, best: float | None) -> bool:
    """Whether validation ``loss`` is a new best after ``best`` (None: no best yet).

    The one rule of :attr:`History.best_epoch` and ``train(keep_best=True)``: lower
    wins, the earlier epoch wins a tie, and NaN never wins.
    """
    return not math.isnan(loss) and (best is None or loss < best)


def train(
    model: nn.Module,
    train_loader: DataLoader[Any],
    val_loader: DataLoader[Any],
    *,
    epochs: int,
    lr: float = 1e-3,
    seed: int = 0,
    keep_best: bool = False,
    device: torch.device | str | None = None,
    progress: bool | None = None,
    param_groups: Sequence[dict[str, Any]] | None = None,
) -> History:
    """Train ``model`` with Adam and cross-entropy; return the history.

    Seeds every generator first, so the same model, data and seed give the same
    history. After each epoch the model is scored on ``val_loader``.

    Args:
        model: the network to train, in place.
        train_loader: batches of ``(images, labels)`` to learn from.
        val_loader: a validation set held out from the training data, same form.
        epochs: how many passes over ``train_loader``, at least 1.
        lr: Adam's learning rate, a finite number above 0.
        seed: the seed for :func:`~cnnbook.device.seed_everything`.
        keep_best: if ``True``, the model ends with the weights of
            :attr:`History.best_epoch` (lowest validation loss; NaN never counts)
            rather than those of the last epoch.
        device: where to train; ``None`` means where the model's parameters are.
        progress: show a tqdm bar per epoch; ``None`` means only when stderr is a
            terminal, so built pages stay quiet.
        param_groups: what Adam trains, in torch's own parameter-group form: a
            sequence of dicts, each with ``"params"`` (some of the model's
            parameters) and optionally its own ``"lr"``; a group without one uses
            ``lr``. Parameters in no group are not trained. ``None`` means one group
            of all the model's parameters.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if ``epochs``, ``lr`` or ``seed`` is out of range, the model has
            no parameters, a loader yields no batches, ``keep_best=True`` finds
            every validation loss NaN, or ``param_groups`` is empty, has a group
            with no parameters, or names a parameter twice or one that is not the
            model's.
    """
    _checks.positive_int("epochs", epochs)
    _checks.finite_positive("lr", lr)
    _checks.flag("keep_best", keep_best)
    if progress is not None:
        _checks.flag("progress", progress)
    device = _run_on(
        model,
        device,
        {"train_loader": train_loader, "val_loader": val_loader},
        training=True,
    )
    groups = _groups(model, param_groups)
    seed_everything(seed)
    model.to(device)
    optimizer = torch.optim.Adam(groups or model.parameters(), lr=lr)
    show = sys.stderr.isatty() if progress is None else progress
    history = History()
    best_loss, best_state = None, None
    for epoch in range(epochs):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches: Iterable[Any] = train_loader
        if show:
            from tqdm.auto import tqdm

            batches = tqdm(
                train_loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False
            )
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]  # unannotated in torch
            optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
        if not seen:
            raise ValueError("train_loader yielded no batches")
        history.train_loss.append(total_loss / seen)
        history.train_accuracy.append(correct / seen)
        _, _, val_loss, val_accuracy = _predict(
            model, val_loader, device, name="val_loader"
        )
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        if keep_best and _beats(val_loss, best_loss):
            best_loss, best_state = val_loss, copy.deepcopy(model.state_dict())
    if keep_best:
        if best_state is None:
            raise ValueError(
                "keep_best=True, but every validation loss was NaN: "
                "no epoch's weights are the best to keep"
            )
        model.load_state_dict(best_state)
    return history


def _groups(model: nn.Module, param_groups: object) -> list[dict[str, Any]] | None:
    """Check ``param_groups`` of :func:`train` against ``model``; return copies of
    the groups with their parameters in lists (``None`` for ``None``)."""
    if param_groups is None:
        return None
    rule = "param_groups must be a list of dicts, each with a 'params' entry"
    if not isinstance(param_groups, Sequence) or isinstance(param_groups, str):
        raise TypeError(f"{rule}, got {type(param_groups).__name__}")
    if not param_groups:
        raise ValueError(f"{rule}, got an empty {type(param_groups).__name__}")
    owned = {id(p) for p in model.parameters()}
    seen: set[int] = set()
    groups = []
    for index, group in enumerate(param_groups):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{rule}; group {index} is {group!r}")
        params = group["params"]
        if isinstance(params, torch.Tensor):
            params = [params]
        if not isinstance(params, Iterable):
            raise TypeError(
                f"param_groups[{index}]['params'] must be an iterable of "
                f"parameters, got {type(params).__name__}"
            )
        params = list(params)
        if not params:
            raise ValueError(f"param_groups[{index}] has no parameters")
        for p in params:
            if not isinstance(p, nn.Parameter):
                raise TypeError(
                    f"param_groups[{index}]['params'] must hold nn.Parameter "
                    f"objects, got {_checks.describe(p)}"
                )
            if id(p) not in owned:
                raise ValueError(
                    f"param_groups[{index}] holds a parameter that is not the "
                    "model's: it would not be trained"
                )
            if id(p) in seen:
                raise ValueError(
                    f"param_groups[{index}] holds a parameter that an earlier "
                    "group holds too"
                )
            seen.add(id(p))
        if "lr" in group:
            _checks.finite_positive(f"param_groups[{index}]['lr']", group["lr"])
        groups.append({**group, "params": params})
    return groups


def evaluate(
    model: nn.Module,
    loader: DataLoader[Any],
    device: torch.device | str | None = None,
) -> tuple[float, float]:
    """Return the mean cross-entropy loss and the accuracy of ``model`` on ``loader``.

    The model runs in evaluation mode, without gradients.

    Args:
        model: the network to score.
        loader: batches of ``(images, labels)``.
        device: where to run; ``None`` means where the model's parameters are.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if ``loader`` yields no batches, or ``device`` is ``None`` and
            the model has no parameters.
    """
    device = _run_on(model, device, {"loader": loader})
    _, _, loss, accuracy = _predict(model, loader, device, name="loader")
    return loss, accuracy


def predict(
    model: nn.Module,
    loader: DataLoader[Any],
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Return the predicted class of every example in ``loader``, in order, on the CPU.

    Args:
        model: the network.
        loader: batches of ``(images, labels)``; the labels are not used.
        device: where to run; ``None`` means where the model's parameters are.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if ``loader`` yields no batches, or ``device`` is ``None`` and
            the model has no parameters.
    """
    device = _run_on(model, device, {"loader": loader})
    return _predict(model, loader, device, name="loader")[0]


def _run_on(
    model: nn.Module,
    device: torch.device | str | None,
    loaders: dict[str, object],
    *,
    training: bool = False,
) -> torch.device:
    """Check the arguments that :func:`train`, :func:`evaluate` and :func:`predict`
    share, and return the device to run on: ``device``, or else the device of the
    model's parameters. With ``training=True`` a model must have parameters."""
    _checks.module("model", model)
    for name, loader in loaders.items():
        if not isinstance(loader, DataLoader):
            raise TypeError(
                f"{name} must be a torch.utils.data.DataLoader, "
                f"got {type(loader).__name__}"
            )
    parameter = next(model.parameters(), None)
    if parameter is None and training:
        raise ValueError("model has no parameters to train")
    if device is not None:
        return _checks.device("device", device)
    if parameter is None:
        raise ValueError("model has no parameters; pass device=...")
    return parameter.device


def _predict(
    model: nn.Module,
    loader: DataLoader[Any],
    device: torch.device,
    *,
    name: str,
) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """Predictions and labels for ``loader`` (CPU tensors), the mean loss and the
    accuracy. ``name`` names the loader in the error for an empty one."""
    model.eval()
    predictions: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    total_loss = 0.0
    with torch.no_grad():
        for images, targets in loader:
            images, targets = images.to(device), targets.to(device)
            logits = model(images)
            loss = F.cross_entropy(logits, targets, reduction="sum")
            total_loss += loss.item()
            predictions.append(logits.argmax(dim=1).cpu())
            labels.append(targets.cpu())
    if not labels:
        raise ValueError(f"{name} yielded no batches")
    predicted, truth = torch.cat(predictions), torch.cat(labels)
    accuracy = (predicted == truth).sum().item() / len(truth)
    return predicted, truth, total_loss / len(truth), accuracy
