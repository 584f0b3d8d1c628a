"""A page's plots drawn at once (:class:`Figures`): asked for one by one while the page is put together, then
drawn in a second process beside the page's statistics when the runs are big, or here."""

from __future__ import annotations

from harness.pages import Plot, plots

DRAWING_TIMEOUT_S = 600  # a second process still drawing after this long is stopped; the plots are drawn here


class Figures:
    """The page's plots: each asked for with :meth:`add` (a :mod:`~harness.pages.plots` function's name and
    arguments), all drawn at once. With ``beside=True``, :meth:`start` draws them in a second process (a new
    interpreter running :func:`harness.pages.plots.serve`; it imports nothing of the caller's ``__main__``)
    while this one computes the statistics and the diff of big runs; :meth:`finish` fills each plot in. The same
    SVG either way (the plots are deterministic); where the second process cannot run or fails, they are drawn
    here."""

    def __init__(self) -> None:
        self._calls: list[tuple[str, tuple, dict]] = []
        self._plots: list[Plot] = []
        self._proc = self._out = None

    def add(self, name: str, *args, **kwargs) -> Plot:
        """A plot to draw: a :class:`~harness.pages.Plot` whose SVG and description :meth:`finish` fills in."""
        self._calls.append((name, args, kwargs))
        self._plots.append(Plot.__new__(Plot))
        return self._plots[-1]

    def start(self, beside: bool) -> None:
        import os
        import pickle
        import subprocess
        import sys
        import tempfile

        if not (beside and self._calls and (os.cpu_count() or 1) > 1):
            return
        try:
            with tempfile.NamedTemporaryFile("wb", prefix="harness-plots-", suffix=".pickle", delete=False) as fh:
                self._out = fh.name  # (removed by close, whatever happens next)
                pickle.dump(self._calls, fh, protocol=pickle.HIGHEST_PROTOCOL)
            code = f"import sys; sys.path[:0] = {sys.path!r}; from harness.pages.plots import serve; serve()"
            self._proc = subprocess.Popen([sys.executable, "-c", code, self._out], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except Exception:  # noqa: BLE001 - no second process here: drawn in finish()
            self.close()

    def finish(self) -> None:
        import pickle

        drawn = None
        if self._proc is not None:
            try:
                out, _ = self._proc.communicate(timeout=DRAWING_TIMEOUT_S)
                drawn = pickle.loads(out) if self._proc.returncode == 0 else None
            except Exception:  # noqa: BLE001 - drawn here instead: the same plots, or the same error
                drawn = None
            finally:
                self.close()
        if not (isinstance(drawn, list) and len(drawn) == len(self._calls)):
            drawn = plots.draw_calls(self._calls)
        for plot, (svg, alt) in zip(self._plots, drawn):
            done = Plot.of((svg, alt))
            object.__setattr__(plot, "svg", done.svg)
            object.__setattr__(plot, "alt", done.alt)

    def close(self) -> None:
        import os

        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._out is not None:
            try:
                os.unlink(self._out)
            except OSError:
                pass
        self._proc = self._out = None

    def __enter__(self) -> "Figures":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
