"""Public names of a package imported when first asked for (PEP 562), so that ``import metrics`` or ``import
harness`` costs nothing until a name is used: one home for the ``__getattr__``/``__dir__`` pair both packages use.

>>> getattr_, dir_ = lazy_exports("demo", {"sqrt": "math"}, {})
>>> getattr_("sqrt")(9.0), "sqrt" in dir_()
(3.0, True)
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict) -> tuple[Callable[[str], Any],
                                                                                    Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each public name to the module defining it;
    a name once imported is kept in ``namespace`` (the package's globals)."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
