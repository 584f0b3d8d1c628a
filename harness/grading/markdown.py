"""Markdown versions of the feedback and the class summary (the HTML ones: :mod:`harness.pages.grading`).

Every value that comes from a file (roster names, the assignment's titles and line names, criteria titles,
reasons quoting a student's file names, dev-split documents and model outputs) goes through
:func:`harness.render.md_text` (tables: :func:`harness.render.md_cell`): Markdown viewers render raw HTML.
"""

from __future__ import annotations

from typing import Callable, Sequence

from harness.grading.rubric import FAILURE_TITLES
from harness.render import md_text as t

SPLIT_TITLES = {"grading": "grading split", "dev": "dev split"}

Table = Callable[[Sequence[Sequence[str]]], str]


def _budget(budget: dict) -> str:
    parts = [f"{budget['tokens']:,} tokens" if budget.get("tokens") else None,
             f"{budget['calls']:,} calls" if budget.get("calls") else None,
             f"{budget['wall_s']:g} s of model time" if budget.get("wall_s") else None]
    parts = [p for p in parts if p]
    return ", ".join(parts) if parts else "no limit"


def spent_lines(fb: dict) -> list[str]:
    out = []
    for role, title in (("grading", "grading split"), ("dev", "dev split")):
        s = fb["spent"].get(role)
        if s:
            cost = s.get("cost_usd")
            out.append(f"- {title}: {s['tokens']:,} tokens in {s['calls']:,} model calls"
                       + (f", ${cost:.4f} of model use at the configured prices" if isinstance(cost, (int, float)) else ""))
    out.append(f"- budget per split: {_budget(fb['budget'])}")
    return out


def feedback_md(fb: dict, table: Table) -> str:
    """One student's feedback (``table``: rows -> a Markdown table whose cells it escapes)."""
    split = SPLIT_TITLES[fb.get("split", "grading")]
    out = [f"# {t(fb['title'])}: feedback for {t(fb['name'])} ({t(fb['student_id'])})", ""]
    grade = f"{fb['total']:.2f} / {fb['max_grade']:.2f}" if fb["max_grade"] is not None else "none"
    out += [f"Status: **{t(fb['status'])}**" + (f" ({t(fb['reason'])})" if fb["reason"] else "")
            + f". Grade: **{grade}**.", ""]
    if fb.get("lateness"):
        out += [f"Deadline: {t(fb['lateness'])}.", ""]
    if fb["lines"]:
        out += ["## Points", "", table([["line", "points", "of", "why"]] + [
            [ln["name"], f"{ln['points']:.2f}", f"{ln['max_points']:.2f}" if ln["kind"] != "penalty" else "",
             ln["reason"]] for ln in fb["lines"]]), ""]
    if fb.get("regrades"):
        out += ["## Regrades", ""]
        out += [f"- {t(r['rubric_line'] or 'total')}: {_old(r['old'])} -> {r['new']:.2f}, by {t(r['by'])} on "
                f"{t(r['at'][:10])}: {t(r['reason'])}" for r in fb["regrades"]] + [""]
    if fb["comparison"]:
        out += [f"## Your variant against the reference ({split}, aggregate figures only)", "",
                table([["metric", "you", "reference", "difference", "95 % interval", "McNemar p", "n"]] + [
                    [c["metric"], c["student"], c["reference"], c["difference"], c["ci"], c["p"], str(c["n"])]
                    for c in fb["comparison"]]), ""]
        out += [f"- {t(c['metric'])}: {t(c['sentence'])}" for c in fb["comparison"]] + [""]
    if fb["criteria_failed"]:
        out += [f"## Pilot criteria not met on the {split}", ""]
        out += [f"- {t(c)}" for c in fb["criteria_failed"]] + [""]
    if fb["failures"]:
        out += [f"## What failed on the {split} (counts)", ""]
        out += [f"- {t(f['kind'])}: {f['n']}" for f in fb["failures"]] + [""]
    out += ["## Tokens spent", ""] + spent_lines(fb) + [""]
    if fb["prompts"]:
        out += ["## Your variant", ""]
        out += [f"- {t(task)}: {t(p['ref'])} ({'yours' if p['own'] else 'the reference prompt'})"
                for task, p in sorted(fb["prompts"].items())]
        out += [f"- {t(k)} = {t(v)}" for k, v in sorted(fb["settings"].items())]
        out += [f"- note: {t(n)}" for n in fb["notes"]] + [""]
    if any(fb["examples"].values()):
        out += ["## Examples from the dev split (the grading split stays hidden)", ""]
        for ex in fb["examples"].get("classify", []):
            out += [f"- classify {t(ex['id'])}: expected {t(ex['expected'])}, got {t(ex['got'])}. "
                    f"\"{t(ex['excerpt'])}\""]
        for ex in fb["examples"].get("extract", []):
            wrong = "; ".join(f"{f['field']}: expected {f['expected']}, got {f['got']}" for f in ex["fields"])
            out += [f"- extract {t(ex['id'])}: {t(ex['error'] or wrong)}. \"{t(ex['excerpt'])}\""]
        for ex in fb["examples"].get("answer", []):
            claims = "; ".join(ex["claims"])
            out += [f"- answer {t(ex['id'])}: \"{t(ex['question'])}\" -> \"{t(ex['answer'])}\""
                    + (f" (not supported by the passages: {t(claims)})" if claims else "")]
        out += ["", "Run `harness grade check` on your submission to see these on the dev split before the deadline.", ""]
    return "\n".join(out)


