"""cnnbook.attribution: saliency, Grad-CAM, occlusion, effective receptive fields."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnbook import receptive_fields
from cnnbook.attribution import (
    deletion_curve,
    effective_receptive_field,
    grad_cam,
    mass_extent,
    occlusion,
    saliency,
)


class Tiny(nn.Module):
    """conv-BN-ReLU, conv, ReLU, global average pool, linear: 4 classes."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.Conv2d(6, 5, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.features(x)
        return self.classifier(a.mean(dim=(2, 3)))


def _tiny(seed: int = 0) -> Tiny:
    torch.manual_seed(seed)
    model = Tiny()
    norm = model.features[1]
    assert isinstance(norm, nn.BatchNorm2d)
    assert norm.running_mean is not None and norm.running_var is not None
    norm.running_mean.uniform_(-0.2, 0.2)  # statistics that are not 0 and 1
    norm.running_var.uniform_(0.5, 2.0)
    return model.eval()


def _x(n: int = 2, size: int = 12, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _no_hooks(model: nn.Module) -> bool:
    return all(
        not m._forward_hooks
        and not m._forward_pre_hooks
        and not m._backward_hooks
        and not m._backward_pre_hooks
        for m in model.modules()
    )


def _calls(model: nn.Module, x: torch.Tensor) -> dict[str, object]:
    return {
        "saliency": lambda: saliency(model, x, [1, 2]),
        "grad_cam": lambda: grad_cam(model, x, 3, "features.4", upsample=True),
        "occlusion": lambda: occlusion(model, x[:1], 0, 4, 4),
        "erf": lambda: effective_receptive_field(model, x, "features.2"),
        "deletion": lambda: deletion_curve(
            model, x[:1], 1, x[0, 0], [0.0, 0.5], fill=x[1:]
        ),
    }


# ---------------------------------------------------------------- saliency


def test_saliency_of_a_linear_model_is_its_weights():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 3)).eval()
    x = _x(2, 4)
    full = saliency(model, x, [2, 0], reduction="none")
    weights = model[1].weight.detach().reshape(3, 3, 4, 4)
    assert torch.allclose(full, weights[[2, 0]].abs())
    reduced = saliency(model, x, [2, 0])
    assert torch.allclose(reduced, weights[[2, 0]].abs().amax(dim=1))


def test_saliency_matches_autograd_per_image():
    model, x = _tiny(), _x()
    got = saliency(model, x, [1, 3], reduction="none")
    for i, t in enumerate([1, 3]):
        leaf = x[i : i + 1].clone().requires_grad_()
        model(leaf)[0, t].backward()
        assert torch.allclose(got[i], leaf.grad[0].abs(), atol=1e-6)
    assert not got.requires_grad


def test_saliency_of_one_int_target_explains_every_image():
    model, x = _tiny(), _x()
    assert torch.equal(saliency(model, x, 2), saliency(model, x, [2, 2]))


# ---------------------------------------------------------------- Grad-CAM


def test_grad_cam_on_the_last_layer_is_relu_of_class_weights_times_maps():
    model, x = _tiny(), _x()
    cam = grad_cam(model, x, [0, 3], "features.4")
    maps = model.features(x).detach()
    h, w = maps.shape[2:]
    weights = model.classifier.weight.detach()[[0, 3]] / (h * w)  # d score / d A
    expected = F.relu((weights[:, :, None, None] * maps).sum(dim=1))
    assert cam.shape == (2, h, w)
    assert torch.allclose(cam, expected, atol=1e-6)
    big = grad_cam(model, x, [0, 3], "features.4", upsample=True)
    assert big.shape == (2, 12, 12)
    resized = F.interpolate(expected[:, None], size=(12, 12), mode="bilinear")
    assert torch.allclose(big, resized[:, 0], atol=1e-6)


def test_grad_cam_works_when_every_parameter_is_frozen():
    model, x = _tiny(), _x()
    for p in model.parameters():
        p.requires_grad_(False)
    assert grad_cam(model, x, 1, "features.4").shape == (2, 6, 6)
    assert not any(p.requires_grad for p in model.parameters())


