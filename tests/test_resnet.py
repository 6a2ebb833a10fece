import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnbook import BasicBlock, LeNet, ResNet, capture_activations


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_resnet_output_shape_and_stage_sizes():
    model = ResNet()
    x = torch.rand(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    out = capture_activations(
        model,
        x,
        ["features.stem", "features.stage1", "features.stage2", "features.stage3"],
    )
    assert [tuple(o.shape) for o in out.values()] == [
        (3, 16, 28, 28),
        (3, 16, 28, 28),
        (3, 32, 14, 14),
        (3, 64, 7, 7),
    ]


def test_resnet_parameter_count():
    def conv(cin, cout, k):
        return cin * cout * k * k

    def bn(c):
        return 2 * c

    stem = conv(1, 16, 3) + bn(16)
    stage1 = 2 * (conv(16, 16, 3) + bn(16))
    stage2 = conv(16, 32, 3) + conv(32, 32, 3) + 2 * bn(32) + conv(16, 32, 1) + bn(32)
    stage3 = conv(32, 64, 3) + conv(64, 64, 3) + 2 * bn(64) + conv(32, 64, 1) + bn(64)
    fc = 64 * 10 + 10
    assert count(ResNet()) == stem + stage1 + stage2 + stage3 + fc == 77_754


def test_resnet_options_change_width_depth_and_classes():
    model = ResNet(num_classes=3, widths=[8, 8, 24, 40], blocks=2)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 3)
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 8
    assert model.classifier.fc.in_features == 40
    out = capture_activations(model, torch.rand(2, 1, 28, 28), ["features.stage4"])
    assert out["features.stage4"].shape == (2, 40, 4, 4)
    assert count(ResNet(blocks=2)) > count(ResNet())


def test_projection_shortcuts_exactly_where_the_shape_changes():
    model = ResNet(widths=(16, 16, 32), blocks=2)
    projected = {
        name
        for name, block in model.named_modules()
        if isinstance(block, BasicBlock) and not isinstance(block.shortcut, nn.Identity)
    }
    # stage2 keeps the width but halves the size; stage3 does both
    assert projected == {"features.stage2.0", "features.stage3.0"}
    for name, block in model.named_modules():
        if isinstance(block, BasicBlock):
            changes = block.conv1.stride != (1, 1) or (
                block.conv1.in_channels != block.conv2.out_channels
            )
            assert changes == (name in projected), name


@pytest.mark.parametrize(
    ("cin", "cout", "stride", "projects"),
    [(8, 8, 1, False), (8, 16, 1, True), (8, 8, 2, True), (8, 16, 2, True)],
)
def test_basic_block_shortcut_and_shape(cin, cout, stride, projects):
    block = BasicBlock(cin, cout, stride)
    assert isinstance(block.shortcut, nn.Identity) != projects
    if projects:
        assert block.shortcut.conv.kernel_size == (1, 1)
        assert block.shortcut.conv.stride == (stride, stride)
        assert isinstance(block.shortcut.bn, nn.BatchNorm2d)
    out = block(torch.rand(2, cin, 9, 9))
    size = 9 if stride == 1 else 5
    assert out.shape == (2, cout, size, size)
    assert (out >= 0).all()


def test_basic_block_adds_its_identity_shortcut():
    block = BasicBlock(4, 4).eval()
    x = torch.rand(2, 4, 6, 6)
    # with the second batch norm's output zeroed, the block passes relu(x) through
    nn.init.zeros_(block.bn2.weight)
    assert torch.equal(block(x), torch.relu(x))
    nn.init.ones_(block.bn2.weight)
    branch = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
    assert torch.allclose(block(x), torch.relu(branch + x))


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = ResNet()
    x, y = torch.randn(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    F.cross_entropy(model(x), y).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name
        assert torch.isfinite(p.grad).all(), name


def test_resnet_is_bigger_than_lenet_but_the_same_order():
    assert 1 < count(ResNet()) / count(LeNet()) < 2


@pytest.mark.parametrize("shape", [(1, 28, 28), (2, 3, 28, 28), (2, 1, 32, 32)])
def test_resnet_rejects_other_shapes(shape):
    with pytest.raises(
        ValueError, match=r"ResNet expects images of shape \(N, 1, 28, 28\), got"
    ):
        ResNet()(torch.zeros(shape))


@pytest.mark.parametrize("shape", [(4, 8, 8), (1, 3, 8, 8)])
def test_basic_block_rejects_other_shapes(shape):
    with pytest.raises(
        ValueError, match=r"BasicBlock expects feature maps of shape \(N, 4, H, W\)"
    ):
        BasicBlock(4, 8)(torch.zeros(shape))


def test_models_want_a_tensor():
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        ResNet()([[0.0] * 28] * 28)
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        BasicBlock(1, 1)(np.zeros((1, 1, 3, 3)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_classes": 1}, ValueError, "num_classes must be an int of at least 2"),
        ({"num_classes": 10.0}, TypeError, "num_classes must be an int of at least 2"),
        ({"blocks": 0}, ValueError, "blocks must be a positive int, got 0"),
        ({"blocks": True}, TypeError, "blocks must be a positive int, got True"),
        ({"widths": ()}, ValueError, r"widths must be a non-empty tuple or list"),
        ({"widths": (16, 0)}, ValueError, r"positive ints, got \(16, 0\)"),
        ({"widths": (16, -4)}, ValueError, r"positive ints, got \(16, -4\)"),
        ({"widths": 16}, TypeError, "positive ints, got 16"),
        ({"widths": "16"}, TypeError, "positive ints, got '16'"),
        ({"widths": (16, 32.0)}, TypeError, r"positive ints, got \(16, 32.0\)"),
        ({"widths": [16, False]}, TypeError, r"positive ints, got \[16, False\]"),
    ],
)
def test_resnet_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        ResNet(**kwargs)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 4), ValueError, "in_channels must be a positive int, got 0"),
        ((4, 0), ValueError, "out_channels must be a positive int, got 0"),
        ((4, 4, 0), ValueError, "stride must be a positive int, got 0"),
        ((4.0, 4), TypeError, "in_channels must be a positive int, got 4.0"),
        ((4, "4"), TypeError, "out_channels must be a positive int, got '4'"),
        ((4, 4, (2, 2)), TypeError, r"stride must be a positive int, got \(2, 2\)"),
    ],
)
def test_basic_block_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        BasicBlock(*args)
