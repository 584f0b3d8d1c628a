"""``roster.csv``: the class, in the order grades come out. Two forms are read:

* the simple roster: columns ``student_id``, ``name``, ``email`` (required) and ``section``, ``sis_login_id``,
  ``sis_user_id``, ``canvas_id`` (optional);
* Canvas's own gradebook export, as downloaded (Grades > Export): columns ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment named ``Title (assignment id)`` and Canvas's
  read-only totals; a ``Points Possible`` row (and the other rows without a student ``ID`` that Canvas adds,
  such as ``Manual Posting``) is skipped. A student's id is then Canvas's numeric ``ID`` (unique in a course).

A submission folder belongs to a student when it is named after the student id or any of the student's Canvas
ids (``ID``, ``SIS User ID``, ``SIS Login ID``; :func:`match_folders`). A bad row stops with exit 2 naming the
line and the column; every student id must be a safe name (it becomes a folder), unique even ignoring letter
case, and not ``reference`` (the baseline variant's row and folder).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessInputError
from harness.files import read_bytes
from harness.paths import safe_name

REQUIRED = ("student_id", "name", "email")
OPTIONAL = ("section", "sis_login_id", "sis_user_id", "canvas_id")
# Canvas's gradebook export: its student columns in its order (also the order its importer expects back)
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_REQUIRED = ("Student", "ID")
CANVAS_ASSIGNMENT = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d{1,20})\)$")  # "Assignment 1 (12345)"
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
    sis_user_id: str = ""
    canvas_id: str = ""  # Canvas's numeric user ID

    @property
    def login(self) -> str:
        return self.sis_login_id or self.email or self.student_id

    @property
    def aliases(self) -> tuple[str, ...]:
        """The names a submission folder may carry for this student: the id, then Canvas's ids."""
        names = (self.student_id, self.canvas_id, self.sis_user_id, self.sis_login_id)
        return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class Roster:
    """The students in file order, the form read (``simple`` | ``canvas``) and, for a Canvas export, its
    assignment columns: title -> the column's full name (``Title (assignment id)``)."""
    students: tuple[Student, ...]
    form: str = "simple"
    assignment_columns: dict = field(default_factory=dict)

    def column_for(self, *titles: str) -> str | None:
        """The Canvas export's column of the assignment with one of these titles (case and spaces ignored)."""
        norm = {" ".join(t.split()).casefold(): col for t, col in self.assignment_columns.items()}
        return next((norm[k] for k in (" ".join(t.split()).casefold() for t in titles if t) if k in norm), None)


def read_roster(path: str | Path) -> list[Student]:
    """The roster's students in file order (exit 2 naming file, line and column on a bad row)."""
    return list(load_roster(path).students)


def load_roster(path: str | Path) -> Roster:
    """The roster file, simple or a Canvas gradebook export (see the module docstring)."""
    path = Path(path)
    rows = csv_rows(path, "roster")
    if not rows:
        raise HarnessInputError("roster is empty (expected a header: student_id,name,email)", path=path)
    header = [h.strip() for h in rows[0][1]]
    if all(c in header for c in CANVAS_REQUIRED):
        return _canvas(header, rows[1:], path)
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
        rec = _cells(header, row, path, n)
        sid = _student_id(rec["student_id"], seen, path, n, "student_id")
        if not rec["name"]:
            raise HarnessInputError("empty name", path=path, line=n, field="name")
        out.append(Student(sid, rec["name"], rec["email"], rec.get("section", ""), rec.get("sis_login_id", ""),
                           rec.get("sis_user_id", ""), rec.get("canvas_id", "")))
    return _checked(out, path)


def _cells(header: list[str], row: list[str], path: Path, n: int) -> dict[str, str]:
    rec = {h: cell.strip() for h, cell in zip(header, row)}
    for col, cell in rec.items():
        if len(cell) > MAX_CELL:
            raise HarnessInputError(f"{len(cell):,} characters, over the {MAX_CELL} a roster cell may hold",
                                    path=path, line=n, field=col)
    return rec


