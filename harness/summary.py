"""The Markdown a reviewer reads in a pull request (``--format markdown`` of ``harness gates``, ``harness
compare`` and ``harness cost --run``), sized for a pull-request comment, and what a GitHub Actions job gets
from the same commands: the Markdown appended to the job summary (``GITHUB_STEP_SUMMARY``) and one ``::error``
annotation per failed must-have or regression (``GITHUB_ACTIONS=true``).

One builder for the three commands: :func:`gates_markdown`, :func:`compare_markdown` and :func:`cost_markdown`
assemble sections of this module; :func:`fit` keeps the result under GitHub's comment limit. Every value that
comes from a file (a run's name, a criterion's title, a document id, a predicted or gold value) goes through
:func:`harness.render.md_text` or :func:`~harness.render.md_cell` (tables made by :func:`harness.render.table`
escape every cell).

Workflow commands are escaped as GitHub's runner reads them (the ``escapeData`` and ``escapeProperty``
functions of ``@actions/core``, ``packages/core/src/command.ts`` in github.com/actions/toolkit; the syntax is
docs.github.com/actions/reference/workflow-commands-for-github-actions): in the message ``%``, CR and LF
become ``%25``, ``%0D`` and ``%0A``; in a property (``title=``) ``:`` and ``,`` also become ``%3A`` and ``%2C``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from harness.render import md_text, table as render_table

COMMENT_LIMIT = 65_000  # characters: GitHub refuses a comment over 65,536
FLIPPED_SHOWN = 10  # flipped documents a summary lists
CLIP = 120  # characters of one value from a file in a table cell


def clip(value: Any, n: int = CLIP) -> str:
    """A value from a file cut to ``n`` characters (an ellipsis says so); escaping is the table's job.

    >>> clip("x" * 200, 10)
    'xxxxxxxxx…'
    """
    text = "-" if value is None else str(value)
    return text if len(text) <= n else text[:n - 1] + "…"


def fit(text: str, limit: int = COMMENT_LIMIT, see_all: str = "") -> str:
    """``text`` when it is under ``limit`` characters; else its first whole lines and a note saying how much was
    left out and where to read it all (``see_all``).

    >>> out = fit("a\\n" * 200, 200, "harness diff A B")
    >>> len(out) < 200, out.splitlines()[-1].startswith("*Truncated")
    (True, True)
    """
    if len(text) < limit:
        return text
    note = (f"\n\n*Truncated: {len(text):,} characters, over this summary's limit of {limit:,}"
            + (f"; all of it: `{md_text(see_all)}`" if see_all else "") + ".*\n")
    room = max(0, limit - len(note) - 1)
    cut = text[:room]
    cut = cut[:cut.rfind("\n")] if "\n" in cut else cut
    return cut + note


# ---------------------------------------------------------------------------------------------- GitHub Actions
def workflow_data(text: str) -> str:
    """A workflow command's message, escaped.

    >>> workflow_data("50% worse\\r\\nnext")
    '50%25 worse%0D%0Anext'
    """
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow command's property value (``title=``), escaped.

    >>> workflow_property("Regression: accuracy, 5%")
    'Regression%3A accuracy%2C 5%25'
    """
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def error_command(title: str, message: str) -> str:
    """``::error title=...::message``, the annotation GitHub shows on the job and the pull request."""
    return f"::error title={workflow_property(title)}::{workflow_data(message)}"


def publish(markdown: str | None, errors: Iterable[tuple[str, str]] = ()) -> list[str]:
    """In a GitHub Actions job: append ``markdown`` to the job summary when ``GITHUB_STEP_SUMMARY`` names a
    file, and return the ``::error`` lines to print (the caller prints them on standard output, where the
    runner reads workflow commands) when ``GITHUB_ACTIONS`` is ``true``; nothing outside a job."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if markdown is not None and summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n\n")
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return []
    return [error_command(title, message) for title, message in errors]


# ---------------------------------------------------------------------------------------------- sections
def page_line(page: str | Path | None) -> str:
    return f"Report page: `{md_text(page)}`" if page else ""


def gates_markdown(run, results, verdict, baseline=None, page: str | Path | None = None,
                   limit: int = COMMENT_LIMIT) -> str:
    """``harness gates --format markdown``: the gate status and the go/no-go verdict, the criteria table, each
    go/no-go condition, the run's cost per document and the report page."""
    from harness.gates import gate_status

    def num(v):
        return "-" if v is None else f"{v:.4g}"

    status = gate_status(results)
    against = f" against {md_text(baseline.id)}" if baseline else ""
    lines = [f"### Gates for {md_text(run.id)}: {'✅' if status == 'pass' else '❌'} {md_text(status)}", "",
             f"Go/no-go{against}: **{verdict.verdict}**", ""]
    lines.append(render_table(["criterion", "observed", "target / must-have", "status", "evidence"],
                              [[clip(r.title), num(r.observed), r.bound, r.status, clip(r.evidence)] for r in results],
                              "md"))
    conds = [(label, c) for label, cs in (("GO", verdict.go), ("NO-GO", verdict.no_go)) for c in cs]
    if conds:
        lines += ["", "<details><summary>Go/no-go conditions</summary>", ""]
        lines += [f"- {label} `{md_text(c.id)}`: {md_text(c.detail)}" for label, c in conds]
        lines += ["", "</details>"]
    lines += ["", cost_sentence(run)] + ([page_line(page)] if page else [])
    return fit("\n".join(lines).rstrip() + "\n", limit, f"harness gates {run.path} --format json")


