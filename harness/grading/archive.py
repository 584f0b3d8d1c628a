"""Staging a zip of submissions (a class, or one student's) without trusting anything in it.

Nothing is extracted with ``extractall``: each member is checked by name and header, then read in chunks and
written by this module into ``staging/<student id>/`` (a folder it owns and recreates), counting the bytes
actually decompressed, never the header's ``file_size``. What makes one student's part unsafe (an entry that
leaves its folder, a symlink or device entry, an encrypted or duplicate entry, a file over
``limits.max_file_bytes``, more than ``limits.max_files`` files or more than ``max_files * max_file_bytes``
bytes in all) makes that student invalid with a one-line reason and the batch goes on. Over
``limits.max_archive_entries`` entries or ``limits.max_archive_bytes`` decompressed bytes, nothing in the zip
can be trusted: the whole archive is refused (:class:`~harness.errors.HarnessInputError` naming the zip).

What a staged folder then holds is checked like any submission folder (``harness.grading.submission``).
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessInputError
from harness.paths import SAFE_NAME

CHUNK = 64 * 1024
# what reading a corrupt or hostile member can raise (zlib, bz2, lzma streams; headers; unsupported methods)
_UNREADABLE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, RuntimeError,
               ValueError, OSError)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def show(value: object, n: int = 40) -> str:
    """A name or value a student supplied, for a message: quoted, at most ``n`` characters of it."""
    text = str(value)
    return repr(text[:n] + "..." if len(text) > n else text)


def at(file: str, problem: str) -> str:
    """``file: problem`` on one line (control characters escaped), the file name cut to 60 characters."""
    return HarnessInputError(problem, path=file if len(file) <= 60 else file[:60] + "...").format()


def skipped(name: str) -> bool:
    """Hidden files and folders (``.DS_Store``, ``.git``) and macOS's ``__MACOSX``: skipped silently."""
    return name == "__MACOSX" or (name.startswith(".") and name not in (".", ".."))


def is_safe_id(name: object) -> bool:
    """Whether ``name`` may become a folder name (``harness.paths.safe_name``'s rule, without raising)."""
    return isinstance(name, str) and re.fullmatch(SAFE_NAME, name) is not None and ".." not in name


def case_clashes(names) -> dict[str, str]:
    """Student folders whose names differ only in letter case (``good1/`` and ``GOOD1/``): one student on a
    case-insensitive disk, and which one the roster means cannot be told. Each is refused, with a reason naming
    them all: name -> reason."""
    by_fold: dict[str, list[str]] = {}
    for name in sorted(names):
        by_fold.setdefault(name.casefold(), []).append(name)
    out = {}
    for group in (g for g in by_fold.values() if len(g) > 1):
        shown = " and ".join(show(n) for n in group)
        for name in group:
            out[name] = (f"folders {shown} differ only in letter case (one student, two submissions?); both "
                         "refused: keep one folder")
    return out


@dataclass
class Staged:
    """What staging a zip gave: a folder per student, the students refused (id -> reason), archive problems."""
    folders: dict[str, Path] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def entry_problem(parts: tuple[str, ...]) -> str | None:
    """Why an entry's path (split on ``/``) may not be written under its folder, or None."""
    if any(p in ("", ".", "..") for p in parts):
        return "has an empty, '.' or '..' path component (it would leave its folder)"
    if any(_CONTROL.search(p) for p in parts):
        return "has control characters in its name"
    if any(len(p.encode("utf-8", "surrogatepass")) > 255 for p in parts):
        return "has a name component over 255 bytes"
    return None


def _name_problem(name: str) -> str | None:
    if "\\" in name:
        return "uses backslashes (a Windows path)"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "names a drive"
    return None


