"""The one lock of a directory the harness writes (a run directory, a grading folder, an audit folder):
:func:`hold_directory`, an OS file lock whose holder is named to a second writer."""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from harness.errors import HarnessInputError

WRITER_LOCK = ".writer.lock"
_HELD: dict[str, int] = {}  # directories this process holds (hold_directory), with depth


class DirectoryBusy(HarnessInputError):
    """Another process holds the directory (:func:`hold_directory`): never the fault of the input."""


def _open_lock(path: Path):
    """The lock file, opened without following a link and only when it is a regular file: a directory from
    someone else (a run to judge, a class to grade) cannot make the lock truncate another file."""
    import stat

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise HarnessInputError(f"cannot open the lock file ({exc.strerror}; a link is refused)", path=path) \
            from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise HarnessInputError("the lock file is not a regular file", path=path)
    return os.fdopen(fd, "r+", encoding="utf-8")


@contextmanager
def hold_directory(root: str | Path, what: str, noun: str = "run directory") -> Iterator[None]:
    """Hold ``root`` for one writer (``what`` says which command; ``noun`` what the directory is, for the
    message): the one lock of a directory the harness writes.

    An OS file lock (``flock`` on ``root/.writer.lock``): a second writer of the same directory stops at once
    with exit 2 (:class:`DirectoryBusy`) naming the holder (command, pid, host, start time); a killed
    holder's lock is released by the OS, so a resume after a kill needs nothing. Re-entrant within a process.
    """
    import fcntl

    root = Path(root)
    key = str(root.resolve())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    root.mkdir(parents=True, exist_ok=True)
    fh = _open_lock(root / WRITER_LOCK)
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise DirectoryBusy(f"another process is writing this {noun} ({holder}); wait for it to finish or choose "
                            "another --out", path=root) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{what}, pid {os.getpid()} on {socket.gethostname()}, since {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n")
    fh.flush()
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        fh.seek(0)
        fh.truncate()
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
