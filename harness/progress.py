"""Progress on long work, wherever the output goes: a bar on a terminal, a line at a steady pace elsewhere.

Every long step of the harness (a run's items, building a vector index, training, judging, grading, simulating)
shows its progress through this module, so that a CI log, ``make demo > demo.log`` or a pipe shows what runs as
well as a terminal does:

- on a terminal: a tqdm bar;
- elsewhere: one line when the work starts, one every :data:`INTERVAL_S` seconds while it runs (from a
  background thread, so a single slow item still shows that the work goes on), and one when it ends. Each line
  says what runs, n of N, the time elapsed and an estimate of what is left.

Progress goes to standard error: standard output stays the command's result (a table, JSON), so
``harness run --format json > out.json`` is never mixed with progress. ``make demo`` merges the two.

>>> import io
>>> out = io.StringIO()
>>> with progress(3, "scoring", "item", stream=out) as p:
...     p.update(3)
>>> print(out.getvalue().splitlines()[0])
scoring: 0/3 items, starting
>>> out.getvalue().splitlines()[-1].startswith("scoring: 3/3 items done in ")
True
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, Iterable, Iterator, TypeVar

def _interval(text: str | None, default: float = 10.0) -> float:
    """HARNESS_PROGRESS_INTERVAL_S as a pace between 0.1 s and an hour; anything else (not a number, 0, inf):
    the default, since progress is never worth a crash or a flood of lines.

    >>> [_interval(v) for v in (None, "2", "abc", "0", "nan", "inf", "1e9")]
    [10.0, 2.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    """
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if 0.1 <= value <= 3600 else default


# a line at least this often off a terminal (HARNESS_PROGRESS_INTERVAL_S sets another pace, e.g. for a CI log)
INTERVAL_S = _interval(os.environ.get("HARNESS_PROGRESS_INTERVAL_S"))

T = TypeVar("T")


def duration(seconds: float) -> str:
    """Seconds for a person: ``45 s``, ``3 min 05 s``, ``1 h 02 min``.

    >>> [duration(s) for s in (0.4, 45, 185, 3725)]
    ['0 s', '45 s', '3 min 05 s', '1 h 02 min']
    """
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _plural(unit: str, n: int | None) -> str:
    return unit if n == 1 or unit.endswith("s") else unit + "s"


class Progress:
    """n of N units of one piece of work (N may be unknown: a phase). ``update(n)`` as units finish; ``close()``
    (or leave the ``with`` block) when it ends. Thread-safe."""

    def __init__(self, total: int | None, desc: str, unit: str = "item", *, initial: int = 0,
                 mode: str = "lines", stream: IO[str] | None = None, interval: float = INTERVAL_S) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self._initial, self._mode, self._interval = initial, mode, interval
        self._stream = stream if stream is not None else sys.stderr
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._note = ""
        self._closed = threading.Event()
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self._stream)
        elif mode == "lines":
            self._say(self._line(starting=True))
            self._thread = threading.Thread(target=self._beat, name=f"progress:{desc}", daemon=True)
            self._thread.start()

    # -- what the work calls
    def update(self, n: int = 1) -> None:
        with self._lock:
            self.n += n
        if self._bar is not None:
            self._bar.update(n)

    def note(self, text: str) -> None:
        """A short state shown beside the count (the bar's postfix; the lines end with it)."""
        with self._lock:
            self._note = text
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def write(self, line: str) -> None:
        """A message of the work's own, printed without breaking the bar."""
        if self._bar is not None:
            self._bar.write(line, file=self._stream)
        else:
            self._say(line)

    def close(self, stopped: bool = False) -> None:
        """End the work: its last line says done, or where it stopped (``stopped``: an error or an interrupt)."""
        with self._lock:  # once, whichever thread closes first
            if self._closed.is_set():
                return
            self._closed.set()
        if self._bar is not None:
            self._bar.close()
        elif self._mode == "lines":
            self._thread.join()
            self._say(self._line(done=not stopped, stopped=stopped))

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(stopped=exc_type is not None)

    # -- lines
    def _beat(self) -> None:
        while not self._closed.wait(self._interval):
            self._say(self._line())

    def _line(self, starting: bool = False, done: bool = False, stopped: bool = False) -> str:
        with self._lock:
            n, note = self.n, self._note
        elapsed = time.monotonic() - self._t0
        if self.total is None:  # a phase: no count
            return (f"{self.desc}: starting" if starting else
                    f"{self.desc}: done in {duration(elapsed)}" if done else
                    f"{self.desc}: stopped after {duration(elapsed)}" if stopped else
                    f"{self.desc}: still running, {duration(elapsed)} so far")
        count = f"{n}/{self.total} {_plural(self.unit, self.total)}"
        if stopped:
            return f"{self.desc}: stopped at {count} after {duration(elapsed)}"
        if starting:
            return f"{self.desc}: {count}" + (" already done, going on" if n else ", starting")
        if done:
            return f"{self.desc}: {count} done in {duration(elapsed)}"
        pct = f" ({100 * n / self.total:.0f}%)" if self.total else ""
        new = n - self._initial
        if new > 0:
            left = f"about {duration(elapsed / new * (self.total - n))} left"
        else:
            left = f"no estimate until the first {self.unit} is done"
        return f"{self.desc}: {count}{pct}, {duration(elapsed)} elapsed, {left}" + (f" ({note})" if note else "")

    def _say(self, line: str) -> None:
        try:
            print(line, file=self._stream, flush=True)
        except (ValueError, OSError):  # the stream went away (a closed pipe): progress is not worth a crash
            pass


def _mode(enabled: bool | None, stream: IO[str]) -> str:
    if enabled is False:
        return "off"
    isatty = getattr(stream, "isatty", None)
    return "bar" if isatty is not None and isatty() else "lines"


def progress(total: int | None, desc: str, unit: str = "item", *, initial: int = 0, enabled: bool | None = None,
             stream: IO[str] | None = None, interval: float = INTERVAL_S) -> Progress:
    """A :class:`Progress` for ``total`` units (``None``: a phase with no count). ``enabled=False``: silent;
    otherwise a bar on a terminal and lines elsewhere. ``stream``: standard error unless given."""
    stream = stream if stream is not None else sys.stderr
    return Progress(total, desc, unit, initial=initial, mode=_mode(enabled, stream), stream=stream,
                    interval=interval)


def phase(desc: str, *, enabled: bool | None = None, stream: IO[str] | None = None,
          interval: float = INTERVAL_S) -> Progress:
    """A step with no count (training, loading a model): a line at its start, a line every ``interval`` while it
    runs and one when it ends, on a terminal as elsewhere (a bar without a count says nothing)."""
    stream = stream if stream is not None else sys.stderr
    mode = "off" if enabled is False else "lines"
    return Progress(None, desc, initial=0, mode=mode, stream=stream, interval=interval)


def track(items: Iterable[T], desc: str, unit: str = "item", *, total: int | None = None,
          enabled: bool | None = None, stream: IO[str] | None = None, interval: float = INTERVAL_S) -> Iterator[T]:
    """``items`` one by one, with progress (``total`` defaults to ``len(items)``).

    >>> import io
    >>> list(track([1, 2], "adding", enabled=False))
    [1, 2]
    """
    if total is None:
        total = len(items)  # type: ignore[arg-type]
    with progress(total, desc, unit, enabled=enabled, stream=stream, interval=interval) as p:
        for it in items:
            yield it
            p.update(1)


def speed_probe(repeats: int = 3) -> float:
    """Seconds this machine takes right now for a fixed small CPU workload (matrix products and a Python loop,
    median of ``repeats``; about 0.1 s on the project's 2-core machine when idle). A busy or slow machine gives
    a larger figure: estimates scale reference timings by it.

    >>> speed_probe(1) > 0
    True
    """
    import numpy as np

    a = np.random.default_rng(0).random((160, 160))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(30):
            a = a @ a
            a /= np.abs(a).max()
        sum(i * i for i in range(150_000))
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


__all__ = ["INTERVAL_S", "Progress", "duration", "phase", "progress", "speed_probe", "track"]
