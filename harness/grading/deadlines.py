"""Deadlines: the assignment's ``due`` time and ``late`` policy, when each student submitted, and extensions.

Submission times (``harness grade run --times FILE``) come from:

* a CSV ``student_id,submitted_at`` (ISO 8601 with its zone; the id may be any of the student's ids, Canvas's
  included);
* Gradescope's ``submission_metadata.yml`` (the "Export Submissions" zip): per submission, ``:submitters``
  (each with ``:sid``, ``:email``, ``:name``) and ``:created_at`` (``2026-12-02 09:15:00.000000000 +00:00``);
  a submitter is matched by ``:sid`` (a student id or SIS id), else ``:email``.

Extensions (``--extensions FILE``): a CSV ``student_id`` with one of ``days``, ``hours`` (added to the due time)
or ``due`` (the student's own due time). A submission with no known time is on time, and the class summary
says how many were assumed so. Lateness is counted from the due time plus the extension: each day (or hour)
started late takes ``penalty`` points, at most ``max``; from ``cutoff_hours`` late on, the submission counts as
missing (it is not run).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from harness.errors import HarnessInputError

UNIT_S = {"day": 86_400, "hour": 3_600}
MAX_EXTENSION_DAYS = 366


@dataclass(frozen=True)
class Lateness:
    """One submitting student's standing against the deadline (plain data: ``class.json``)."""
    submitted: str | None  # ISO 8601; None: not known (on time)
    due: str  # the student's due time, the extension included
    extension: str  # "" or what was granted ("2 days", "until 2026-12-03T12:00:00+00:00")
    late_s: float  # seconds after the due time (0: on time)
    units: int  # days or hours started late
    penalty: float  # points taken
    past_cutoff: bool


def parse_time(value, *, path=None, line=None, field=None) -> datetime:
    """An aware datetime from ISO 8601 text (Ruby's ``2026-12-02 09:15:00.123456789 +00:00`` too) or a YAML
    timestamp; exit 2 when it has no zone."""
    if isinstance(value, datetime):
        t = value
    else:
        text = str(value).strip()
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # nanoseconds: Python reads six digits
        text = re.sub(r"\s+(?=[+-]\d\d:?\d\d$|Z$)", "", text)
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            raise HarnessInputError(f"{str(value)[:40]!r} is not an ISO 8601 time (2026-12-01T23:59:00+00:00)",
                                    path=path, line=line, field=field) from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise HarnessInputError(f"{str(value)[:40]!r} has no time zone (add one: +00:00, Z)", path=path, line=line,
                                field=field)
    return t


def _owners(students) -> dict[str, str]:
    out = {}
    for s in students:
        for alias in (*s.aliases, s.email):
            if alias:
                out.setdefault(alias.casefold(), s.student_id)
    return out


def read_times(path: str | Path, students) -> dict[str, datetime]:
    """Submission times by student id from a CSV or a Gradescope ``submission_metadata.yml`` (see the module
    docstring). A row of a student not on the roster is ignored; a student given twice keeps the latest time."""
    path = Path(path)
    owners = _owners(students)
    times: dict[str, datetime] = {}

    def put(who: str, t: datetime) -> None:
        sid = owners.get(who.casefold())
        if sid is not None and (sid not in times or t > times[sid]):
            times[sid] = t

    if path.suffix.lower() in (".yml", ".yaml"):
        from harness.files import read_yaml_mapping_doc

        doc = read_yaml_mapping_doc(path, "Gradescope submission metadata")
        for key, sub in doc.data.items():
            where = dict(path=path, line=doc.line((key,)), field=str(key)[:60])
            if not isinstance(sub, dict) or not isinstance(sub.get(":submitters"), list):
                raise HarnessInputError("expected a submission with :submitters and :created_at", **where)
            if sub.get(":created_at") is None:
                continue
            t = parse_time(sub[":created_at"], **{**where, "field": f"{str(key)[:60]}.:created_at"})
            for person in sub[":submitters"]:
                if isinstance(person, dict):
                    who = next((str(person[k]) for k in (":sid", ":email") if person.get(k)
                                and str(person[k]).casefold() in owners), None)
                    if who:
                        put(who, t)
        return times
    header, rows = _table(path, "submission times", ("student_id", "submitted_at"))
    for n, rec in rows:
        if rec["submitted_at"]:
            put(rec["student_id"], parse_time(rec["submitted_at"], path=path, line=n, field="submitted_at"))
    return times


