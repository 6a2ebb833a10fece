"""cnnbook: the small helper package behind the book "CNNs in PyTorch".

Each helper lives in the module named after its job:

- :mod:`cnnbook.device`: :func:`get_device`, :func:`seed_everything`
- :mod:`cnnbook.images`: :func:`sample_image`, :func:`load_image`, :func:`to_batch`
- :mod:`cnnbook.plotting`: :func:`show_image`, :func:`plot_feature_maps`, :func:`use_compact_figures`
"""

from cnnbook.device import get_device, seed_everything
from cnnbook.images import load_image, sample_image, to_batch
from cnnbook.plotting import plot_feature_maps, show_image, use_compact_figures

__version__ = "0.1.0"

__all__ = [
    "get_device",
    "load_image",
    "plot_feature_maps",
    "sample_image",
    "seed_everything",
    "show_image",
    "to_batch",
    "use_compact_figures",
]
