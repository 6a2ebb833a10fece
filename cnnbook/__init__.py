"""cnnbook: the small helper package behind the book "CNNs in PyTorch".

Each helper lives in the module named after its job:

- :mod:`cnnbook.device`: :func:`get_device`, :func:`seed_everything`
- :mod:`cnnbook.images`: :func:`sample_image`, :func:`load_image`, :func:`to_batch`
- :mod:`cnnbook.plotting`: :func:`show_image`, :func:`plot_feature_maps`, :func:`use_compact_figures`
- :mod:`cnnbook.sizes`: :func:`conv_output_size`, :func:`pool_output_size`, :func:`receptive_fields`
- :mod:`cnnbook.conv`: :func:`conv2d_reference`
- :mod:`cnnbook.diagrams`: :func:`plot_conv_steps`
- :mod:`cnnbook.stats`: :func:`activation_stats`
"""

from cnnbook.conv import conv2d_reference
from cnnbook.device import get_device, seed_everything
from cnnbook.diagrams import plot_conv_steps
from cnnbook.images import IMAGENET_MEAN, IMAGENET_STD, load_image, sample_image, to_batch
from cnnbook.plotting import plot_feature_maps, show_image, use_compact_figures
from cnnbook.sizes import conv_output_size, pool_output_size, receptive_fields
from cnnbook.stats import ActivationStats, activation_stats

__version__ = "0.1.0"

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ActivationStats",
    "activation_stats",
    "conv2d_reference",
    "conv_output_size",
    "get_device",
    "load_image",
    "plot_conv_steps",
    "plot_feature_maps",
    "pool_output_size",
    "receptive_fields",
    "sample_image",
    "seed_everything",
    "show_image",
    "to_batch",
    "use_compact_figures",
]
