"""``roster.csv``: the class, in the order grades come out.

Columns ``student_id``, ``name``, ``email`` (required) and ``section``, ``sis_login_id`` (optional; the
gradebook import uses ``sis_login_id``, else the e-mail). A bad row stops with exit 2 naming the line and the
column; every student id must be a safe name (it becomes a folder), unique even ignoring letter case, and not
``reference`` (the baseline variant's row and folder).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessInputError
from harness.files import safe_name

REQUIRED = ("student_id", "name", "email")
OPTIONAL = ("section", "sis_login_id")
MAX_ROSTER_BYTES = 4 * 1024 * 1024
MAX_CELL = 256  # characters in one roster cell (a name, an e-mail, a login)
REFERENCE = "reference"  # the baseline's id: its directory under OUT (students live under OUT/students/), its row
RESERVED = frozenset({REFERENCE})  # ids the outputs use themselves


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    email: str
    section: str = ""
    sis_login_id: str = ""

    @property
    def login(self) -> str:
        return self.sis_login_id or self.email or self.student_id


def read_roster(path: str | Path) -> list[Student]:
    """The roster's students in file order (exit 2 naming file, line and column on a bad row)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HarnessInputError("roster not found", path=path) from None
    except OSError as exc:
        raise HarnessInputError(f"cannot read the roster: {exc.strerror}", path=path) from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise HarnessInputError(f"roster is over {MAX_ROSTER_BYTES:,} bytes", path=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    rows = _rows(text, path)
    if not rows:
        raise HarnessInputError("roster is empty (expected a header: student_id,name,email)", path=path)
    header = [h.strip() for h in rows[0][1]]
    for col in REQUIRED:
        if col not in header:
            raise HarnessInputError(f"missing column {col!r} (header: {', '.join(header)})", path=path, line=1)
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        raise HarnessInputError(f"unknown column {unknown[0]!r} (known: {', '.join(REQUIRED + OPTIONAL)})",
                                path=path, line=1)
    out, seen = [], {}
    for n, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise HarnessInputError(f"{len(row)} cells where the header has {len(header)}", path=path, line=n)
        rec = {h: cell.strip() for h, cell in zip(header, row)}
        for col, cell in rec.items():
            if len(cell) > MAX_CELL:
                raise HarnessInputError(f"{len(cell):,} characters, over the {MAX_CELL} a roster cell may hold",
                                        path=path, line=n, field=col)
        sid = safe_name(rec["student_id"], path=path, line=n, field="student_id")
        if sid.casefold() in RESERVED:
            raise HarnessInputError(f"student id {sid!r} is reserved (the outputs' row and folder of the course's "
                                    "baseline variant); give the student another id", path=path, line=n,
                                    field="student_id")
        if sid.casefold() in seen:
            first, line = seen[sid.casefold()]
            same = "" if first == sid else f" as {first!r} (ids that differ only in letter case are one folder)"
            raise HarnessInputError(f"student {sid!r} is also on line {line}{same}", path=path, line=n,
                                    field="student_id")
        seen[sid.casefold()] = (sid, n)
        if not rec["name"]:
            raise HarnessInputError("empty name", path=path, line=n, field="name")
        out.append(Student(sid, rec["name"], rec["email"], rec.get("section", ""), rec.get("sis_login_id", "")))
    if not out:
        raise HarnessInputError("roster has no students", path=path)
    return out


def _rows(text: str, path: Path) -> list[tuple[int, list[str]]]:
    """(line where the row starts, cells) of each CSV row. A quoted cell may hold line breaks, U+2028 and the
    like (only ``\\n``, ``\\r`` and ``\\r\\n`` end a row); a cell over the csv module's field limit is exit 2."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, start = [], 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        problem = (f"a cell over {csv.field_size_limit():,} characters" if "field larger" in str(exc)
                   else f"not valid CSV: {exc}")
        raise HarnessInputError(problem, path=path, line=start) from None
    return rows
