"""cnnbook's public API is documented: every parameter, and the package's module index.

Docstrings follow the Google style that Sphinx's napoleon extension renders (as in
torchvision): an ``Args:`` section with one ``name: what it is`` entry per parameter
(``Attributes:`` for a dataclass's fields).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable, Iterator

import pytest

import cnnbook

SECTION = re.compile(r"^(Args|Arguments|Parameters|Attributes):\s*$")
ENTRY = re.compile(r"^\s{4}(\*{0,2}\w+)(?: \([^)]*\))?:")


def documented_names(doc: str, section: str) -> set[str]:
    """The entries of a Google-style section (``Args`` or ``Attributes``)."""
    names: set[str] = set()
    inside = False
    for line in inspect.cleandoc(doc).splitlines():
        header = SECTION.match(line)
        if header:
            inside = header[1] == section or (
                section == "Args" and header[1] in ("Arguments", "Parameters")
            )
            continue
        if inside and line and not line.startswith(" "):
            inside = False  # the next section or paragraph
        if inside and (entry := ENTRY.match(line)):
            names.add(entry[1].lstrip("*"))
    return names


def public_callables() -> Iterator[tuple[str, Callable[..., object], str]]:
    """(qualified name, callable, section) for each public function and method."""
    for name in cnnbook.__all__:
        obj = getattr(cnnbook, name)
        if inspect.isfunction(obj):
            yield name, obj, "Args"
        elif inspect.isclass(obj):
            if dataclasses.is_dataclass(obj):
                yield name, obj, "Attributes"
            elif "__init__" in vars(obj):
                yield name, obj, "Args"
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    yield f"{name}.{attr}", member, "Args"


def parameters(obj: Callable[..., object], section: str) -> list[str]:
    """The parameters a docstring must name (``self`` and ``cls`` excepted)."""
    if section == "Attributes":
        assert dataclasses.is_dataclass(obj)
        return [field.name for field in dataclasses.fields(obj)]
    target = obj.__init__ if inspect.isclass(obj) else obj
    return [
        name
        for name in inspect.signature(target).parameters
        if name not in ("self", "cls")
    ]


CALLABLES = list(public_callables())
MODULES = sorted(
    {obj.__module__ for _, obj, _ in CALLABLES if obj.__module__.startswith("cnnbook.")}
)


@pytest.mark.parametrize(
    ("name", "obj", "section"), CALLABLES, ids=[c[0] for c in CALLABLES]
)
def test_every_parameter_is_documented(name, obj, section):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    wanted = parameters(obj, section)
    missing = [p for p in wanted if p not in documented_names(doc, section)]
    assert not missing, f"{name}: no {section}: entry for {missing}"


def test_the_checker_finds_a_missing_entry():
    doc = """Do it.

    Args:
        x: the input.
        y (int): the other one.

    Returns:
        z: not an argument.
    """
    assert documented_names(doc, "Args") == {"x", "y"}
    assert documented_names(doc, "Attributes") == set()


def test_module_index_lists_every_public_name_under_its_module():
    doc = cnnbook.__doc__ or ""
    listed: dict[str, str] = {}
    for module, names in re.findall(
        r"^- :mod:`([\w.]+)`: (.*?)(?=^- |\Z)", doc, re.M | re.S
    ):
        for name in re.findall(r":(?:func|class|data):`(\w+)`", names):
            assert name not in listed, f"{name} is listed twice"
            listed[name] = module
    assert sorted(listed) == sorted(cnnbook.__all__)
    for name, module in listed.items():
        obj = getattr(cnnbook, name)
        home = (
            obj.__module__
            if inspect.isfunction(obj) or inspect.isclass(obj)
            else next(m for m in MODULES if name in vars(importlib.import_module(m)))
        )
        assert home == module, f"{name} is listed under {module}, defined in {home}"
