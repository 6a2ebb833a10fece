"""cnnbook: the small helper package behind the book "CNNs in PyTorch".

Each helper lives in the module named after its job:

- :mod:`cnnbook.device`: :func:`get_device`, :func:`seed_everything`, :func:`last_seed`,
  :class:`tf32_convolutions`
- :mod:`cnnbook.images`: :func:`sample_image`, :data:`SAMPLE_IMAGES`,
  :func:`load_image`, :func:`to_batch`, :data:`IMAGENET_MEAN`, :data:`IMAGENET_STD`
- :mod:`cnnbook.plotting`: :func:`show_image`, :func:`plot_feature_maps`,
  :func:`plot_rgb_filters`, :func:`plot_confusion_matrix`, :func:`use_compact_figures`
- :mod:`cnnbook.sizes`: :func:`conv_output_size`, :func:`pool_output_size`,
  :func:`receptive_fields`
- :mod:`cnnbook.conv`: :func:`conv2d_reference`
- :mod:`cnnbook.diagrams`: :func:`plot_conv_steps`
- :mod:`cnnbook.interactive`: :func:`kernel_explorer`, :func:`output_size_explorer`,
  :func:`feature_map_explorer`, :class:`InteractiveFigure`, :data:`SIZE_RANGES`
- :mod:`cnnbook.stats`: :func:`activation_stats`, :class:`ActivationStats`,
  :func:`rank_correlation`
- :mod:`cnnbook.data`: :func:`fashion_mnist`, :data:`CLASS_NAMES`
- :mod:`cnnbook.models`: :class:`LeNet`, :class:`ResNet`, :class:`BasicBlock`
- :mod:`cnnbook.hooks`: :func:`capture_activations`, :func:`layer_summary`,
  :class:`LayerRow`
- :mod:`cnnbook.attribution`: :func:`saliency`, :func:`grad_cam`, :func:`occlusion`,
  :func:`effective_receptive_field`, :func:`mass_extent`, :func:`deletion_curve`
- :mod:`cnnbook.train`: :func:`train`, :func:`evaluate`, :func:`predict`,
  :class:`History`
- :mod:`cnnbook.bench`: :func:`time_call`, :func:`time_interleaved`,
  :func:`compare_times`, :func:`fast_cudnn`, :func:`conv2d_flops`, :func:`peak_tflops`
- :mod:`cnnbook.facts`: :func:`build_facts`, :class:`BuildFacts`,
  :func:`build_environment`
"""

from cnnbook.attribution import (
    deletion_curve,
    effective_receptive_field,
    grad_cam,
    mass_extent,
    occlusion,
    saliency,
)
from cnnbook.bench import (
    compare_times,
    conv2d_flops,
    fast_cudnn,
    peak_tflops,
    time_call,
    time_interleaved,
)
from cnnbook.conv import conv2d_reference
from cnnbook.data import CLASS_NAMES, fashion_mnist
from cnnbook.device import get_device, last_seed, seed_everything, tf32_convolutions
from cnnbook.diagrams import plot_conv_steps
from cnnbook.facts import BuildFacts, build_environment, build_facts
from cnnbook.hooks import LayerRow, capture_activations, layer_summary
from cnnbook.images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    SAMPLE_IMAGES,
    load_image,
    sample_image,
    to_batch,
)
from cnnbook.interactive import (
    SIZE_RANGES,
    InteractiveFigure,
    feature_map_explorer,
    kernel_explorer,
    output_size_explorer,
)
from cnnbook.models import BasicBlock, LeNet, ResNet
from cnnbook.plotting import (
    plot_confusion_matrix,
    plot_feature_maps,
    plot_rgb_filters,
    show_image,
    use_compact_figures,
)
from cnnbook.sizes import conv_output_size, pool_output_size, receptive_fields
from cnnbook.stats import ActivationStats, activation_stats, rank_correlation
from cnnbook.train import History, evaluate, predict, train

__version__ = "0.1.0"

__all__ = [
    "CLASS_NAMES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "SAMPLE_IMAGES",
    "SIZE_RANGES",
    "ActivationStats",
    "BasicBlock",
    "BuildFacts",
    "History",
    "InteractiveFigure",
    "LayerRow",
    "LeNet",
    "ResNet",
    "activation_stats",
    "build_environment",
    "build_facts",
    "capture_activations",
    "compare_times",
    "conv2d_flops",
    "conv2d_reference",
    "conv_output_size",
    "deletion_curve",
    "effective_receptive_field",
    "evaluate",
    "fashion_mnist",
    "fast_cudnn",
    "feature_map_explorer",
    "get_device",
    "grad_cam",
    "kernel_explorer",
    "last_seed",
    "layer_summary",
    "load_image",
    "occlusion",
    "output_size_explorer",
    "mass_extent",
    "peak_tflops",
    "plot_confusion_matrix",
    "plot_conv_steps",
    "plot_feature_maps",
    "plot_rgb_filters",
    "pool_output_size",
    "predict",
    "rank_correlation",
    "receptive_fields",
    "sample_image",
    "saliency",
    "seed_everything",
    "show_image",
    "tf32_convolutions",
    "time_call",
    "time_interleaved",
    "to_batch",
    "train",
    "use_compact_figures",
]
