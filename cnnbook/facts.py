"""Where and how a page was built: device, library versions, seed and time taken.

Every chapter that runs code ends with :func:`build_facts`; the "How this book was
built" page prints :func:`build_environment` in full.
"""

from __future__ import annotations

import html
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

import psutil
import torch

from cnnbook import _checks
from cnnbook.device import get_device, last_seed


@dataclass(frozen=True)
class BuildFacts:
    """The one-line record at the end of a chapter, shown as a small paragraph.

    Attributes:
        device: the device's name: ``"CPU"``, or the GPU's model.
        torch: torch's version.
        cuda: the CUDA version torch was built for; ``None`` on the CPU.
        cudnn: cuDNN's version; ``None`` on the CPU.
        seed: the latest seed set, shown only when there is one (a page with no
            randomness sets none).
        seconds: the time from the start of the page's kernel to the record.
    """

    device: str
    torch: str
    cuda: str | None
    cudnn: str | None
    seed: int | None
    seconds: float

    def __str__(self) -> str:
        parts = [f"Built on {self.device}", f"torch {self.torch}"]
        if self.cuda is not None:
            parts.append(f"CUDA {self.cuda}")
        if self.cudnn is not None:
            parts.append(f"cuDNN {self.cudnn}")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        parts.append(f"{self.seconds:.1f} s from kernel start")
        return " · ".join(parts)

    def _repr_html_(self) -> str:
        return f'<p class="cnnbook-build-facts">{html.escape(str(self))}</p>'


def build_facts(device: torch.device | str | None = None) -> BuildFacts:
    """Describe this run: its device, library versions, seed and time so far.

    The seed is the one last passed to :func:`~cnnbook.device.seed_everything`. The time
    counts from the start of this Python process, which for a page of the book is its
    kernel, to this call. CUDA and cuDNN versions appear only for a CUDA device.

    Args:
        device: the device to describe; ``None`` means
            :func:`~cnnbook.device.get_device`.

    Raises:
        TypeError: if ``device`` is not a device, a string or ``None``.
        ValueError: if it is not a ``cpu`` or ``cuda`` device.
        RuntimeError: if it is a CUDA device and none is available.
    """
    device = get_device() if device is None else _checks.device("device", device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"build_facts was asked about {device}, but no CUDA device is available"
            )
        name, cuda, cudnn = (
            torch.cuda.get_device_name(device),
            torch.version.cuda,
            _cudnn_version(),
        )
    elif device.type == "cpu":
        name, cuda, cudnn = "CPU", None, None
    else:
        raise ValueError(
            f"build_facts describes 'cpu' or 'cuda' devices, got {device.type!r}"
        )
    return BuildFacts(
        device=name,
        torch=torch.__version__,
        cuda=cuda,
        cudnn=cudnn,
        seed=last_seed(),
        seconds=time.time() - psutil.Process().create_time(),
    )


def build_environment(packages: Sequence[str] = ()) -> dict[str, str]:
    """Return the build environment as ``{what: version or description}``.

    In reading order, always: Python, the platform, CPU cores, torch, torchvision, CUDA,
    cuDNN, the GPU (model and memory) and the NVIDIA driver when ``nvidia-smi`` is
    present; then the version of each distribution in ``packages``.

    Args:
        packages: distribution names, for example ``["jupyter-book"]``; one that is
            missing is reported as ``"not installed"``.

    Raises:
        TypeError: if ``packages`` is not a sequence of strings.
    """
    _checks.strings("packages", packages, "distribution names")
    import torchvision

    cuda_ok = torch.cuda.is_available()
    facts = {
        "Python": platform.python_version(),
        "Platform": platform.platform(),
        "CPU cores": str(os.cpu_count()),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "CUDA (torch built for)": torch.version.cuda or "none (CPU-only build)",
        "cuDNN": _cudnn_version() or "not available",
        "GPU": _gpu_description() if cuda_ok else "none",
        "NVIDIA driver": _nvidia_driver() or "no nvidia-smi",
    }
    for name in packages:
        try:
            facts[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            facts[name] = "not installed"
    return facts


def _cudnn_version() -> str | None:
    """cuDNN's version as ``major.minor.patch``, or ``None`` when torch has no cuDNN."""
    # torch leaves both functions unannotated
    cudnn = torch.backends.cudnn
    if not cudnn.is_available():  # type: ignore[no-untyped-call]
        return None
    number: int | None = cudnn.version()  # type: ignore[no-untyped-call]
    if number is None:
        return None
    if number >= 90000:  # cuDNN 9 encodes major * 10000 + minor * 100 + patch
        return f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    return f"{number // 1000}.{number // 100 % 10}.{number % 100}"


def _gpu_description() -> str:
    """Every visible GPU as ``name (memory GiB)``."""
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        gpus.append(f"{props.name} ({props.total_memory / 2**30:.0f} GiB)")
    return ", ".join(gpus)


def _nvidia_driver() -> str | None:
    """The driver version ``nvidia-smi`` reports; ``None`` without a working one."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        result = subprocess.run(
            [exe, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    versions = sorted(set(result.stdout.split()))
    return ", ".join(versions) or None
