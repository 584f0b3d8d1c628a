"""Canvas's submissions download (Assignments > Download Submissions, unzipped): one flat folder whose files
Canvas renamed ``<name>_<user id>_<submission id>_<original name>``, with ``late_`` before the user id when Canvas
counted the submission late and ``-<n>`` before the extension of a resubmitted file (the convention described
by e.g. github.com/TimHanneman/Canvas_submission_sort). :func:`stage_download` copies each file to
``<user id>/<original name>`` so the class reads like any other (a folder per student, matched to the roster by
Canvas's ``ID``). The names carry no time: give Canvas's submission times with ``--times``.
"""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

CANVAS_NAME = re.compile(r"^(?P<name>[^_/]+)_(?:(?P<late>late|LATE)_)?(?P<uid>\d{1,20})_(?P<sub>\d{1,20})_"
                         r"(?P<file>[^/]+)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+)-\d{1,4}(?P<ext>\.[A-Za-z0-9]+)$")


def is_download(folder: Path) -> bool:
    """A folder of Canvas-renamed files only (no sub-folders, at least one file named the Canvas way)."""
    try:
        entries = [p for p in Path(folder).iterdir() if not p.name.startswith(".")]
    except OSError:
        return False
    return bool(entries) and all(p.is_file() and not p.is_symlink() for p in entries) and \
        any(CANVAS_NAME.match(p.name) for p in entries)


def original_name(name: str, known: frozenset[str]) -> str:
    """The file's own name: Canvas's resubmission suffix removed when that gives a name a submission holds.

    >>> original_name("classify-1.yaml", frozenset({"classify.yaml"}))
    'classify.yaml'
    """
    m = RESUBMITTED.match(name)
    return m.group("stem") + m.group("ext") if m and m.group("stem") + m.group("ext") in known else name


def stage_download(folder: Path, staging: Path, max_file_bytes: int, known: frozenset[str]
                   ) -> tuple[Path, set[str], list[str]]:
    """Copy a Canvas download into ``staging/<user id>/<file>``; returns (the staged class folder, the user ids
    Canvas marked late, problems: files not named the Canvas way or over the size limit, never graded). Of two
    files that become one name (a resubmission), the later submission id wins."""
    out = Path(staging) / "canvas"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    late: set[str] = set()
    problems: list[str] = []
    chosen: dict[tuple[str, str], int] = {}
    for p in sorted(Path(folder).iterdir()):
        if p.name.startswith("."):
            continue
        m = CANVAS_NAME.match(p.name)
        st = p.lstat()
        if m is None or not stat.S_ISREG(st.st_mode):
            problems.append(f"{p.name[:60]!r} is not a file named the way Canvas names a submission's; skipped")
            continue
        if st.st_size > max_file_bytes:
            problems.append(f"{p.name[:60]!r} is over {max_file_bytes:,} bytes; skipped")
            continue
        uid, name, sub = m.group("uid"), original_name(m.group("file"), known), int(m.group("sub"))
        if chosen.get((uid, name), -1) > sub:
            continue
        chosen[(uid, name)] = sub
        (out / uid).mkdir(exist_ok=True)
        shutil.copyfile(p, out / uid / name)
        if m.group("late"):
            late.add(uid)
    return out, late, problems


def class_folder(source: Path, out: Path, assignment) -> tuple[Path, set[str], list[str]]:
    """(the class folder, the user ids Canvas marked late, problems): a Canvas submissions download is staged as
    a folder per user id under ``OUT/staging/canvas``; anything else is read as it is."""
    from harness.grading.submission import SUBMISSION_FILES

    source = Path(source)
    if source.is_dir() and is_download(source):
        return stage_download(source, Path(out) / "staging", assignment.spec.limits.max_file_bytes,
                              SUBMISSION_FILES)
    return source, set(), []
