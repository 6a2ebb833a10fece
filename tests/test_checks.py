"""Unit tests for cnnbook._checks: each check passes good values through and raises
TypeError for a wrong type and ValueError for a wrong value, naming the argument."""

import math

import pytest
import torch

from cnnbook import _checks


def test_describe_gives_a_tensors_shape_and_any_other_values_type():
    assert _checks.describe(torch.zeros(2, 3)) == "shape (2, 3)"
    assert _checks.describe([1, 2]) == "list"
    assert _checks.describe(None) == "NoneType"


@pytest.mark.parametrize("value", [3, 0, -2])
def test_is_int_accepts_ints(value):
    assert _checks.is_int(value) is True


@pytest.mark.parametrize("value", [True, False, 3.0, "3", None, (3,)])
def test_is_int_rejects_bools_and_non_ints(value):
    assert _checks.is_int(value) is False


@pytest.mark.parametrize("value", [3, 0.5, -1.0, float("inf")])
def test_is_real_accepts_ints_and_floats(value):
    assert _checks.is_real(value) is True


@pytest.mark.parametrize("value", [True, "1", None, 1j, torch.tensor(1.0)])
def test_is_real_rejects_bools_and_non_numbers(value):
    assert _checks.is_real(value) is False


def test_positive_int():
    assert _checks.positive_int("n", 1) == 1
    with pytest.raises(ValueError, match="^n must be a positive int, got 0$"):
        _checks.positive_int("n", 0)
    with pytest.raises(TypeError, match="^n must be a positive int, got 1.0$"):
        _checks.positive_int("n", 1.0)
    with pytest.raises(TypeError, match="^n must be a positive int, got True$"):
        _checks.positive_int("n", True)


@pytest.mark.parametrize(
    ("minimum", "rule"),
    [(0, "a non-negative int"), (1, "a positive int"), (3, "an int of at least 3")],
)
def test_int_at_least_names_its_rule(minimum, rule):
    assert _checks.int_at_least("k", minimum, minimum) == minimum
    with pytest.raises(ValueError, match=f"^k must be {rule}, got {minimum - 1}$"):
        _checks.int_at_least("k", minimum - 1, minimum)
    with pytest.raises(TypeError, match=f"^k must be {rule}, got '5'$"):
        _checks.int_at_least("k", "5", minimum)


def test_int_between():
    assert _checks.int_between("q", 1, 1, 5) == 1
    assert _checks.int_between("q", 5, 1, 5) == 5
    for bad in (0, 6):
        with pytest.raises(
            ValueError, match=f"^q must be an int from 1 to 5, got {bad}$"
        ):
            _checks.int_between("q", bad, 1, 5)
    for bad in (2.0, False, None):
        with pytest.raises(TypeError, match="^q must be an int from 1 to 5, got"):
            _checks.int_between("q", bad, 1, 5)


def test_int_pair_doubles_an_int_and_passes_a_pair():
    assert _checks.int_pair("size", 4) == (4, 4)
    assert _checks.int_pair("size", (2, 5)) == (2, 5)
    assert _checks.int_pair("size", (0, -1)) == (0, -1)  # ranges are not checked


@pytest.mark.parametrize("value", [2.0, True, [2, 2], (2, 2.0), (True, 1), "22", None])
def test_int_pair_rejects_wrong_types(value):
    with pytest.raises(TypeError, match=r"^size must be an int or an \(h, w\) pair"):
        _checks.int_pair("size", value)


@pytest.mark.parametrize("value", [(), (2,), (2, 2, 2)])
def test_int_pair_rejects_tuples_of_the_wrong_length(value):
    with pytest.raises(ValueError, match=r"^size must be an int or an \(h, w\) pair"):
        _checks.int_pair("size", value)


def test_flag():
    assert _checks.flag("on", True) is True
    assert _checks.flag("on", False) is False
    for bad in (1, 0, "True", None):
        with pytest.raises(TypeError, match="^on must be True or False, got"):
            _checks.flag("on", bad)


def test_choice():
    assert _checks.choice("mode", "b", ("a", "b")) == "b"
    with pytest.raises(ValueError, match="^mode must be 'a' or 'b', got 'c'$"):
        _checks.choice("mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match="^mode must be 'a', 'b' or 'c', got 'd'$"):
        _checks.choice("mode", "d", ("a", "b", "c"))
    with pytest.raises(ValueError, match="^mode must be 'a', got 'b'$"):
        _checks.choice("mode", "b", ("a",))
    with pytest.raises(TypeError, match="^mode must be 'a' or 'b', got 1$"):
        _checks.choice("mode", 1, ("a", "b"))


def test_function():
    assert _checks.function("fn", print) is print
    with pytest.raises(TypeError, match="^fn must be callable, got int$"):
        _checks.function("fn", 3)


def test_tensor():
    x = torch.zeros(2)
    assert _checks.tensor("x", x) is x
    with pytest.raises(TypeError, match="^x must be a torch.Tensor, got list$"):
        _checks.tensor("x", [0.0, 0.0])


def test_finite_positive():
    assert _checks.finite_positive("t", 2) == 2.0
    assert isinstance(_checks.finite_positive("t", 2), float)
    for bad in (0, -1.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="^t must be a finite number above 0"):
            _checks.finite_positive("t", bad)
    for bad in ("1", True, None):
        with pytest.raises(TypeError, match="^t must be a finite number above 0"):
            _checks.finite_positive("t", bad)


def test_finite_non_negative():
    assert _checks.finite_non_negative("tol", 0) == 0.0
    assert _checks.finite_non_negative("tol", 0.5) == 0.5
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(
            ValueError, match="^tol must be a finite number of at least"
        ):
            _checks.finite_non_negative("tol", bad)
    for bad in ("0", False, None):
        with pytest.raises(TypeError, match="^tol must be a finite number of at least"):
            _checks.finite_non_negative("tol", bad)


def test_module_accepts_a_module_and_names_anything_else():
    layer = torch.nn.ReLU()
    assert _checks.module("model", layer) is layer
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module, got str$"):
        _checks.module("model", "relu")


def test_device_reads_strings_and_devices():
    assert _checks.device("device", "cpu") == torch.device("cpu")
    cpu = torch.device("cpu")
    assert _checks.device("device", cpu) is cpu
    with pytest.raises(TypeError, match="device must be a torch.device or a string"):
        _checks.device("device", 0)
    with pytest.raises(ValueError, match=r"device='gpu' is not a torch device"):
        _checks.device("device", "gpu")


def test_strings_wants_a_sequence_of_strings_not_one_string():
    _checks.strings("layers", ["conv1", "pool1"], "layer names")
    _checks.strings("layers", (), "layer names")
    with pytest.raises(TypeError, match="not a single string"):
        _checks.strings("layers", "conv1", "layer names")
    with pytest.raises(TypeError, match=r"sequence of layer names, got \['conv1', 4\]"):
        _checks.strings("layers", ["conv1", 4], "layer names")
    with pytest.raises(TypeError, match="got 4"):
        _checks.strings("layers", 4, "layer names")
