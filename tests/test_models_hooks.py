import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnbook import LeNet, capture_activations, layer_summary


def test_lenet_output_and_layer_names():
    model = LeNet()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    names = [name for name, _ in model.named_modules()]
    for name in ["features.conv1", "features.pool2", "classifier.fc3"]:
        assert name in names


@pytest.mark.parametrize("shape", [(1, 28, 28), (2, 3, 28, 28), (2, 1, 32, 32)])
def test_lenet_rejects_other_shapes(shape):
    with pytest.raises(
        ValueError, match=r"LeNet expects images of shape \(N, 1, 28, 28\)"
    ):
        LeNet()(torch.zeros(shape))


@pytest.mark.parametrize(
    ("num_classes", "error"),
    [(1, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)],
)
def test_lenet_num_classes(num_classes, error):
    with pytest.raises(error, match="num_classes must be an int of at least 2, got"):
        LeNet(num_classes)


def test_lenet_accepts_two_classes():
    assert LeNet(2)(torch.zeros(1, 1, 28, 28)).shape == (1, 2)


def test_lenet_wants_a_tensor():
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        LeNet()([[0.0] * 28] * 28)


def test_capture_returns_the_named_outputs_and_removes_its_hooks():
    model = LeNet()
    x = torch.rand(3, 1, 28, 28)
    out = capture_activations(model, x, ["features.relu1", "features.pool2"])
    assert list(out) == ["features.relu1", "features.pool2"]
    assert out["features.relu1"].shape == (3, 6, 28, 28)
    assert out["features.pool2"].shape == (3, 16, 5, 5)
    assert torch.equal(out["features.relu1"], model.features[:2](x).detach())
    assert not out["features.pool2"].requires_grad
    assert all(not m._forward_hooks for m in model.modules())


def test_capture_removes_hooks_when_the_forward_pass_fails():
    model = LeNet()
    with pytest.raises(ValueError, match="LeNet expects"):
        capture_activations(model, torch.zeros(1, 3, 28, 28), ["features.conv1"])
    assert all(not m._forward_hooks for m in model.modules())


def test_capture_names_unknown_layers():
    with pytest.raises(
        ValueError,
        match=(
            r"no layer named 'features.conv9'; "
            r"the model has: features, features.conv1"
        ),
    ):
        capture_activations(LeNet(), torch.zeros(1, 1, 28, 28), ["features.conv9"])


@pytest.mark.parametrize(
    ("model", "layers", "message"),
    [
        (lambda x: x, ["a"], "model must be a torch.nn.Module"),
        (LeNet(), "features.conv1", "not a single string"),
        (LeNet(), ["features.conv1", 4], r"sequence of layer names, got \['features"),
        (LeNet(), None, "sequence of layer names, got None"),
        (LeNet(), {"features.conv1"}, "sequence of layer names, got {"),
    ],
)
def test_capture_rejects_bad_arguments(model, layers, message):
    with pytest.raises(TypeError, match=message):
        capture_activations(model, torch.zeros(1, 1, 28, 28), layers)


def test_layer_summary_matches_a_forward_pass():
    model = LeNet()
    x = torch.rand(2, 1, 28, 28)
    rows = layer_summary(model, x)
    assert [r.name for r in rows][:3] == [
        "features.conv1",
        "features.relu1",
        "features.pool1",
    ]
    assert rows[-1].output_shape == tuple(model(x).shape)
    assert rows[0].kind == "Conv2d" and rows[0].parameters == 6 * 1 * 5 * 5 + 6
    assert sum(r.parameters for r in rows) == sum(p.numel() for p in model.parameters())
    by_name = {r.name: r.output_shape for r in rows}
    assert by_name["features.pool2"] == (2, 16, 5, 5) and by_name[
        "classifier.flatten"
    ] == (2, 400)
    assert all(not m._forward_hooks for m in model.modules())


def test_layer_summary_of_a_plain_sequential():
    rows = layer_summary(
        nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), torch.zeros(1, 3, 8, 8)
    )
    assert [(r.name, r.kind, r.output_shape) for r in rows] == [
        ("0", "Conv2d", (1, 4, 6, 6)),
        ("1", "ReLU", (1, 4, 6, 6)),
    ]


def test_capture_wants_a_tensor():
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        capture_activations(
            LeNet(),
            np.zeros((1, 1, 28, 28)),
            ["features.conv1"],
        )


def test_layer_summary_rejects_a_non_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        layer_summary("LeNet", torch.zeros(1))


def test_layer_summary_wants_a_tensor():
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        layer_summary(LeNet(), [0.0])
