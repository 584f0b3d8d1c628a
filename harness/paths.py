"""Paths the harness takes from its users and its inputs: names that become files or folders
(:func:`safe_name`), the folders and files it may write (:func:`out_dir`, :func:`out_file`) and the source
checkout it runs from (:func:`checkout_root`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import HarnessInputError


# ---------------------------------------------------------------------------------------------- names
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


def safe_name(value: Any, *, path: str | os.PathLike | None = None, line: int | None = None,
              field: str | None = None) -> str:
    """``value`` if it may become a file or directory name, else exit 2 naming where it came from.

    One pattern for every name that becomes a path (golden-set name, run id, variant, student id, scenario):
    letters, digits, ``.``, ``_``, ``-``; starts with a letter or digit; no ``..``; at most 100 characters.

    >>> safe_name("techcorp-2024.1")
    'techcorp-2024.1'
    >>> safe_name("../../tmp/x", path="manifest.yaml", field="name")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    harness.errors.HarnessInputError: manifest.yaml: name: '../../tmp/x' cannot be used as a name: ...
    """
    import re

    if not isinstance(value, str) or not re.fullmatch(SAFE_NAME, value) or ".." in value:
        raise HarnessInputError(f"{value!r} cannot be used as a name: use letters, digits, '.', '_' and '-' "
                                "(starting with a letter or digit, no '..', at most 100 characters)",
                                path=path, line=line, field=field)
    return value


# ---------------------------------------------------------------------------------------------- checkout
def checkout_root() -> Path | None:
    """The source checkout this code runs from (an editable install, ``PYTHONPATH``, an unpacked sdist), or
    None when it runs from an installed wheel: what belongs to a checkout (its ``artifacts/``, its git commit)
    is never looked for in, nor written to, site-packages.

    >>> checkout_root() is None or (checkout_root() / "pyproject.toml").is_file()
    True
    """
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


# ---------------------------------------------------------------------------------------------- outputs
def out_file(path: str | os.PathLike, *, field: str = "--out") -> Path:
    """``path`` as a file the harness may write: exit 2 when it names a directory or something that is not a
    regular file (a FIFO, a device: the write would replace it), or when something on the way to it is a file
    (the one check every file-writing ``--out`` goes through; :func:`harness.pages.write_page` calls it). A link
    to a regular file is followed: its target is written.

    >>> out_file("results/report.html")
    PosixPath('results/report.html')
    >>> out_file(".")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    harness.errors.HarnessInputError: .: --out: is a directory: name a file to write, e.g. ...
    """
    p = Path(path)
    if p.is_dir():
        raise HarnessInputError(f"is a directory: name a file to write, e.g. {p / 'report.html'}", path=p,
                                field=field)
    if p.exists() and not p.is_file():
        raise HarnessInputError("is not a regular file (a device, a pipe): name a file to write, or leave --out "
                                "out to print", path=p, field=field)
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise HarnessInputError(f"{parent} is a file, not a folder", path=p, field=field)
    return p.resolve() if p.is_symlink() else p


def out_dir(path: str | os.PathLike, *, field: str = "--out") -> Path:
    """``path`` as a folder the harness may write into: exit 2 when it is an existing file (or under one).

    >>> out_dir("results/run-1")
    PosixPath('results/run-1')
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise HarnessInputError("is a file: name a folder to write into", path=p, field=field)
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise HarnessInputError(f"{parent} is a file, not a folder", path=p, field=field)
    return p