def _table(path: Path, what: str, required: Sequence[str], one_of: Sequence[str] = ()):
    from harness.grading.roster import csv_rows

    rows = csv_rows(path, what)
    if not rows:
        raise HarnessInputError(f"{what} is empty (expected a header: {','.join(required)})", path=path)
    header = [h.strip() for h in rows[0][1]]
    for col in required:
        if col not in header:
            raise HarnessInputError(f"missing column {col!r} (header: {', '.join(header)})", path=path, line=1)
    if one_of and sum(c in header for c in one_of) != 1:
        raise HarnessInputError(f"give exactly one of the columns {', '.join(one_of)}", path=path, line=1)
    out = []
    for n, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise HarnessInputError(f"{len(row)} cells where the header has {len(header)}", path=path, line=n)
        out.append((n, {h: c.strip() for h, c in zip(header, row)}))
    return header, out


def read_extensions(path: str | Path, students, due: datetime) -> dict[str, tuple[datetime, str]]:
    """Each listed student's own due time and how it reads (``2 days``, ``until ...``)."""
    path = Path(path)
    owners = _owners(students)
    header, rows = _table(path, "extensions", ("student_id",), ("days", "hours", "due"))
    out = {}
    for n, rec in rows:
        sid = owners.get(rec["student_id"].casefold())
        if sid is None:
            raise HarnessInputError(f"{rec['student_id'][:40]!r} is not on the roster", path=path, line=n,
                                    field="student_id")
        if "due" in header:
            own = parse_time(rec["due"], path=path, line=n, field="due")
            out[sid] = (own, f"until {own.isoformat()}")
            continue
        col = "days" if "days" in header else "hours"
        try:
            x = float(rec[col])
        except ValueError:
            raise HarnessInputError(f"{rec[col][:40]!r} is not a number", path=path, line=n, field=col) from None
        limit = MAX_EXTENSION_DAYS * (24 if col == "hours" else 1)
        if not 0 <= x <= limit:
            raise HarnessInputError(f"must be between 0 and {limit:,}", path=path, line=n, field=col)
        out[sid] = (due + timedelta(**{col: x}), f"{x:g} {col[:-1] if x == 1 else col}")
    return out


def assess(assignment, submitted: Sequence[str], times: dict[str, datetime],
           extensions: dict[str, tuple[datetime, str]]) -> dict[str, Lateness]:
    """The lateness of each student who submitted (by id), against the assignment's due time and late policy."""
    spec = assignment.spec
    out = {}
    for sid in submitted:
        due, ext = extensions.get(sid, (spec.due, ""))
        t = times.get(sid)
        late_s = max(0.0, (t - due).total_seconds()) if t is not None else 0.0
        units, penalty, cut = 0, 0.0, False
        if spec.late is not None and late_s > 0:
            units = math.ceil(late_s / UNIT_S[spec.late.per])
            penalty = units * spec.late.penalty
            if spec.late.max is not None:
                penalty = min(penalty, spec.late.max)
            cut = spec.late.cutoff_hours is not None and late_s > spec.late.cutoff_hours * 3600
        out[sid] = Lateness(t.isoformat() if t is not None else None, due.isoformat(), ext, late_s, units,
                            round(penalty, 2), cut)
    return out


def duration(seconds: float) -> str:
    """``1 day 2 h 5 min``-style text of a duration.

    >>> duration(93_900)
    '1 day 2 h 5 min'
    """
    m = int(round(seconds / 60))
    d, rest = divmod(m, 1440)
    h, mins = divmod(rest, 60)
    parts = ([f"{d} day{'s' * (d != 1)}"] if d else []) + ([f"{h} h"] if h else []) + ([f"{mins} min"] if mins
                                                                                        else [])
    return " ".join(parts) or "under a minute"


