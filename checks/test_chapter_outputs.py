"""What particular chapters must show in the built site.

The first chapter reproduces every step and printout of the page this book grew from:
its shapes, its layer reprs and its figures. The introduction reports the machine and
versions of the build.
"""

from __future__ import annotations

import re

import pytest

from checks.site_html import outputs_text, page_soup


def test_intro_reports_this_build():
    text = outputs_text(page_soup("book/intro"))
    assert re.search(r"^device\s+(cpu|cuda)", text, re.MULTILINE), text
    for name in ("Python", "torch", "torchvision"):
        assert re.search(rf"^{name}\s+\d+\.\d+", text, re.MULTILINE), (
            f"intro does not print the {name} version"
        )


SEED_PRINTOUTS = [
    "(451, 300)",
    "torch.Size([1, 3, 256, 256])",
    "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
    "torch.Size([8, 3, 3, 3])",
    "torch.Size([3, 3, 3])",
    "torch.Size([1, 8, 256, 256])",
    "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    "torch.Size([1, 8, 128, 128])",
]


@pytest.mark.parametrize("printout", SEED_PRINTOUTS)
def test_seed_chapter_shows_printout(printout):
    assert printout in outputs_text(page_soup("book/cnn-in-pytorch"))


def test_seed_chapter_names_its_device():
    assert re.search(
        r"This page runs on: (cpu|cuda)", outputs_text(page_soup("book/cnn-in-pytorch"))
    )


@pytest.mark.parametrize("activation", ["ReLU", "LeakyReLU"])
def test_seed_chapter_prints_the_four_shapes(activation):
    text = outputs_text(page_soup("book/cnn-in-pytorch"))
    expected = [
        r"input:\s+torch\.Size\(\[1, 3, 256, 256\]\)",
        r"after conv:\s+torch\.Size\(\[1, 8, 256, 256\]\)",
        rf"after {activation}:\s+torch\.Size\(\[1, 8, 256, 256\]\)",
        r"after pool:\s+torch\.Size\(\[1, 8, 128, 128\]\)",
    ]
    assert re.search(r"\s+".join(expected), text), (
        f"the four {activation} shapes are not printed in order"
    )


SEED_FIGURES = [
    "fig-input",
    "fig-conv",
    "fig-pool",
    "fig-relu",
    "fig-relu-pool",
    "fig-leaky",
    "fig-leaky-pool",
    "fig-shared-scale",
]


@pytest.mark.parametrize("figure_id", SEED_FIGURES)
def test_seed_chapter_draws_figure(figure_id):
    figure = page_soup("book/cnn-in-pytorch").find("figure", id=figure_id)
    assert figure is not None and figure.find("img") is not None, (
        f"figure {figure_id} is missing"
    )
