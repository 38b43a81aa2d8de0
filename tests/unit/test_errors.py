"""Every exception class of the package is defined in sdd_build/errors.py and drawn in its
tree (the module docstring), as httpx keeps its exceptions in one module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import sdd_build
from sdd_build import errors


def _modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(sdd_build.__path__, "sdd_build.")
        if m.name != "sdd_build.__main__"
    ]


def test_every_exception_class_is_defined_in_errors_py() -> None:
    outside = []
    for name in _modules():
        module = importlib.import_module(name)
        for cls_name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, BaseException)
                and cls.__module__ == name
                and name != "sdd_build.errors"
            ):
                outside.append(f"{name}.{cls_name}")
    assert outside == []


def test_every_exception_class_in_errors_py_is_drawn_in_the_tree() -> None:
    doc = errors.__doc__ or ""
    drawn = set(re.findall(r"[├└]── (\w+)", doc)) | set(re.findall(r"^    (\w+)", doc, re.M))
    defined = {
        name
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == errors.__name__
    }
    assert defined - drawn == set(), "defined in errors.py, not drawn in its docstring"
    builtin = {"ValueError", "Exception", "TimeoutError", "ConnectionError", "AssertionError"}
    assert drawn - defined == builtin, "drawn in errors.py's docstring, not defined there"
    assert defined <= set(errors.__all__)


def test_the_drawn_tree_follows_the_classes() -> None:
    """A class drawn under another is its subclass (the drawing does not lie)."""
    import builtins

    stack: list[tuple[int, type[BaseException]]] = []
    for line in (errors.__doc__ or "").splitlines():
        root = re.match(r"    (\w+)", line)
        if root:  # the root of one drawing (SddBuildError, ValueError, ...)
            stack = [(0, getattr(errors, root[1], None) or getattr(builtins, root[1]))]
            continue
        branch = re.search(r"[├└]── (\w+)", line)
        if not branch:
            continue
        column = branch.start()
        while stack[-1][0] >= column:
            stack.pop()
        cls = getattr(errors, branch[1])
        assert issubclass(cls, stack[-1][1]), f"{branch[1]} is drawn under {stack[-1][1]}"
        stack.append((column, cls))
