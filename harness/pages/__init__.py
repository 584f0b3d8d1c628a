"""HTML pages: self-contained files (inline CSS, script and SVG plots; nothing loaded from the network when
viewed) built from the run store and the metric registry.

Public face:

* :func:`render` and :mod:`harness.pages.plots` - the building blocks (base page, status words, criteria
  and metric tables, figures) every page uses;
* :func:`write_page` - the one writer of a page file (atomic).

Each page is a module on top of these, imported by its command: :mod:`harness.pages.report` (one run or runs
side by side, ``harness report --format html``, ``make demo``), :mod:`harness.pages.leaderboard` (ranked runs),
:mod:`harness.pages.grading` and :mod:`harness.pages.shadow`. This package imports none of them (data flows one
way: a page module reads the building blocks, never the reverse).

Templates are jinja2 with autoescaping on: every value that comes from a document, a run or a file is
escaped; only SVG drawn by matplotlib from numbers is marked safe (:class:`Plot`).
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup

from harness.version import __version__


@dataclass(frozen=True)
class Plot:
    """An inline SVG figure and its text description (the description is also the SVG's accessible name)."""
    svg: Markup
    alt: str

    @classmethod
    def of(cls, drawn: tuple[str, str]) -> "Plot":
        svg, alt = drawn
        return cls(Markup(svg), alt)


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("harness.pages", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)


def _asset(name: str) -> Markup:
    return Markup(resources.files("harness.pages").joinpath("templates", name).read_text(encoding="utf-8"))


def status_kind(word: str) -> str:
    """The CSS kind of a status word (the word itself is always printed; colour only repeats it)."""
    w = word.lower()
    if w in ("target met", "go", "pass", "yes", "fixed", "correct") or w.startswith("pass"):
        return "pass"
    if w in ("must-have met", "hold", "changed"):
        return "warn"
    if w in ("failed", "no-go", "no", "broken", "wrong", "spurious", "missed") or w.startswith("fail"):
        return "fail"
    return "na"


def readable(identifier: str) -> str:
    """An id from a criteria file as a heading or cell a person reads (the id itself goes in its title).

    >>> readable("accuracy_vs_baseline_4_weeks")
    'accuracy vs baseline 4 weeks'
    """
    return identifier.replace("_", " ")


def render(template: str, *, title: str, command: str, subtitle: str = "", contents=(), source: str = "the run store",
           **context: Any) -> str:
    """A page from ``templates/<template>`` inside the shared layout (header, contents, styles, script);
    ``source`` is what the page was read from, said in its header."""
    page = _environment().get_template(template)
    return page.render(title=title, command=command, subtitle=subtitle, contents=list(contents), source=source,
                       generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                       version=__version__, css=_asset("page.css"), js=_asset("page.js"), **context)


def write_page(path: str | Path, html: str) -> Path:
    """Write ``html`` to ``path`` atomically (a reader never sees half a page); parent folders created. A path
    that is a directory (or under a file) is exit 2, not a traceback (:func:`harness.paths.out_file`)."""
    from harness.paths import out_file

    path = out_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # readable as any file the user writes (mkstemp makes it private)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["Plot", "readable", "render", "status_kind", "write_page"]
