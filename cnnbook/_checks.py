"""Argument checks shared by cnnbook's public functions.

One rule throughout: an argument of the wrong type raises ``TypeError``, a value of the
right type that is out of range raises ``ValueError``. Each message names the argument,
says what it must be, and shows what it got.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch


def describe(value: object) -> str:
    """A short description of ``value`` for an error message: a tensor's shape, or
    the type's name for anything else."""
    if isinstance(value, torch.Tensor):
        return f"shape {tuple(value.shape)}"
    return type(value).__name__


def is_int(value: object) -> bool:
    """Whether ``value`` is an int (``True`` and ``False`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is an int or a float (``True`` and ``False`` are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(name: str, value: object) -> int:
    """``value`` if it is an int of at least 1; raise as :func:`int_at_least` does."""
    return int_at_least(name, value, 1)


def int_at_least(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an int of at least ``minimum``; raise otherwise.

    Raises ``TypeError`` for a value that is not an int and ``ValueError`` for one that
    is too small. The rule in the message reads "a positive int" for a minimum of 1
    and "a non-negative int" for 0.
    """
    rule = {0: "a non-negative int", 1: "a positive int"}.get(
        minimum, f"an int of at least {minimum}"
    )
    if not is_int(value):
        raise TypeError(f"{name} must be {rule}, got {value!r}")
    assert isinstance(value, int)
    if value < minimum:
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


def int_between(name: str, value: object, low: int, high: int) -> int:
    """``value`` if it is an int from ``low`` to ``high``; raise otherwise.

    Raises ``TypeError`` for a value that is not an int and ``ValueError`` for one
    outside the range.
    """
    rule = f"{name} must be an int from {low} to {high}, got {value!r}"
    if not is_int(value):
        raise TypeError(rule)
    assert isinstance(value, int)
    if not low <= value <= high:
        raise ValueError(rule)
    return value


def int_pair(name: str, value: object) -> tuple[int, int]:
    """``value`` as an ``(h, w)`` pair: an int ``n`` becomes ``(n, n)``.

    Raises ``TypeError`` for a value that is neither an int nor a tuple of ints, and
    ``ValueError`` for a tuple that does not hold exactly two. Ranges are not checked.
    """
    pair = (value, value) if is_int(value) else value
    rule = f"{name} must be an int or an (h, w) pair of ints, got {value!r}"
    if not isinstance(pair, tuple) or not all(is_int(v) for v in pair):
        raise TypeError(rule)
    if len(pair) != 2:
        raise ValueError(rule)
    return pair[0], pair[1]


def flag(name: str, value: object) -> bool:
    """``value`` if it is ``True`` or ``False``; ``TypeError`` if not."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def choice(name: str, value: object, options: tuple[str, ...]) -> str:
    """``value`` if it is one of the strings in ``options``; raise otherwise.

    Raises ``TypeError`` for a value that is not a str and ``ValueError`` for a str
    that is not among ``options``.
    """
    *rest, last = [repr(option) for option in options]
    listed = f"{', '.join(rest)} or {last}" if rest else last
    rule = f"{name} must be {listed}, got {value!r}"
    if not isinstance(value, str):
        raise TypeError(rule)
    if value not in options:
        raise ValueError(rule)
    return value


def function(name: str, value: object) -> Callable[..., object]:
    """``value`` if it can be called; ``TypeError`` naming its type if not."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def tensor(name: str, value: object) -> torch.Tensor:
    """``value`` if it is a ``torch.Tensor``; ``TypeError`` naming its type if not."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def finite_positive(name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number above 0; raise otherwise.

    Raises ``TypeError`` for a value that is not an int or a float and ``ValueError``
    for one that is zero, negative, infinite or NaN.
    """
    return _finite(name, value, "above 0", lambda number: number > 0)


def finite_non_negative(name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number of at least 0; raise
    otherwise, as :func:`finite_positive` does."""
    return _finite(name, value, "of at least 0", lambda number: number >= 0)


def _finite(
    name: str, value: object, rule: str, in_range: Callable[[float], bool]
) -> float:
    """``value`` as a float if it is a finite real number that is ``in_range``."""
    message = f"{name} must be a finite number {rule}, got {value!r}"
    if not is_real(value):
        raise TypeError(message)
    assert isinstance(value, (int, float))
    if not math.isfinite(value) or not in_range(value):
        raise ValueError(message)
    return float(value)


def module(name: str, value: object) -> torch.nn.Module:
    """``value`` if it is a ``torch.nn.Module``; ``TypeError`` if not."""
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def device(name: str, value: object) -> torch.device:
    """``value`` as a ``torch.device``: a device, or a string such as ``"cuda:0"``.

    Raises ``TypeError`` for anything else and ``ValueError`` for a string that torch
    does not read as a device.
    """
    if isinstance(value, torch.device):
        return value
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a torch.device or a string such as 'cpu' or 'cuda:0', "
            f"got {type(value).__name__}"
        )
    try:
        return torch.device(value)
    except RuntimeError as err:
        raise ValueError(f"{name}={value!r} is not a torch device: {err}") from None


def strings(name: str, value: object, what: str) -> None:
    """Raise ``TypeError`` unless ``value`` is a sequence of strings, such as a list.

    A single string is refused too. ``what`` names the strings in the message, for
    example ``"layer names"``.
    """
    if isinstance(value, str):
        raise TypeError(f"{name} must be a sequence of {what}, not a single string")
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a sequence of {what}, got {value!r}")
