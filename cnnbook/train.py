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
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from cnnbook.device import seed_everything


@dataclass
class History:
    """Per-epoch results of :func:`train`.

    ``train_loss`` and ``train_accuracy`` are averages over the epoch's batches, taken
    while the weights were still changing; ``val_loss`` and ``val_accuracy`` are
    measured on the validation set at the end of each epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def best_epoch(self) -> int:
        """The epoch (counted from 1) with the lowest validation loss; the first such
        epoch on a tie. A NaN loss never counts as the lowest. Raises ``ValueError``
        for an empty history or one whose every validation loss is NaN."""
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
    train_loader: DataLoader,
    val_loader: DataLoader,
    *,
    epochs: int,
    lr: float = 1e-3,
    seed: int = 0,
    keep_best: bool = False,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` with Adam and cross-entropy for ``epochs`` epochs; return the
    history.

    Seeds every generator with ``seed`` first, so the same model, data and seed give
    the same history. After each epoch the model is scored on ``val_loader``, a
    validation set held out from the training data. With ``keep_best=True`` the model
    ends with the weights of :attr:`History.best_epoch` (lowest validation loss; a
    NaN loss never counts) rather than those of the last epoch. ``progress`` shows a
    tqdm bar per epoch; by default only when stderr is a terminal, so notebooks and
    built pages stay quiet (pass ``progress=True`` in a notebook to see it).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if not isinstance(keep_best, bool):
        raise TypeError(f"keep_best must be True or False, got {keep_best!r}")
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if not isinstance(loader, DataLoader):
            raise TypeError(
                f"{name} must be a torch.utils.data.DataLoader, "
                f"got {type(loader).__name__}"
            )
    if next(model.parameters(), None) is None:
        raise ValueError("model has no parameters to train")
    seed_everything(seed)
    device = _device_of(model, device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    show = sys.stderr.isatty() if progress is None else progress
    history = History()
    best_loss, best_state = None, None
    for epoch in range(epochs):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        batches = train_loader
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
            loss.backward()
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


def evaluate(
    model: nn.Module, loader: DataLoader, device: torch.device | str | None = None
) -> tuple[float, float]:
    """Return the mean cross-entropy loss and the accuracy of ``model`` on ``loader``
    (in evaluation mode, without gradients)."""
    return _predict(model, loader, device)[2:]


def predict(
    model: nn.Module, loader: DataLoader, device: torch.device | str | None = None
) -> torch.Tensor:
    """Return the predicted class of every example in ``loader``, in order, on the
    CPU."""
    return _predict(model, loader, device)[0]


def _device_of(model: nn.Module, device: torch.device | str | None) -> torch.device:
    """``device`` as a ``torch.device``, or the device of the model's parameters."""
    if device is not None:
        return torch.device(device)
    parameter = next(model.parameters(), None)
    if parameter is None:
        raise ValueError("model has no parameters; pass device=...")
    return parameter.device


def _predict(
    model: nn.Module,
    loader: DataLoader,
    device: torch.device | str | None,
    *,
    name: str = "the loader",
) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """Predictions and labels for ``loader`` (CPU tensors), the mean loss and the
    accuracy. ``name`` names the loader in the error for an empty one."""
    device = _device_of(model, device)
    model.eval()
    predictions, labels, total_loss = [], [], 0.0
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
    predictions, labels = torch.cat(predictions), torch.cat(labels)
    accuracy = (predictions == labels).sum().item() / len(labels)
    return predictions, labels, total_loss / len(labels), accuracy