def gates_errors(results) -> list[tuple[str, str]]:
    """(title, message) of each criterion that fails the gate: a must-have not met, or not measurable."""
    from harness.gates import FAILED, NOT_MEASURABLE

    return [(f"Gate {r.status}: {r.title}", f"{r.id}: observed {'-' if r.observed is None else f'{r.observed:.4g}'}"
             f"; target / must-have {r.bound}; {r.evidence}") for r in results if r.status in (FAILED, NOT_MEASURABLE)]


def cost_sentence(run) -> str:
    from metrics import registry

    cost = run.value("cost.per_document")
    if not isinstance(cost, (int, float)):
        return f"Cost per document: not measured in {md_text(run.id)}."
    return f"Cost per document: {registry.format_value(cost, 'usd')} ({md_text(run.id)})."


def flipped_documents(d: Mapping[str, Any], n: int = FLIPPED_SHOWN) -> tuple[list[list[str]], int]:
    """The ``n`` most important documents that changed between two runs (from :func:`harness.compare.diff`),
    as table rows (document, what, change, gold, A, B), and how many changed in all. Most important first: a
    label that went from right to wrong, then the documents with the most fields that went wrong, then the
    documents fixed, then labels changed from one wrong label to another."""
    entries: list[tuple[tuple, list[str]]] = []
    for f in d.get("label_flips", []):
        rank = {"broken": 0, "fixed": 2}.get(f["change"], 4)
        entries.append(((rank, 0, f["id"]), [f["id"], "label", f"{f['change']}", f["gold"], f["a"], f["b"]]))
    for doc in d.get("field_changes", []):
        broke = [c for c in doc["changes"] if (c["a_outcome"], c["b_outcome"]) in
                 (("correct", "wrong"), ("empty", "spurious"))]
        fixed = [c for c in doc["changes"] if (c["a_outcome"], c["b_outcome"]) in
                 (("wrong", "correct"), ("spurious", "empty"))]
        shown = broke or fixed
        if not shown:
            continue
        c = shown[0]
        more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
        entries.append(((1 if broke else 3, -len(shown), doc["id"]),
                        [doc["id"], f"field {c['field']}{more}", "broken" if broke else "fixed", c["gold"], c["a"],
                         c["b"]]))
    entries.sort(key=lambda e: e[0])
    return [[clip(x) for x in row] for _, row in entries[:n]], len(entries)


def compare_markdown(a, b, rows, judgements, d: Mapping[str, Any], page: str | Path | None = None,
                     limit: int = COMMENT_LIMIT) -> str:
    """``harness compare --format markdown``: the verdict (regressions, or why there is none), the paired
    differences in sentences and as a table, the most important flipped documents, cost per document and the
    report page."""
    from harness import compare as cmp
    from harness.pages.documents import Pair
    from harness.pages.report import paired_sentence

    n = max((r.n for r in rows), default=0)
    found = [j for j in judgements if j.status == cmp.REGRESSION]
    lines = [f"### {md_text(b.id)} against {md_text(a.id)} ({n} documents in both)", ""]
    if judgements:
        if found:
            lines.append(f"❌ **{len(found)} regression(s)**: {md_text(', '.join(j.metric for j in found))}")
        else:
            quiet = any(j.status == cmp.NOT_SIGNIFICANT for j in judgements)
            lines.append("✅ **No regression**" + (": a difference beyond its tolerance is not significant (its "
                                                   "interval includes zero)" if quiet else ""))
        lines += [""] + [f"- {md_text(clip(j.line, 600))}" for j in judgements]
        lines.append("")
    lines += ["#### Paired differences", ""]
    lines += [f"- {md_text(paired_sentence(Pair(a, b), r))}" for r in rows]
    lines += ["", cmp.comparison_table(a, b, rows, "md"), ""]
    flipped, total = flipped_documents(d)
    lines.append(f"#### Flipped documents ({len(flipped)} most important of {total})" if flipped else
                 "#### Flipped documents: none")
    if flipped:
        lines += ["", render_table(["document", "what", "change", "gold", clip(a.id, 40), clip(b.id, 40)], flipped,
                                   "md")]
    lines += ["", f"{cost_sentence(a)} {cost_sentence(b)}"] + ([page_line(page)] if page else [])
    return fit("\n".join(lines).rstrip() + "\n", limit, f"harness diff {a.path} {b.path}")


def compare_errors(judgements) -> list[tuple[str, str]]:
    from harness import compare as cmp

    return [(f"Regression: {j.metric}", j.line) for j in judgements if j.status == cmp.REGRESSION]


def cost_markdown(run_id: str, lines: Sequence[str], page: str | Path | None = None,
                  limit: int = COMMENT_LIMIT) -> str:
    """``harness cost --run RUN --format markdown``: the lines of the Markdown cost output (already escaped)
    under a heading, and the report page."""
    body = [f"### Cost of {md_text(run_id)}", "", *lines] + ([page_line(page)] if page else [])
    return fit("\n".join(body).rstrip() + "\n", limit, f"harness cost --run {run_id} --format json")


def write_report_page(runs: Sequence, out: str | Path, baseline=None, criteria=None, command: str = "") -> Path:
    """The report page of ``runs`` written to ``out`` (as ``harness report ... --format html --out``), for a
    summary that names it."""
    from harness import gates
    from harness.pages import write_page
    from harness.pages.report import report_page

    html = report_page(list(runs), criteria or gates.load_criteria(None), baseline, command=command)
    return write_page(out, html)