def _student_id(value: str, seen: dict, path: Path, n: int, column: str) -> str:
    """A checked student id: a safe name, not reserved, not on an earlier line (ignoring letter case)."""
    sid = safe_name(value, path=path, line=n, field=column)
    if sid.casefold() in RESERVED:
        raise HarnessInputError(f"student id {sid!r} is reserved (the outputs' row and folder of the course's "
                                "baseline variant); give the student another id", path=path, line=n, field=column)
    if sid.casefold() in seen:
        first, line = seen[sid.casefold()]
        same = "" if first == sid else f" as {first!r} (ids that differ only in letter case are one folder)"
        raise HarnessInputError(f"student {sid!r} is also on line {line}{same}", path=path, line=n, field=column)
    seen[sid.casefold()] = (sid, n)
    return sid


def _checked(students: list[Student], path: Path, form: str = "simple", columns: dict | None = None) -> Roster:
    """The roster, once no folder name could belong to two students (a Canvas id of one is another's id)."""
    if not students:
        raise HarnessInputError("roster has no students", path=path)
    owner: dict[str, str] = {}
    for s in students:
        for alias in s.aliases:
            other = owner.setdefault(alias.casefold(), s.student_id)
            if other != s.student_id:
                raise HarnessInputError(f"{alias!r} names two students ({other} and {s.student_id}): a submission "
                                        "folder of that name would be ambiguous", path=path)
    return Roster(tuple(students), form, dict(columns or {}))


def _canvas(header: list[str], rows: list[tuple[int, list[str]]], path: Path) -> Roster:
    """Canvas's gradebook export: students by ``ID``; rows without one (``Points Possible``) skipped."""
    columns = {}
    for h in header:
        m = CANVAS_ASSIGNMENT.match(h)
        if m and h not in CANVAS_COLUMNS:
            columns[m.group("title")] = h
    out: list[Student] = []
    seen: dict = {}
    for n, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise HarnessInputError(f"{len(row)} cells where the header has {len(header)}", path=path, line=n)
        rec = _cells(header, row + [""] * (len(header) - len(row)), path, n)
        if not rec["ID"]:  # "Points Possible", "Manual Posting" and other rows Canvas adds under the header
            continue
        if not rec["ID"].isdigit():
            raise HarnessInputError(f"{rec['ID'][:40]!r} is not a Canvas user ID (digits)", path=path, line=n,
                                    field="ID")
        sid = _student_id(rec["ID"], seen, path, n, "ID")
        if not rec["Student"]:
            raise HarnessInputError("empty name", path=path, line=n, field="Student")
        login, sis = rec.get("SIS Login ID", ""), rec.get("SIS User ID", "")
        out.append(Student(sid, rec["Student"], "", rec.get("Section", ""), login, sis, sid))
    return _checked(out, path, "canvas", columns)


def match_folders(students, found: dict, unsafe: dict) -> tuple[dict, dict, list[str]]:
    """Submission folders re-keyed by student id: a folder named after any of a student's aliases
    (:attr:`Student.aliases`) is theirs. Returns (found, unsafe, problems): two folders for one student keep the
    one named by the earlier alias and say so; a folder no student has stays under its own name."""
    owner = {a: s.student_id for s in students for a in s.aliases}  # exact: folders differing in case are two
    rank = {a: i for s in students for i, a in enumerate(s.aliases)}
    out_found: dict = {}
    out_unsafe: dict = {}
    chosen: dict[str, str] = {}
    problems: list[str] = []
    for name in sorted(set(found) | set(unsafe), key=lambda x: (rank.get(x, 0), x)):
        sid = owner.get(name, name)
        if sid in chosen:
            problems.append(f"folder {name!r} is also {sid}'s submission (as {chosen[sid]!r}); only "
                            f"{chosen[sid]!r} is graded")
            continue
        chosen[sid] = name
        if name in found:
            out_found[sid] = found[name]
        else:
            out_unsafe[sid] = unsafe[name]
    return dict(sorted(out_found.items())), dict(sorted(out_unsafe.items())), problems


def csv_rows(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of each row of a class's CSV file (a roster, submission times, extensions): at most
    :data:`MAX_ROSTER_BYTES`, UTF-8 (a byte-order mark allowed); exit 2 naming the file otherwise."""
    raw = read_bytes(path, what)
    if len(raw) > MAX_ROSTER_BYTES:
        raise HarnessInputError(f"{what} is over {MAX_ROSTER_BYTES:,} bytes", path=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    return _rows(text, path)


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
