"""Plots for the pages, drawn by matplotlib and returned as inline SVG text.

Every function takes plain numbers and returns ``(svg, alt)``: the SVG element (no XML prologue, text kept as
text so it is searchable, prints sharply and reads without the picture) and a one-sentence description for
screen readers. Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state), so
plotting is safe in any process and leaves nothing behind.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies); every plot
also carries a legend or direct labels, so nothing is told by colour alone.

>>> svg, alt = bars(["a", "b"], {"run-1": [0.5, 1.0]}, "accuracy", percent=True)
>>> svg.startswith("<svg") and "run-1" in svg
True
"""

from __future__ import annotations

import functools
import io
import re
from typing import Mapping, Sequence

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")  # a second cue beside colour for bars
CDF_POINTS = 400  # points drawn per latency curve, whatever the number of samples (keeps a 50,000-item page small)
WIDTH = 7.2  # inches; the page scales the SVG to its column

_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "docintel-harness", "font.size": 9, "axes.titlesize": 10,
          "axes.spines.top": False, "axes.spines.right": False, "font.family": "sans-serif"}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _legend_below(fig: Figure, ax, n: int, handles=None, labels=None) -> None:
    """The legend outside the axes, under the figure, where it can never cover a bar, a marker or a curve
    (constrained layout makes room for it); the browser tests check that no legend overlaps an axes."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(max(n, 1), 4), fontsize=8, frameon=False)


def _figure(height: float) -> Figure:
    return Figure(figsize=(WIDTH, height), layout="constrained")


def to_svg(fig: Figure, alt: str) -> tuple[str, str]:
    """The figure as an ``<svg>`` element with ``role="img"`` and ``alt`` as its accessible name."""
    buf = io.StringIO()
    with rc_context(_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    opening = '<svg role="img" aria-label="{}" preserveAspectRatio="xMinYMin meet" '.format(_attr(alt))
    text = text.replace("<svg ", opening, 1)  # not re.sub: a run name's backslash is text, not an escape
    # width/height in pt make the SVG a fixed size; the page sizes it through CSS instead (viewBox kept)
    text = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", text, count=1)
    return text, alt


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _draw(fn):
    """Run a drawing function under the page style (fonts, text as text, fixed hash salt)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with rc_context(_STYLE):
            return fn(*args, **kwargs)
    return wrapper


@_draw
def intervals(names: Sequence[str], series: Mapping[str, Sequence[tuple[float | None, float | None, float | None]]],
              xlabel: str) -> tuple[str, str]:
    """Headline fractions with their confidence intervals: one row per metric (``names``), one marker per
    run with error bars from (value, low, high); missing values are left out."""
    fig = _figure(0.8 + 0.42 * len(names) * max(1, len(series)) ** 0.5)
    ax = fig.add_subplot()
    k = len(series)
    for i, (run, values) in enumerate(series.items()):
        offset = (i - (k - 1) / 2) * 0.22
        for j, (v, lo, hi) in enumerate(values):
            if v is None:
                continue
            err = None if lo is None or hi is None else [[max(0.0, v - lo)], [max(0.0, hi - v)]]
            ax.errorbar([v], [j + offset], xerr=err, fmt="os^Dv<>p"[i % 8], color=colour(i), capsize=3,
                        label=run if j == next(jj for jj, x in enumerate(values) if x[0] is not None) else None)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if k > 1:
        _legend_below(fig, ax, k)
    return to_svg(fig, f"{xlabel}: " + "; ".join(
        f"{run}: " + ", ".join(f"{n} {v:.1%}" for n, (v, _, _) in zip(names, vals) if v is not None)
        for run, vals in series.items()))


@_draw
def bars(categories: Sequence[str], series: Mapping[str, Sequence[float | None]], xlabel: str,
         percent: bool = True) -> tuple[str, str]:
    """Horizontal grouped bars: one group per category (a class, a field), one bar per run; a missing value
    is drawn as no bar and said in the description."""
    k = max(1, len(series))
    fig = _figure(0.6 + 0.16 * len(categories) * k)
    ax = fig.add_subplot()
    height = 0.8 / k
    y = np.arange(len(categories))
    for i, (run, values) in enumerate(series.items()):
        vals = [np.nan if v is None else v for v in values]
        ax.barh(y + (i - (k - 1) / 2) * height, vals, height=height, color=colour(i), hatch=HATCHES[i % 8],
                edgecolor="white", linewidth=0.4, label=run)
    ax.set_yticks(y, categories)
    ax.invert_yaxis()
    if percent:
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if len(series) > 1:
        _legend_below(fig, ax, len(series))
    fmt = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.4g}")
    return to_svg(fig, f"{xlabel} by category: " + "; ".join(
        f"{run}: " + ", ".join(f"{c} {'-' if v is None else fmt(v)}" for c, v in zip(categories, vals))
        for run, vals in series.items()))