def describe(lt: dict, spec) -> str:
    """One sentence on a student's lateness (``lt``: a :class:`Lateness` as a dict)."""
    ext = f" (extension: {lt['extension']})" if lt["extension"] else ""
    if lt["submitted"] is None:
        return f"submission time not known: counted on time{ext}"
    if lt["late_s"] <= 0:
        return f"submitted {lt['submitted']}, on time{ext}"
    text = f"submitted {lt['submitted']}, {duration(lt['late_s'])} after the due time {lt['due']}{ext}"
    if lt["past_cutoff"]:
        return text + f"; after the cut-off ({spec.late.cutoff_hours:g} h late): counted as missing"
    if spec.late is not None:
        cap = f", at most {spec.late.max:g}" if spec.late.max is not None else ""
        text += f"; {lt['units']} {spec.late.per}{'s' * (lt['units'] != 1)} started late x {spec.late.penalty:g} " \
                f"points{cap}: -{lt['penalty']:g}"
    return text


def apply(assignment, entries, names: tuple[str, ...], lateness: dict[str, dict] | None):
    """Entries with the late policy applied (a ``late`` penalty line on each graded student's grade, the total
    recomputed; past the cut-off: ``missing`` with the reason) and the line names with ``late``."""
    from harness.grading.rubric import Line, grade

    spec = assignment.spec
    if spec.due is None or lateness is None:
        return list(entries), tuple(names)
    out = []
    for e in entries:
        lt = lateness.get(e.student.student_id)
        if lt is None:
            out.append(e)
            continue
        if lt["past_cutoff"]:
            out.append(replace(e, status="missing", reason=describe(lt, spec), variant=None, grade=None))
            continue
        if e.grade is not None and spec.late is not None:
            line = Line("late", -lt["penalty"] + 0.0, 0.0, describe(lt, spec), kind="penalty")
            e = replace(e, grade=grade(spec.rubric, [*e.grade.lines, line]))
        out.append(e)
    return out, tuple(names) + (("late",) if spec.late is not None and "late" not in names else ())


def as_json(lateness: dict[str, Lateness]) -> dict[str, dict]:
    return {sid: asdict(lt) for sid, lt in lateness.items()}


def standing(assignment, entries, lateness: dict[str, dict] | None) -> dict | None:
    """The class summary's deadline figures: how many were on time, late, past the cut-off, with an extension,
    and of unknown time (assumed on time)."""
    spec = assignment.spec
    if spec.due is None or lateness is None:
        return None
    ls = [lateness[e.student.student_id] for e in entries if e.student.student_id in lateness]
    return {"due": spec.due.isoformat(), "submitted": len(ls),
            "on_time": sum(1 for x in ls if x["late_s"] <= 0 and x["submitted"] is not None),
            "late": sum(1 for x in ls if x["late_s"] > 0 and not x["past_cutoff"]),
            "past_cutoff": sum(1 for x in ls if x["past_cutoff"]),
            "unknown": sum(1 for x in ls if x["submitted"] is None),
            "extended": sum(1 for x in ls if x["extension"]),
            "penalties": round(sum(x["penalty"] for x in ls if not x["past_cutoff"]), 2)}


def read_inputs(assignment, roster, times, extensions):
    """(submission times, extensions) of ``grade run``, read before anything is written; None without a due time
    (exit 2 when times or extensions are given then)."""
    if assignment.spec.due is None:
        if times or extensions:
            raise HarnessInputError("the assignment has no due time to compare with (give due: "
                                    "2026-12-01T23:59:00+00:00 and a late: policy)", path=assignment.path,
                                    field="due")
        return None
    return (read_times(times, roster) if times else {},
            read_extensions(extensions, roster, assignment.spec.due) if extensions else {})


def assess_class(assignment, roster, found: dict, clock, info) -> dict[str, dict] | None:
    """Each submitting student's lateness (as dicts, for ``class.json``); a submission past the cut-off leaves
    ``found`` (it is not run: missing, with the reason) and is said; so is how many times were not known."""
    if clock is None:
        return None
    lateness = as_json(assess(assignment, [s.student_id for s in roster if s.student_id in found], *clock))
    for sid, lt in lateness.items():
        if lt["past_cutoff"]:
            found.pop(sid)
            info(f"{sid}: {describe(lt, assignment.spec)}")
    unknown = sum(1 for lt in lateness.values() if lt["submitted"] is None)
    if unknown:
        info(f"{unknown} submission{'s' * (unknown != 1)} with no known time: counted on time")
    return lateness
