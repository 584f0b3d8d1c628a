"""Rollback triggers over monitoring records (JSONL with an ISO ``timestamp``), each reported with the
window that fired it. Trigger kinds: ``sustained`` (a field below another minus a margin for longer than
``hours``), ``sustained_false`` (a flag false for longer than ``hours``), ``sustained_ratio`` (a field above
``factor`` x another for longer than ``hours``), ``window_mean`` (the mean over any ``hours`` window, of at least
``min_records`` records, past a
value), ``any_true`` (a flag ever true)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping, Sequence

from harness.errors import HarnessInputError
from harness.gates.criteria import OPS

Window = tuple[str, str] | None
NOT_MEASURED = "not measurable"
MAX_FIGURE = 1e15  # the largest monitoring figure (a rate, seconds, dollars) a trigger reads, either way


@dataclass(frozen=True)
class Trigger:
    id: str
    fired: bool
    window: Window
    detail: str
    measured: bool = True  # False: no record carried what the trigger reads (never read as "did not fire")


def read_monitoring(path: str | Path) -> list[dict]:
    from harness.files import iter_jsonl

    out = []
    for lineno, obj in iter_jsonl(Path(path)):
        try:
            obj["_ts"] = datetime.fromisoformat(str(obj["timestamp"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise HarnessInputError("needs an ISO 'timestamp'", path=path, line=lineno, field="timestamp") from None
        obj["_where"] = (str(path), lineno)
        if out and (out[0]["_ts"].tzinfo is None) != (obj["_ts"].tzinfo is None):
            raise HarnessInputError("mixes timestamps with and without a time zone", path=path, line=lineno,
                                    field="timestamp")
        out.append(obj)
    return sorted(out, key=lambda r: r["_ts"])


def _number(r: Mapping, f: str) -> float | None:
    """The record's field ``f`` as a number (None when absent); a non-number is named with its line."""
    v = r.get(f)
    if v is None:
        return None
    path, line = r.get("_where", (None, None))
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise HarnessInputError(f"expected a number, got {v!r}", path=path, line=line, field=f)
    if not -MAX_FIGURE <= v <= MAX_FIGURE:  # an int of 400 digits, never turned into a float
        raise HarnessInputError(f"out of range: at most {MAX_FIGURE:,.0f} either way", path=path, line=line, field=f)
    return float(v)


def _spans(records: list[dict], bad) -> list[tuple[datetime, datetime]]:
    """Maximal spans where ``bad(record)`` holds: from the first bad record to the first good one after it
    (or the last record)."""
    spans, start = [], None
    for r in records:
        b = bad(r)
        if b is None:
            continue
        if b and start is None:
            start = r["_ts"]
        elif not b and start is not None:
            spans.append((start, r["_ts"]))
            start = None
    if start is not None:
        spans.append((start, records[-1]["_ts"]))
    return spans


def _sustained(t: Mapping, records: list[dict]) -> tuple[bool, Window, str]:
    kind, f = t["kind"], t.get("field")
    hours = timedelta(hours=float(t.get("hours", 0)))

    def bad(r):
        if f not in r:
            return None
        if kind == "sustained_false":
            return r[f] is False
        value, other = _number(r, f), _number(r, t.get("below_field") if kind == "sustained" else t.get("of_field"))
        if value is None or other is None:
            return None
        return value < other - t.get("margin", 0) if kind == "sustained" else value > other * t["factor"]

    for s, e in _spans(records, bad):
        if e - s > hours:
            return True, (s.isoformat(), e.isoformat()), (f"{f} out of bounds for {(e - s).total_seconds() / 3600:.1f} h "
                                                          f"(> {hours.total_seconds() / 3600:g} h)")
    return False, None, ""


def _window_mean(t: Mapping, records: list[dict]) -> tuple[bool, Window, str]:
    """A sliding window over the time-ordered records: each record ends a window of the ``hours`` before it."""
    f, op_name = t.get("field"), t.get("op", ">")
    hours = timedelta(hours=float(t.get("hours", 0)))
    need = max(1, int(t.get("min_records", 1)))
    values = [_number(r, f) for r in records]
    left, total, count, enough = 0, 0.0, 0, False
    for i, r in enumerate(records):
        if values[i] is not None:
            total, count = total + values[i], count + 1
        while left <= i and r["_ts"] - records[left]["_ts"] >= hours:
            if values[left] is not None:
                total, count = total - values[left], count - 1
            left += 1
        enough = enough or count >= need
        if count >= need and OPS[op_name](total / count, t["value"]):
            return True, (records[left]["_ts"].isoformat(), r["_ts"].isoformat()), (
                f"mean {f} {total / count:.3f} {op_name} {t['value']} over {count} records")
    if not enough:
        return False, None, f"{NOT_MEASURED}: no {t.get('hours')} h window held {need} {f} records"
    return False, None, ""


def _any_true(t: Mapping, records: list[dict]) -> tuple[bool, Window, str]:
    f = t.get("field")
    for r in records:
        if r.get(f) is True:
            return True, (r["_ts"].isoformat(), r["_ts"].isoformat()), f"{f} reported"
    return False, None, ""


# trigger kind -> how it is evaluated; a new kind is one function here, and the keys it needs in
# harness.gates.criteria.TRIGGER_KEYS (the criteria file's shape, checked at load)
KINDS: Mapping[str, Callable[[Mapping, list], tuple[bool, Window, str]]] = {
    "sustained": _sustained, "sustained_false": _sustained, "sustained_ratio": _sustained,
    "window_mean": _window_mean, "any_true": _any_true,
}


def evaluate_rollback(triggers: Sequence[Mapping], records: list[dict]) -> list[Trigger]:
    out = []
    for t in triggers:
        kind, tid = t.get("kind"), t.get("id", "?")
        if kind not in KINDS:
            raise HarnessInputError(f"unknown trigger kind {kind!r}", field=f"rollback_triggers.{tid}")
        fired, window, detail = KINDS[kind](t, records)
        field = t.get("field")
        measured = not detail.startswith(NOT_MEASURED) and any(r.get(field) is not None for r in records)
        if not measured and not detail:
            detail = f"{NOT_MEASURED}: no record has {field}"
        out.append(Trigger(tid, fired, window, detail or "did not fire", measured))
    return out