def test_grad_cam_names_a_missing_layer_and_a_wrong_output():
    model, x = _tiny(), _x()
    with pytest.raises(ValueError, match="no layer named 'features.9'"):
        grad_cam(model, x, 1, "features.9")
    with pytest.raises(TypeError, match="layer must be a layer name"):
        grad_cam(model, x, 1, model.features)
    with pytest.raises(ValueError, match="must run once and output"):
        grad_cam(model, x, 1, "classifier")


# ---------------------------------------------------------------- occlusion


def test_occlusion_matches_covering_each_patch_by_hand():
    model, x = _tiny(), _x(1)
    got = occlusion(model, x, 2, patch=4, stride=3, fill=0.5, batch_size=2)
    assert got.shape == (3, 3)  # positions 0, 3, 6 in 12 pixels
    with torch.no_grad():
        base = model(x).softmax(dim=1)[0, 2]
        for i, r in enumerate((0, 3, 6)):
            for j, c in enumerate((0, 3, 6)):
                covered = x.clone()
                covered[..., r : r + 4, c : c + 4] = 0.5
                drop = base - model(covered).softmax(dim=1)[0, 2]
                assert torch.isclose(got[i, j], drop, atol=1e-6)
    assert torch.allclose(got, occlusion(model, x, 2, 4, 3, 0.5, batch_size=100))


def test_occlusion_of_a_model_that_reads_one_corner():
    class Corner(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            v = x[:, 0, 0, 0]
            return torch.stack([v, -v], dim=1)

    got = occlusion(Corner().eval(), torch.ones(1, 1, 8, 8), 0, 4, 4)
    expected = torch.sigmoid(torch.tensor(2.0)) - 0.5  # softmax of (1, -1), then (0, 0)
    assert torch.isclose(got[0, 0], expected)
    assert torch.equal(got.flatten()[1:], torch.zeros(3))


# ---------------------------------------------------------------- receptive field


@pytest.mark.parametrize("strides", [(1, 1), (2, 1), (1, 2, 1)])
def test_erf_support_is_the_theoretical_field(strides):
    torch.manual_seed(0)
    layers = [nn.Conv2d(1, 1, 3, stride=s, padding=1) for s in strides]
    for layer in layers:
        nn.init.uniform_(layer.weight, 0.5, 1.0)  # no cancellation
    model = nn.Sequential(*layers).eval()
    footprint = effective_receptive_field(
        model, torch.ones(2, 1, 33, 33), "2" if len(strides) == 3 else "1"
    )
    field, _ = receptive_fields([(3, s) for s in strides])[-1]
    rows = footprint.sum(dim=1).nonzero().flatten()
    cols = footprint.sum(dim=0).nonzero().flatten()
    assert len(rows) == len(cols) == field
    assert mass_extent(footprint, 1.0) == field


def test_erf_stops_after_the_layer():
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.conv(x)
            raise RuntimeError("never reached")

    model = Broken().eval()
    assert effective_receptive_field(model, torch.ones(1, 1, 5, 5), "conv").shape == (
        5,
        5,
    )
    assert _no_hooks(model)


def test_erf_names_a_layer_that_does_not_run():
    model = _tiny()
    with pytest.raises(ValueError, match="must run and output"):
        effective_receptive_field(model, _x(), "classifier")


# ---------------------------------------------------------------- mass_extent


def test_mass_extent_of_squares_and_points():
    point = torch.zeros(9, 9)
    point[4, 4] = 1.0
    assert mass_extent(point) == 1
    square = torch.zeros(9, 9)
    square[2:7, 2:7] = 1.0
    assert mass_extent(square, 1.0) == 5
    assert mass_extent(square, 9 / 25) == 3
    assert mass_extent(square, 0.37) == 5
    assert mass_extent(square, 0.5, centre=(0, 0)) == 11  # 4 x 4 of it, 16 of 25
    assert mass_extent(square, 1.0, centre=(8, 8)) == 13


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"footprint": [[1.0]]}, TypeError, "footprint must be a torch.Tensor"),
        ({"footprint": torch.ones(3)}, ValueError, "2-D floating-point"),
        ({"footprint": torch.ones(3, 3, dtype=torch.long)}, ValueError, "2-D"),
        ({"footprint": -torch.ones(3, 3)}, ValueError, "non-negative"),
        ({"footprint": torch.zeros(3, 3)}, ValueError, "positive sum"),
        ({"fraction": 0.0}, ValueError, "fraction must be a finite number"),
        ({"fraction": 1.5}, ValueError, "fraction must be at most 1"),
        ({"fraction": "all"}, TypeError, "fraction must be a finite number"),
        ({"centre": (5, 0)}, ValueError, "lies outside"),
        ({"centre": 1.0}, TypeError, "centre must be an int or an"),
    ],
)
def test_mass_extent_rejects_bad_input(kwargs, error, message):
    args = {"footprint": torch.ones(3, 3), **kwargs}
    with pytest.raises(error, match=message):
        mass_extent(**args)


