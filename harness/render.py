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

# OWASP's CSV injection rule: a cell starting with one of these is prefixed with a quote (tab and CR included)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MD_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md_text(value: Any) -> str:
    r"""A value from a file on one line of Markdown: HTML escaped (Markdown viewers render raw HTML), new lines
    folded. Every Markdown line or cell that carries a value from a file goes through this or :func:`md_cell`.

    >>> md_text("<img src=x onerror=alert(1)>\nnext")
    '&lt;img src=x onerror=alert(1)&gt; next'
    """
    return " ".join(str(value).translate(_MD_HTML).splitlines())


def md_cell(value: Any) -> str:
    r""":func:`md_text` for a table cell: ``\`` and ``|`` escaped too.

    >>> print(md_cell("a|b <b>"))
    a\|b &lt;b&gt;
    """
    return md_text(str(value).replace("\\", "\\\\").replace("|", "\\|"))


def csv_cell(value: Any) -> Any:
    r"""A cell a spreadsheet will not run as a formula (a leading = + - @ tab or CR gets a quote), numbers as they
    are, None empty.

    >>> [csv_cell(v) for v in ["=1+1", "\t=cmd", "-3.5", None, 2]]
    ["'=1+1", "'\t=cmd", '-3.5', '', 2]
    """
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
        writer.writerow([csv_cell(h) for h in header])
        writer.writerows([[csv_cell(c) for c in row] for row in rows])
        return buf.getvalue()
    cells = [[str(c) for c in row] for row in rows]
    if fmt == "md":
        lines = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in cells])
    widths = [max(len(str(r[i])) for r in [list(header)] + cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if i >= right_align_from else v.ljust(w)
                         for i, (v, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line([str(h) for h in header]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells])
