"""What a student ran: ``harness grade check`` appends one JSON line per self-check to a per-student log (by
default ``check-log.jsonl`` in its ``--out`` folder): when, the submission's digest and the dev-split result.
An instructor who collects the logs (``harness grade run --check-logs DIR``: one ``<student id>.jsonl`` per
student, any of the student's ids) sees in the class summary how many checks each student ran.

The log is the student's own file: it tells the instructor how the student worked, it proves nothing (a
student may edit it), and no grade depends on it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from harness.errors import HarnessInputError

LOG = "check-log.jsonl"
MAX_LOG_BYTES = 4 * 1024 * 1024


def check_record(sub_sha256: str, assignment, grade) -> dict:
    """One log line: the time (UTC), the assignment, the submission's digest and the dev-split points."""
    return {"at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(), "assignment": assignment.spec.name,
            "submission_sha256": sub_sha256, "split": "dev", "total": grade.total, "max_grade": grade.max_grade,
            "lines": {line.name: line.points for line in grade.lines}}


def append_check(log: Path, record: dict) -> Path:
    """Append ``record`` to the log (created with its folder when absent); earlier lines are never rewritten."""
    from harness.files import dumps_json

    log = Path(log)
    if log.is_dir():
        raise HarnessInputError("is a folder; the check log is a file", path=log, field="--log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(dumps_json(record) + "\n")
    return log


def read_check_logs(folder: str | Path, students, assignment_name: str) -> dict[str, dict]:
    """Per roster student with a log in ``folder``: ``{checks, last, best}`` (checks of this assignment, the last
    one's time, the best dev total). A log of no roster student is skipped; an unreadable line is exit 2."""
    from harness.files import loads_json

    folder = Path(folder)
    if not folder.is_dir():
        raise HarnessInputError("not a folder of check logs (<student id>.jsonl)", path=folder, field="--check-logs")
    owners = {a.casefold(): s.student_id for s in students for a in (*s.aliases, s.email) if a}
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("*.jsonl")):
        sid = owners.get(path.stem.casefold())
        if sid is None or path.is_symlink() or not path.is_file():
            continue
        if path.stat().st_size > MAX_LOG_BYTES:
            raise HarnessInputError(f"over {MAX_LOG_BYTES:,} bytes", path=path)
        entry = out.setdefault(sid, {"checks": 0, "last": None, "best": None})
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            rec = loads_json(line, path=path, line=n)
            if not isinstance(rec, dict) or rec.get("assignment") != assignment_name:
                continue
            entry["checks"] += 1
            at, total = rec.get("at"), rec.get("total")
            if isinstance(at, str) and (entry["last"] is None or at > entry["last"]):
                entry["last"] = at[:40]
            if isinstance(total, (int, float)) and not isinstance(total, bool):
                entry["best"] = total if entry["best"] is None else max(entry["best"], total)
    return out