@_draw
def confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str) -> tuple[str, str]:
    """A confusion matrix as a heat map, rows gold and columns predicted, every cell's count written in it
    (the colour is the row's share, so classes of any size read alike)."""
    m = np.asarray(matrix, dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    n = len(labels)
    # drawn 4.6 inches wide: the page shows two side by side, about that size, so 9-point labels read as 9 points
    fig = Figure(figsize=(4.6, max(3.2, 1.6 + 0.3 * n)), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=8 if n > 8 else 9,
                        color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(n), labels, rotation=45, ha="right", rotation_mode="anchor", fontsize=9)
    ax.set_yticks(range(n), labels, fontsize=9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.03, format=PercentFormatter(1.0), label="share of the gold class")
    off = [(labels[i], labels[j], int(m[i, j])) for i in range(n) for j in range(n) if i != j and m[i, j]]
    off.sort(key=lambda x: -x[2])
    desc = ", ".join(f"{g} as {p}: {c}" for g, p, c in off[:5]) or "none"
    return to_svg(fig, f"{title}: {int(np.trace(m))} of {int(m.sum())} on the diagonal; largest confusions: {desc}")


def ecdf(values: Sequence[float], points: int = CDF_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the empirical CDF at no more than ``points`` quantiles (the curve of any sample size in a
    bounded number of points).

    >>> x, y = ecdf([3.0, 1.0, 2.0])
    >>> x.tolist(), [round(v, 3) for v in y.tolist()]
    ([1.0, 2.0, 3.0], [0.333, 0.667, 1.0])
    """
    arr = np.sort(np.asarray(values, dtype=float))
    if arr.size <= points:
        return arr, np.arange(1, arr.size + 1) / arr.size
    y = np.linspace(1 / points, 1.0, points)
    return np.quantile(arr, y), y


PERCENTILE_MARKERS = ((50, "o"), (95, "^"), (99, "s"))


@_draw
def latency_cdf(samples: Mapping[str, Sequence[float]], title: str) -> tuple[str, str]:
    """Latency distribution per run as a CDF on a log time axis, P50, P95 and P99 marked on each curve by a
    marker of their own (circle, triangle, square); the figures themselves are in the description printed under
    the plot, so no text sits on the curves; the legend is outside the axes."""
    from matplotlib.lines import Line2D

    fig = _figure(3.1)
    ax = fig.add_subplot()
    desc, handles = [], []
    for i, (run, values) in enumerate(samples.items()):
        if not len(values):
            continue
        x, y = ecdf(values)
        (line,) = ax.step(x, y, where="post", color=colour(i), label=run, linestyle=("-", "--", ":", "-.")[i % 4])
        handles.append(line)
        qs = np.percentile(np.asarray(values, dtype=float), [p for p, _ in PERCENTILE_MARKERS])
        for q, (p, marker) in zip(qs, PERCENTILE_MARKERS):
            ax.plot([q], [p / 100], marker, color=colour(i), markersize=5, markeredgecolor="white",
                    markeredgewidth=0.5)
        desc.append(f"{run}: P50 {_seconds(qs[0])}, P95 {_seconds(qs[1])}, P99 {_seconds(qs[2])} (n={len(values)})")
    handles += [Line2D([], [], marker=m, linestyle="", color="#444444", label=f"P{p}") for p, m in PERCENTILE_MARKERS]
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _seconds(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())  # unlabelled minor ticks: readable, and far faster to lay out
    ax.set_ylim(0, 1.04)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("time (log scale)")
    ax.set_ylabel("share of calls at or below")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _legend_below(fig, ax, len(handles), handles, [h.get_label() for h in handles])
    return to_svg(fig, f"{title}: " + "; ".join(desc))


def draw_calls(calls: Sequence[tuple[str, tuple, dict]]) -> list[tuple[str, str]]:
    """Each ``(name, args, kwargs)`` drawn by this module's function of that name: the plots of a page, drawn
    together (in a second process while the page computes the rest: :class:`harness.pages.figures.Figures`)."""
    drawers = {f.__name__: f for f in (intervals, bars, confusion, latency_cdf, stacked_cost, histogram, trends)}
    return [drawers[name](*args, **kwargs) for name, args, kwargs in calls]


def serve() -> None:
    """The second process of :class:`harness.pages.figures.Figures`: the calls pickled in the file named by the
    last argument, drawn with :func:`draw_calls`, their ``(svg, alt)`` pickled to stdout."""
    import pickle
    import sys

    with open(sys.argv[-1], "rb") as fh:
        calls = pickle.load(fh)
    sys.stdout.buffer.write(pickle.dumps(draw_calls(calls), protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()


def _seconds(v: float) -> str:
    return f"{v * 1000:.3g} ms" if v < 1 else f"{v:.3g} s"


@_draw
def stacked_cost(runs: Sequence[str], rows: Mapping[str, Sequence[float]], xlabel: str) -> tuple[str, str]:
    """Cost per document per run, one stacked segment per cost row (``rows``: row name -> USD per run)."""
    fig = _figure(0.8 + 0.45 * len(runs) + 0.12 * len(rows))
    ax = fig.add_subplot()
    left = np.zeros(len(runs))
    for i, (row, values) in enumerate(rows.items()):
        vals = np.asarray([v or 0.0 for v in values], dtype=float)
        ax.barh(range(len(runs)), vals, left=left, color=colour(i), hatch=HATCHES[i % 8], edgecolor="white",
                linewidth=0.4, label=row)
        left += vals
    for j, total in enumerate(left):
        ax.annotate(f"${total:.4f}", (total, j), textcoords="offset points", xytext=(4, 0), va="center", fontsize=8)
    ax.set_yticks(range(len(runs)), runs)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, max(left.max(initial=0) * 1.25, 1e-6))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(runs) < 3 else -0.15), ncols=3, fontsize=7,
              frameon=False)
    return to_svg(fig, f"{xlabel}: " + "; ".join(f"{r} ${t:.4f}" for r, t in zip(runs, left)))


@_draw
def histogram(values: Sequence[float], top: float, xlabel: str) -> tuple[str, str]:
    """How many values fall in each tenth of [0, top] (a class's grade distribution)."""
    edges = np.linspace(0.0, top, 11) if top > 0 else np.linspace(0.0, 1.0, 11)
    counts, _ = np.histogram(np.clip(np.asarray(values, dtype=float), edges[0], edges[-1]), bins=edges)
    fig = _figure(2.4)
    ax = fig.add_subplot()
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=colour(0), edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    return to_svg(fig, f"{xlabel}: " + ", ".join(f"{lo:g}-{hi:g}: {int(c)}" for lo, hi, c in
                                                 zip(edges[:-1], edges[1:], counts)))


@_draw
def trends(periods: Sequence[str], panels: Sequence[tuple[str, Mapping[str, Sequence[float | None]], str]],
           marks: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Small multiples over time: one panel per metric (``(title, {series: value per period}, unit)``, unit
    ``%`` / ``s`` / ``$``), one line per series (a pipeline), periods on a shared x axis; ``marks`` draws a
    dotted line at a period with a label (an event: a drift, a price change). A missing value is a gap."""
    cols = 2
    rows = (len(panels) + cols - 1) // cols
    fig = _figure(0.4 + 1.9 * rows)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    x = np.arange(len(periods))
    fmt = {"%": lambda v: f"{v:.1%}", "s": lambda v: f"{v:.2f} s", "$": lambda v: f"${v:.4f}"}
    desc = []
    for k, (title, series, unit) in enumerate(panels):
        ax = axes[k // cols][k % cols]
        for i, (name, values) in enumerate(series.items()):
            vals = np.asarray([np.nan if v is None else v for v in values], dtype=float)
            ax.plot(x, vals, marker="os^D"[i % 4], markersize=3, color=colour(i), label=name,
                    linestyle=("-", "--")[i % 2])
            last = next((v for v in reversed(values) if v is not None), None)
            desc.append(f"{title} {name}: " + ("no data" if last is None else
                                               f"last {fmt.get(unit, str)(last)}"))
        if unit == "%":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        elif unit == "$":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:.2f}"))
        elif unit == "s":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} s"))
        for number, (period, label) in enumerate((marks or {}).items(), 1):
            if period in periods:  # a dotted line and its number above the axes; the numbers are explained below
                ax.axvline(periods.index(period), color="#777777", linestyle=":", linewidth=0.8)
                ax.annotate(str(number), (periods.index(period), 1.0), xycoords=("data", "axes fraction"),
                            xytext=(0, 2), textcoords="offset points", fontsize=8, ha="center", va="bottom",
                            color="#333333", fontweight="bold")
        ax.set_title(title, pad=12 if marks else 6)
        ax.grid(alpha=0.3)
    for k in range(len(panels), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    step = max(1, len(periods) // 8)
    for col in range(cols):  # the period labels under the lowest panel of each column
        shown = [k for k in range(col, len(panels), cols)]
        if shown:
            ax = axes[shown[-1] // cols][col]
            ax.tick_params(labelbottom=True)
            ax.set_xticks(x[::step], [periods[i] for i in range(0, len(periods), step)], rotation=30, fontsize=7)
    first = axes[0][0]
    _legend_below(fig, first, len(first.get_legend_handles_labels()[0]))
    return to_svg(fig, "Trends per period: " + "; ".join(desc) + (
        "; events (the numbered dotted lines): " + ", ".join(f"{n} {label} in {p}" for n, (p, label)
                                                              in enumerate(marks.items(), 1)) if marks else ""))
