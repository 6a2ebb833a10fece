"""A plain, seeded training loop that returns its history as data."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from cnnbook.device import seed_everything


@dataclass
class History:
    """Per-epoch results of :func:`train`: mean training loss and accuracy, test loss and accuracy."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


def train(
    model: nn.Module,
    train_loader: DataLoader,
    test_loader: DataLoader,
    *,
    epochs: int,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` with Adam and cross-entropy for ``epochs`` epochs; return the history.

    Seeds every generator with ``seed`` first, so the same model, data and seed give the same
    history. After each epoch the model is evaluated on ``test_loader``. ``progress`` shows a
    tqdm bar per epoch; by default only when stderr is a terminal, so notebooks and built pages
    stay quiet (pass ``progress=True`` in a notebook to see it).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    for name, loader in (("train_loader", train_loader), ("test_loader", test_loader)):
        if not isinstance(loader, DataLoader):
            raise TypeError(
                f"{name} must be a torch.utils.data.DataLoader, got {type(loader).__name__}"
            )
    seed_everything(seed)
    device = (
        torch.device(device) if device is not None else next(model.parameters()).device
    )
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    show = sys.stderr.isatty() if progress is None else progress
    history = History()
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
        history.train_loss.append(total_loss / seen)
        history.train_accuracy.append(correct / seen)
        test_loss, test_accuracy = evaluate(model, test_loader, device=device)
        history.test_loss.append(test_loss)
        history.test_accuracy.append(test_accuracy)
    return history


def evaluate(
    model: nn.Module, loader: DataLoader, device: torch.device | str | None = None
) -> tuple[float, float]:
    """Return the mean cross-entropy loss and the accuracy of ``model`` on ``loader``."""
    predictions, labels, loss = _predict(model, loader, device)
    return loss, (predictions == labels).float().mean().item()


def predict(
    model: nn.Module, loader: DataLoader, device: torch.device | str | None = None
) -> torch.Tensor:
    """Return the predicted class of every example in ``loader``, in order, on the CPU."""
    return _predict(model, loader, device)[0]


def _predict(
    model: nn.Module, loader: DataLoader, device: torch.device | str | None
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Predictions and labels for ``loader`` (CPU tensors), and the mean loss."""
    device = (
        torch.device(device) if device is not None else next(model.parameters()).device
    )
    model.eval()
    predictions, labels, total_loss = [], [], 0.0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x.to(device))
            total_loss += F.cross_entropy(logits, y.to(device), reduction="sum").item()
            predictions.append(logits.argmax(dim=1).cpu())
            labels.append(y.cpu())
    if not labels:
        raise ValueError("the loader yielded no batches")
    predictions, labels = torch.cat(predictions), torch.cat(labels)
    return predictions, labels, total_loss / len(labels)
