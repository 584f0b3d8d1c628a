"""Tables as every command prints them: aligned plain text, Markdown or CSV, from a header and rows of cells.

>>> print(table(["metric", "a"], [["accuracy", "95.0%"], ["F1 a|b", "-"]], "md"))
| metric | a |
|---|---|
| accuracy | 95.0% |
| F1 a\\|b | - |
"""

from __future__ import annotations

import csv
import io
from typing import Any, Sequence

FORMULA_START = ("=", "+", "-", "@")


def _md_cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (a leading = + - @ gets a quote), numbers as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return "" if value is None else value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table",
          right_align_from: int = 1) -> str:
    """``fmt``: ``table`` (columns aligned; columns from ``right_align_from`` on aligned right), ``md`` or
    ``csv``."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([_csv_cell(h) for h in header])
        writer.writerows([[_csv_cell(c) for c in row] for row in rows])
        return buf.getvalue()
    cells = [[str(c) for c in row] for row in rows]
    if fmt == "md":
        lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in cells])
    widths = [max(len(str(r[i])) for r in [list(header)] + cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if i >= right_align_from else v.ljust(w)
                         for i, (v, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line([str(h) for h in header]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells])