def _mode_problem(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "is encrypted"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "is a symlink (refused)"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a regular file (device, fifo or socket)"
    return None


def common_top(paths: list[tuple[tuple[str, ...], bool]], known: frozenset[str], depth: int) -> str | None:
    """The one folder every entry (parts, is_dir) lies under, when it is not itself a submission folder (one
    holding a file named in ``known`` directly) and some file lies ``depth`` levels deep (3 for a class:
    ``top/<student>/<file>``, 2 for one submission); None when there is no such folder."""
    if not paths or len({p[0] for p, _ in paths}) != 1:
        return None
    top = paths[0][0][0]
    if top in ("", ".", "..") or not any(len(p) >= depth and not is_dir for p, is_dir in paths):
        return None
    if any(len(p) == 1 and not is_dir for p, is_dir in paths):
        return None
    if any(len(p) == 2 and not is_dir and p[1] in known for p, is_dir in paths):
        return None
    return top


def _refuse(zip_path: Path, problem: str) -> HarnessInputError:
    return HarnessInputError(f"{problem}; the whole archive is refused (nothing in it can be trusted)",
                             path=zip_path)


def _open_zip(zip_path: Path, limits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        zf = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise HarnessInputError("zip not found", path=zip_path) from None
    except _UNREADABLE as exc:
        raise HarnessInputError(f"not a readable zip ({type(exc).__name__})", path=zip_path) from None
    infos = zf.infolist()
    if len(infos) > limits.max_archive_entries:
        zf.close()
        raise _refuse(zip_path, f"{len(infos):,} entries, over the limit of {limits.max_archive_entries:,}")
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_archive_bytes:
        zf.close()
        raise _refuse(zip_path, f"declares {declared:,} bytes uncompressed, over the limit of "
                      f"{limits.max_archive_bytes:,}")
    return zf, infos


def stage_zip(zip_path: Path, staging: Path, limits, known: frozenset[str], single: str | None = None) -> Staged:
    """Stage a class zip (``<student_id>/...`` entries, possibly under one common top folder) or, with
    ``single`` (a safe student id), one submission's zip (its files, possibly under one folder) into
    ``staging/<student id>/``. Students sorted by id; see the module docstring for what is refused."""
    zip_path, staging = Path(zip_path), Path(staging)
    zf, infos = _open_zip(zip_path, limits)
    out = Staged()
    with zf:
        groups = _group(infos, known, single, out)
        counter = [0]  # decompressed bytes of the whole archive so far
        done: list[Path] = []
        clashes = case_clashes(groups)
        out.invalid.update(clashes)
        try:
            for sid in sorted(set(groups) - set(clashes)):
                dest = staging / sid
                done.append(dest)
                reason = _stage_student(zf, groups[sid], dest, limits, counter, zip_path)
                if reason is None:
                    out.folders[sid] = dest
                else:
                    _remove(dest)
                    out.invalid[sid] = reason
        except HarnessInputError:
            for dest in done:
                _remove(dest)
            raise
    out.folders = dict(sorted(out.folders.items()))
    out.invalid = dict(sorted(out.invalid.items()))
    return out


Entry = tuple[tuple[str, ...], zipfile.ZipInfo | None, str | None]  # (path in the folder, member, refusal)


def _group(infos: list[zipfile.ZipInfo], known: frozenset[str], single: str | None, out: Staged
           ) -> dict[str, list[Entry]]:
    """Student id -> its entries (path inside the student's folder, member, why refused); archive problems."""
    rows = []
    for info in infos:
        raw = tuple(info.filename.replace("\\", "/").split("/"))
        is_dir = info.filename.endswith(("/", "\\"))
        if is_dir:
            raw = raw[:-1]
        if any(skipped(p) for p in raw):
            continue
        rows.append((raw, is_dir, info))
    top = common_top([(r, d) for r, d, _ in rows], frozenset() if single else known, 2 if single else 3)
    groups: dict[str, list[Entry]] = {}
    if single is not None:
        groups[single] = []
    unsafe: set[str] = set()
    for raw, is_dir, info in rows:
        parts = raw[1:] if top is not None else raw
        name_problem = _name_problem(info.filename)
        if single is None:
            if not parts:
                continue
            if len(parts) == 1 and not is_dir:
                out.problems.append(f"{show(info.filename)} is not in a student folder; skipped")
                continue
            sid, parts = parts[0], parts[1:]
            if not is_safe_id(sid):
                if name_problem or sid in ("", ".", ".."):
                    out.problems.append(f"zip entry {show(info.filename)} {name_problem or 'leaves the archive'}; "
                                        "skipped")
                else:
                    unsafe.add(sid)
                continue
            if not parts:  # the student's folder entry itself
                groups.setdefault(sid, [])
                continue
        else:
            sid = single
            if not parts:
                continue
        problem = name_problem or entry_problem(parts) or _mode_problem(info)
        groups.setdefault(sid, []).append((parts, None if is_dir else info, problem))
    for sid in sorted(unsafe):
        out.problems.append(f"folder {show(sid)} is not a safe student id (letters, digits, '.', '_', '-'; no "
                            "'..'); not graded")
    return groups


def _stage_student(zf: zipfile.ZipFile, entries: list[Entry], dest: Path, limits, counter: list[int],
                   zip_path: Path) -> str | None:
    """Write one student's entries into ``dest`` (recreated); the reason the part is refused, or None."""
    entries = sorted(entries, key=lambda e: (e[0], e[1] is None))
    names = Counter("/".join(p) for p, info, _ in entries if info is not None)
    for parts, info, problem in entries:
        name = "/".join(parts)
        if problem is not None:
            return at(name, f"zip entry {problem}")
        if info is not None and names[name] > 1:
            return at(name, "zip entry appears more than once")
        if info is not None and info.file_size > limits.max_file_bytes:
            return at(name, f"{info.file_size:,} bytes, over the {limits.max_file_bytes:,}-byte limit")
    files = [(p, info) for p, info, _ in entries if info is not None]
    if len(files) > limits.max_files:
        return f"{len(files)} files, over the limit of {limits.max_files}"
    cap = limits.max_files * limits.max_file_bytes
    if sum(info.file_size for _, info in files) > cap:
        return f"over {cap:,} bytes in all"
    try:
        _remove(dest)
        dest.mkdir(parents=True)
    except OSError as exc:
        raise HarnessInputError(f"cannot create the staging folder: {exc.strerror}", path=dest) from None
    total = 0
    for parts, info in files:
        name = "/".join(parts)
        target = dest.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            return at(name, "zip entry conflicts with another (a file and a folder of one name)")
        size = 0
        try:
            with os.fdopen(fd, "wb") as sink, zf.open(info) as member:
                while chunk := member.read(CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    counter[0] += len(chunk)
                    if counter[0] > limits.max_archive_bytes:
                        raise _refuse(zip_path, f"more than {limits.max_archive_bytes:,} bytes once decompressed")
                    if size > limits.max_file_bytes:
                        return at(name, f"over the {limits.max_file_bytes:,}-byte limit once decompressed")
                    if total > cap:
                        return f"over {cap:,} bytes in all once decompressed"
                    sink.write(chunk)
        except _UNREADABLE as exc:
            return at(name, f"zip entry cannot be read (corrupt or unsupported: {type(exc).__name__})")
    return None


def _remove(path: Path) -> None:
    """Remove a staged student folder (never following a symlink out of it)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
