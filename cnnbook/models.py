"""Small models defined in the book."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnnbook import _checks


class LeNet(nn.Module):
    """A LeNet-5 style CNN for ``(N, 1, 28, 28)`` images such as Fashion-MNIST.

    Two blocks of 5 × 5 convolution, ReLU and 2 × 2 max pooling (6, then 16 channels)
    turn an image into 16 maps of 5 × 5; three linear layers (120, 84,
    ``num_classes`` units) classify them. Every layer has a name (``conv1``,
    ``relu1``, ``pool1``, ..., ``fc3``) for hooks.

    Args:
        num_classes: the number of classes, at least 2; 10 for Fashion-MNIST.

    Raises:
        TypeError: if ``num_classes`` is not an int.
        ValueError: if ``num_classes`` is below 2.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        _checks.int_at_least("num_classes", num_classes, 2)
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(1, 6, kernel_size=5, padding=2),  # 28 x 28 -> 28 x 28
                relu1=nn.ReLU(),
                pool1=nn.MaxPool2d(2),  # -> 14 x 14
                conv2=nn.Conv2d(6, 16, kernel_size=5),  # -> 10 x 10
                relu2=nn.ReLU(),
                pool2=nn.MaxPool2d(2),  # -> 5 x 5
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                fc1=nn.Linear(16 * 5 * 5, 120),
                relu3=nn.ReLU(),
                fc2=nn.Linear(120, 84),
                relu4=nn.ReLU(),
                fc3=nn.Linear(84, num_classes),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class scores (logits) of shape ``(N, num_classes)``.

        Args:
            x: a batch of images, shape ``(N, 1, 28, 28)``.

        Raises:
            TypeError: if ``x`` is not a tensor.
            ValueError: if ``x`` has another shape.
        """
        _checks.tensor("x", x)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"LeNet expects images of shape (N, 1, 28, 28), got {tuple(x.shape)}"
            )
        logits: torch.Tensor = self.classifier(self.features(x))
        return logits
