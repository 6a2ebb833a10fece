"""Small models defined in the book."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

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
        _check_images(self, x)
        logits: torch.Tensor = self.classifier(self.features(x))
        return logits


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3 × 3 convolutions and a shortcut around them.

    The block computes ``relu2(bn2(conv2(relu1(bn1(conv1(x))))) + shortcut(x))``.
    ``conv1`` has the block's stride; both convolutions pad by 1 and have no bias
    (the batch normalisation after each has one). The shortcut is the identity when
    the block keeps its input's shape. When it does not (a stride other than 1, or
    a change in the number of channels), the shortcut is a projection: a 1 × 1
    convolution with the same stride, then batch normalisation, so that the two
    paths can be added.

    Args:
        in_channels: the number of input channels, at least 1.
        out_channels: the number of output channels, at least 1.
        stride: the stride of ``conv1`` and of the projection, at least 1; 2 halves
            the height and width (rounding up).

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if an argument is below 1.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        _checks.positive_int("in_channels", in_channels)
        _checks.positive_int("out_channels", out_channels)
        _checks.positive_int("stride", stride)
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                OrderedDict(
                    conv=nn.Conv2d(
                        in_channels, out_channels, 1, stride=stride, bias=False
                    ),
                    bn=nn.BatchNorm2d(out_channels),
                )
            )
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the block's output, shape ``(N, out_channels, H', W')``.

        Args:
            x: a batch of feature maps, shape ``(N, in_channels, H, W)``.

        Raises:
            TypeError: if ``x`` is not a tensor.
            ValueError: if ``x`` is not 4-dimensional with ``in_channels``
                channels.
        """
        _checks.tensor("x", x)
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"BasicBlock expects feature maps of shape "
                f"(N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        branch = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        out: torch.Tensor = self.relu2(branch + self.shortcut(x))
        return out


class ResNet(nn.Module):
    """A small ResNet for ``(N, 1, 28, 28)`` images such as Fashion-MNIST.

    A stem (3 × 3 convolution to ``widths[0]`` channels, batch normalisation, ReLU)
    is followed by one stage per entry of ``widths``, each of ``blocks``
    :class:`BasicBlock` s. The first stage keeps the 28 × 28 size; each later stage
    starts with a stride-2 block, which halves the size (28, 14, 7, 4, ...) and
    changes the width through a projection shortcut. Global average pooling and one
    linear layer classify the result. The layers are named ``features.stem``,
    ``features.stage1.0`` (the first block of stage 1), ..., ``classifier.fc``.

    Args:
        num_classes: the number of classes, at least 2; 10 for Fashion-MNIST.
        widths: the number of channels of each stage, a non-empty tuple or list
            of positive ints.
        blocks: the number of blocks in each stage, at least 1.

    Raises:
        TypeError: if ``num_classes`` or ``blocks`` is not an int, or ``widths``
            is not a tuple or list of ints.
        ValueError: if ``num_classes`` is below 2, ``blocks`` below 1, or
            ``widths`` is empty or holds a number below 1.
    """

    def __init__(
        self,
        num_classes: int = 10,
        widths: Sequence[int] = (16, 32, 64),
        blocks: int = 1,
    ) -> None:
        super().__init__()
        _checks.int_at_least("num_classes", num_classes, 2)
        _checks.positive_int("blocks", blocks)
        rule = (
            f"widths must be a non-empty tuple or list of positive ints, got {widths!r}"
        )
        if not isinstance(widths, (tuple, list)) or not all(
            _checks.is_int(w) for w in widths
        ):
            raise TypeError(rule)
        if not widths or min(widths) < 1:
            raise ValueError(rule)
        stages: OrderedDict[str, nn.Module] = OrderedDict(
            stem=nn.Sequential(
                OrderedDict(
                    conv=nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
                    bn=nn.BatchNorm2d(widths[0]),
                    relu=nn.ReLU(),
                )
            )
        )
        channels = widths[0]
        for number, width in enumerate(widths, start=1):
            stride = 1 if number == 1 else 2
            layers = []
            for _ in range(blocks):
                layers.append(BasicBlock(channels, width, stride))
                channels, stride = width, 1
            stages[f"stage{number}"] = nn.Sequential(*layers)
        self.features = nn.Sequential(stages)
        self.classifier = nn.Sequential(
            OrderedDict(
                pool=nn.AdaptiveAvgPool2d(1),
                flatten=nn.Flatten(),
                fc=nn.Linear(channels, num_classes),
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
        _check_images(self, x)
        logits: torch.Tensor = self.classifier(self.features(x))
        return logits


def _check_images(model: nn.Module, x: object) -> None:
    """Raise unless ``x`` is a tensor of shape ``(N, 1, 28, 28)``, naming the model."""
    _checks.tensor("x", x)
    assert isinstance(x, torch.Tensor)
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(
            f"{type(model).__name__} expects images of shape (N, 1, 28, 28), "
            f"got {tuple(x.shape)}"
        )
