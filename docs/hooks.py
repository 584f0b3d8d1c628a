"""MkDocs hooks: text that lives at the repository's root, included in the site so it has one home.

A page line ``<!-- include: FILE -->`` is replaced by FILE (a path from the repository's root), and
``<!-- include: FILE SECTION -->`` by the lines between FILE's ``<!-- SECTION:start`` and ``<!-- SECTION:end``
markers (the README's tour, say). ``<!-- include-if-present: FILE -->`` is the same, with a line saying that
the file is not there yet when it is absent. Links and images of the included text that point into ``docs/``
are rewritten relative to the page, so ``docs/images/x.png`` in the README is ``images/x.png`` on
``docs/tour.md``; any other relative link is left as it is, and a build with ``--strict`` fails on it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = re.compile(r"^<!-- (include|include-if-present): (\S+)(?: (\S+))? -->$", re.M)
DOCS_LINK = re.compile(r"\]\(docs/([^)\s]+)\)")


def section(text: str, name: str, path: Path) -> str:
    """The lines between the ``<!-- NAME:start`` and ``<!-- NAME:end`` markers of ``text``."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"<!-- {name}:start")]
    ends = [i for i, line in enumerate(lines) if line.startswith(f"<!-- {name}:end")]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"{path}: needs one '<!-- {name}:start' line and one '<!-- {name}:end' line after it")
    return "\n".join(lines[starts[0] + 1:ends[0]])


def included(kind: str, name: str, part: str | None, page_dir: Path) -> str:
    """The text an include line stands for, its links into docs/ made relative to the page's folder."""
    path = ROOT / name
    if not path.is_file():
        if kind == "include-if-present":
            return f"# {path.stem.title()}\n\nThere is no `{name}` in this checkout yet."
        raise FileNotFoundError(f"included file {name} not found at {path}")
    text = path.read_text(encoding="utf-8")
    if part:
        text = section(text, part, path)
    rel = Path(os.path.relpath(ROOT / "docs", page_dir)).as_posix()
    return DOCS_LINK.sub(lambda m: f"]({m.group(1)})" if rel == "." else f"]({rel}/{m.group(1)})", text)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs' hook signature
    page_dir = (Path(config["docs_dir"]) / page.file.src_path).parent
    return INCLUDE.sub(lambda m: included(m.group(1), m.group(2), m.group(3), page_dir), markdown)