def _old(v) -> str:
    return "none" if v is None else f"{v:.2f}"


def summary_md(result, s: dict, table: Table) -> str:
    """The class summary in Markdown."""
    spec = result.assignment.spec
    out = [f"# {t(spec.title or spec.name)}: class summary", "",
           f"{s['n_roster']} students on the roster; " + ", ".join(f"{n} {k}" for k, n in s["statuses"].items()) + ".",
           ""]
    if s["totals"]:
        out += [f"Grades (of {s['max_grade']:.2f}): mean {s['mean']:.2f}, median {s['median']:.2f}, "
                f"lowest {min(s['totals']):.2f}, highest {max(s['totals']):.2f}.", ""]
    if s.get("deadline"):
        d = s["deadline"]
        out += [f"Due {t(d['due'])}: of {d['submitted']} submissions, {d['on_time']} on time, {d['late']} late "
                f"({d['penalties']:g} points of late penalties), {d['past_cutoff']} after the cut-off (counted as "
                f"missing); {d['extended']} with an extension; {d['unknown']} with no known time, assumed on time.",
                ""]
    out += [f"Model use, {s['variants_run']} variants (the reference included), dev and grading splits: "
            f"{s['tokens']:,} tokens in {s['calls']:,} calls"
            + (f", ${s['cost_usd']:.4f} of model use at the configured prices (the embedded local model costs 0)."
               if s["cost_usd"] is not None else "."), ""]
    if s["failures"]:
        out += ["## Common failure modes on the grading split (tasks, all students)", ""]
        out += [f"- {t(FAILURE_TITLES.get(k, k))}: {n}" for k, n in s["failures"]] + [""]
    if s["criteria_failed"]:
        out += ["## Pilot criteria most often not met", ""]
        out += [f"- {t(k)}: {n} students" for k, n in s["criteria_failed"]] + [""]
    if s["invalid_reasons"]:
        out += ["## Why submissions were invalid", ""]
        out += [f"- {t(k)}: {n}" for k, n in s["invalid_reasons"]] + [""]
    if s.get("similar") and s["similar"]["pairs"]:
        sim = s["similar"]
        out += ["## Similar prompts (for a person to look at; no grade is changed)", "",
                f"Pairs of submissions whose prompts are near-duplicates: {t(sim['measure'])}, at least "
                f"{sim['threshold']:.2f}.", ""]
        out += [f"- {t(p['a'])} and {t(p['b'])} ({t(p['task'])} prompt): {p['similarity']:.3f}"
                for p in sim["pairs"]] + [""]
    if s.get("checks") is not None:
        out += ["## Self-checks run (harness grade check, from the students' logs)", ""]
        out += [f"- {t(sid)}: {n}" for sid, n in s["checks"]] + [""]
    if s["not_on_roster"]:
        out += ["## Submissions not on the roster (not graded)", ""]
        out += [f"- {t(x)}" for x in s["not_on_roster"]] + [""]
    if s["problems"]:
        out += ["## Problems found reading the submissions", ""]
        out += [f"- {t(x)}" for x in s["problems"]] + [""]
    out += ["Files: grades.csv, gradebook.csv (gradebook import), gradescope/<id>/results.json, leaderboard.md/csv/html, "
            "feedback/<id>.md/html.", ""]
    return "\n".join(out)