# ---------------------------------------------------------------- deletion


def test_deletion_curve_removes_the_top_ranked_pixels():
    model, x = _tiny(), _x(1)
    ranking = torch.arange(144.0).reshape(12, 12)
    got = deletion_curve(model, x, 1, ranking, [0.0, 0.25, 1.0], fill=0.0)
    with torch.no_grad():
        p = model(x).softmax(dim=1)[0, 1]
        quarter = x.clone()
        quarter.view(1, 3, -1)[..., 144 - 36 :] = 0.0  # the highest 36 ranks
        p_quarter = model(quarter).softmax(dim=1)[0, 1]
        p_all = model(torch.zeros_like(x)).softmax(dim=1)[0, 1]
    assert torch.allclose(got, torch.stack([p, p_quarter, p_all]), atol=1e-6)


def test_deletion_curve_takes_removed_pixels_from_a_fill_image():
    model, x = _tiny(), _x(1)
    other = _x(1, seed=5)
    got = deletion_curve(model, x, 0, torch.rand(12, 12), [1.0], fill=other)
    with torch.no_grad():
        assert torch.isclose(got[0], model(other).softmax(dim=1)[0, 0], atol=1e-6)


# ------------------------------------------------------- the model is left alone


@pytest.mark.parametrize(
    "name", ["saliency", "grad_cam", "occlusion", "erf", "deletion"]
)
def test_calls_leave_no_hooks_flags_or_gradients(name):
    model, x = _tiny(), _x()
    model.classifier.weight.requires_grad_(False)
    flags = [p.requires_grad for p in model.parameters()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    _calls(model, x)[name]()
    assert _no_hooks(model)
    assert not model.training
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


@pytest.mark.parametrize(
    "name", ["saliency", "grad_cam", "occlusion", "erf", "deletion"]
)
def test_hooks_are_removed_when_the_call_fails(name):
    model, x = _tiny(), _x()
    model.classifier = nn.Linear(7, 4)  # the wrong width: the forward pass fails
    model.eval()
    with pytest.raises(RuntimeError):
        if name == "erf":  # stops before the classifier: make the layer fail instead
            model.features[3] = nn.Conv2d(5, 5, 3)
            effective_receptive_field(model, x, "features.4")
        else:
            _calls(model, x)[name]()
    assert _no_hooks(model)


def test_grad_cam_removes_its_hook_when_the_target_is_out_of_range():
    model = _tiny()
    with pytest.raises(ValueError, match="target 9 is out of range: the model has 4"):
        grad_cam(model, _x(), 9, "features.4")
    assert _no_hooks(model)


@pytest.mark.parametrize(
    "name", ["saliency", "grad_cam", "occlusion", "erf", "deletion"]
)
def test_a_model_in_training_mode_is_refused_and_left_so(name):
    model, x = _tiny(), _x()
    model.train()
    with pytest.raises(ValueError, match="model is in training mode; call model.eval"):
        _calls(model, x)[name]()
    assert model.training


# ---------------------------------------------------------------- bad arguments

GOOD = {"model": _tiny(), "x": _x(1), "target": 1}


@pytest.mark.parametrize(
    ("function", "kwargs", "error", "message"),
    [
        (saliency, {"model": "net"}, TypeError, "model must be a torch.nn.Module"),
        (saliency, {"x": [1.0]}, TypeError, "x must be a torch.Tensor, got list"),
        (saliency, {"x": torch.ones(3, 4, 4)}, ValueError, r"\(N, C, H, W\)"),
        (saliency, {"x": torch.ones(0, 3, 4, 4)}, ValueError, "non-empty batch"),
        (
            saliency,
            {"x": torch.ones(1, 3, 4, 4, dtype=torch.long)},
            TypeError,
            "floating-point",
        ),
        (saliency, {"target": 1.0}, TypeError, "target must be an int or a sequence"),
        (saliency, {"target": "cat"}, TypeError, "target must be an int or a sequence"),
        (saliency, {"target": [1.0]}, TypeError, "target must be an int or a sequence"),
        (saliency, {"target": [1, 2]}, ValueError, r"one class index per image \(1\)"),
        (saliency, {"target": -1}, ValueError, "class indices of at least 0"),
        (saliency, {"target": 4}, ValueError, "target 4 is out of range"),
        (saliency, {"reduction": "mean"}, ValueError, "reduction must be 'max' or"),
        (
            grad_cam,
            {"layer": "features.4", "upsample": 1},
            TypeError,
            "upsample must be True or False",
        ),
        (
            occlusion,
            {"x": _x(2), "patch": 4, "stride": 4},
            ValueError,
            "x must hold one image",
        ),
        (
            occlusion,
            {"target": [1], "patch": 4, "stride": 4},
            TypeError,
            "target must be an int",
        ),
        (occlusion, {"patch": 0, "stride": 4}, ValueError, "patch must be a positive"),
        (
            occlusion,
            {"patch": 4, "stride": 2.0},
            TypeError,
            "stride must be a positive",
        ),
        (occlusion, {"patch": 13, "stride": 4}, ValueError, r"patch \(13\) must fit"),
        (
            occlusion,
            {"patch": 4, "stride": 4, "fill": "grey"},
            TypeError,
            "fill must be a number",
        ),
        (
            occlusion,
            {"patch": 4, "stride": 4, "batch_size": 0},
            ValueError,
            "batch_size must be a positive",
        ),
        (
            effective_receptive_field,
            {"target": None, "layer": 3},
            TypeError,
            "layer must be a layer name",
        ),
        (
            deletion_curve,
            {"target": 1.5, "ranking": torch.ones(12, 12), "fractions": [0.1]},
            TypeError,
            "target must be an int",
        ),
        (
            deletion_curve,
            {"ranking": [1], "fractions": [0.1]},
            TypeError,
            "ranking must be a torch.Tensor",
        ),
        (
            deletion_curve,
            {"ranking": torch.ones(4, 4), "fractions": [0.1]},
            ValueError,
            r"ranking must be \(12, 12\)",
        ),
        (
            deletion_curve,
            {"ranking": torch.ones(12, 12), "fractions": 0.1},
            TypeError,
            "fractions must be a sequence",
        ),
        (
            deletion_curve,
            {"ranking": torch.ones(12, 12), "fractions": ["a"]},
            TypeError,
            "fractions must be a sequence",
        ),
        (
            deletion_curve,
            {"ranking": torch.ones(12, 12), "fractions": []},
            ValueError,
            "fractions must be numbers from 0 to 1",
        ),
        (
            deletion_curve,
            {"ranking": torch.ones(12, 12), "fractions": [1.5]},
            ValueError,
            "fractions must be numbers from 0 to 1",
        ),
        (
            deletion_curve,
            {"ranking": torch.ones(12, 12), "fractions": [0.1], "fill": "blur"},
            TypeError,
            "fill must be a number or a",
        ),
        (
            deletion_curve,
            {
                "ranking": torch.ones(12, 12),
                "fractions": [0.1],
                "fill": torch.ones(3, 12, 12),
            },
            ValueError,
            "fill must be a number or an image",
        ),
    ],
)
def test_bad_arguments_are_named(function, kwargs, error, message):
    args = {**GOOD, **kwargs}
    if function is effective_receptive_field:
        args.pop("target")
    with pytest.raises(error, match=message):
        function(**args)


def test_a_model_that_returns_no_scores_is_named():
    model = nn.Identity().eval()
    with pytest.raises(ValueError, match=r"must return a \(N, classes\) tensor"):
        saliency(model, _x(1), 0)


def test_a_layer_that_returns_a_tuple_is_named():
    class Pair(nn.Module):
        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return x, x

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pair = Pair()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.pair(x)[0].mean(dim=(2, 3))

    model = Model().eval()
    with pytest.raises(ValueError, match="the layer must output a tensor, got tuple"):
        grad_cam(model, _x(1), 0, "pair")
    assert _no_hooks(model)
