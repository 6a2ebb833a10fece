"""Choosing a device and making runs repeatable."""

from __future__ import annotations

import os
import random
from types import TracebackType
from typing import Any

import numpy as np
import torch

from cnnbook import _checks

DEVICE_ENV_VAR = "CNNBOOK_DEVICE"
REQUIRE_GPU_ENV_VAR = "CNNBOOK_REQUIRE_GPU"

_last_seed: int | None = None


def get_device() -> torch.device:
    """Return the device the book runs on: ``cuda`` when available, else ``cpu``.

    Setting the environment variable ``CNNBOOK_DEVICE`` (for example ``cpu`` or
    ``cuda:1``) overrides the choice. A GPU build host sets ``CNNBOOK_REQUIRE_GPU=1``,
    so that finding no CUDA device is an error rather than a fall back to the CPU.

    Raises:
        RuntimeError: if the device asked for is not available (rather than silently
            running elsewhere), or if ``CNNBOOK_REQUIRE_GPU=1`` finds no CUDA device.
        ValueError: if ``CNNBOOK_DEVICE`` is not a ``cpu`` or ``cuda`` device, or
            ``CNNBOOK_REQUIRE_GPU`` is neither ``1`` nor ``0``.
    """
    require = os.environ.get(REQUIRE_GPU_ENV_VAR, "").strip()
    if require not in ("", "0", "1"):
        raise ValueError(f"{REQUIRE_GPU_ENV_VAR} must be '1' or '0', got {require!r}")
    if require == "1" and not torch.cuda.is_available():
        raise RuntimeError(
            f"{REQUIRE_GPU_ENV_VAR}=1, but torch sees no CUDA device "
            f"(torch {torch.__version__}, "
            f"built for CUDA {torch.version.cuda or 'none'})"
        )
    override = os.environ.get(DEVICE_ENV_VAR, "").strip()
    if not override:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(override)
    except RuntimeError as err:
        raise ValueError(
            f"{DEVICE_ENV_VAR}={override!r} is not a valid torch device: {err}"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"{DEVICE_ENV_VAR}={override!r} asks for CUDA, "
                "but no CUDA device is available"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"{DEVICE_ENV_VAR}={override!r}: "
                f"only {torch.cuda.device_count()} CUDA device(s) are present"
            )
    elif device.type != "cpu":
        raise ValueError(
            f"{DEVICE_ENV_VAR}={override!r}: only 'cpu' and 'cuda[:N]' are supported"
        )
    elif require == "1":
        raise RuntimeError(
            f"{REQUIRE_GPU_ENV_VAR}=1 contradicts {DEVICE_ENV_VAR}={override!r}"
        )
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (all devices).

    It also makes cuDNN pick deterministic convolution algorithms, so a seeded run
    gives the same numbers on every build of the same machine.

    Args:
        seed: the seed, an int in ``[0, 2**32)``.

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if ``seed`` is outside ``[0, 2**32)``.
    """
    rule = f"seed must be an int in [0, 2**32), got {seed!r}"
    if not _checks.is_int(seed):
        raise TypeError(rule)
    if not 0 <= seed < 2**32:
        raise ValueError(rule)
    global _last_seed
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    _last_seed = seed


def last_seed() -> int | None:
    """Return the seed of the latest :func:`seed_everything` call.

    Returns ``None`` if there was none.
    """
    return _last_seed


class tf32_convolutions:
    """Allow (``True``) or forbid (``False``) TF32 in cuDNN's float32 convolutions.

    PyTorch lets NVIDIA GPUs compute float32 convolutions in TensorFloat-32 by
    default, which keeps about three significant digits of each input. Called on its
    own, this sets the choice for the rest of the program; as ``with
    tf32_convolutions(False):`` it holds inside the block only, like
    ``torch.set_grad_enabled``. It sets ``torch.backends.cudnn.conv.fp32_precision``
    where PyTorch has it (2.9 and later), else ``torch.backends.cudnn.allow_tf32``,
    which those versions deprecate. Without a GPU, nothing that runs is affected.

    Args:
        enabled: ``True`` to allow TF32, ``False`` for full float32 precision.

    Raises:
        TypeError: if ``enabled`` is not ``True`` or ``False``.
    """

    def __init__(self, enabled: bool) -> None:
        _checks.flag("enabled", enabled)
        self._previous = self._get()
        if _has_precision_api():
            self._set("tf32" if enabled else "ieee")
        else:
            self._set(enabled)

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._set(self._previous)

    @staticmethod
    def _get() -> str | bool:
        if _has_precision_api():
            return str(_cudnn_conv().fp32_precision)
        return torch.backends.cudnn.allow_tf32

    @staticmethod
    def _set(value: str | bool) -> None:
        if isinstance(value, str):  # "tf32" or "ieee": PyTorch 2.9+
            _cudnn_conv().fp32_precision = value
        else:
            torch.backends.cudnn.allow_tf32 = value


def _has_precision_api() -> bool:
    """Whether torch has the per-operation precision settings of PyTorch 2.9+."""
    return hasattr(torch.backends.cudnn, "conv")


def _cudnn_conv() -> Any:
    """``torch.backends.cudnn.conv``, the cuDNN convolution settings of PyTorch 2.9+.

    torch adds it to the module at run time; its type stubs do not declare it.
    """
    return torch.backends.cudnn.conv  # type: ignore[attr-defined]
