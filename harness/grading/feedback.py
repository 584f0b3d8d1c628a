"""What a student is told: points and why, metrics against the reference with paired statistics, criteria
failed, tokens spent, and examples to learn from.

**The grading split stays hidden.** Figures about it are aggregates (rubric lines, the paired statistics of
:func:`harness.compare.compare`, failure counts by kind, never an error's text, which may quote a model
output and through it a document). Every per-document example comes from the dev split.
"""

from __future__ import annotations

from typing import Any

from harness.grading.rubric import FAILURE_TITLES

EXCERPT_CHARS = 240


def _metric_title(name: str) -> str:
    from metrics.registry import lookup

    return lookup(name).title_for(name)


def comparison(reference_run, run, golden) -> list[dict]:
    """Paired statistics of the student's run against the reference's on the same split (aggregates only)."""
    from harness.compare import compare
    from harness.errors import HarnessInputError
    from metrics.registry import format_delta, format_value, lookup

    try:
        rows = compare(reference_run, run, golden)
    except HarnessInputError:
        return []
    out = []
    for r in rows:
        unit = lookup(r.metric).unit
        ci = (f"[{format_delta(r.ci_low, unit)}, {format_delta(r.ci_high, unit)}]"
              if r.ci_low is not None and r.ci_high is not None else "")
        out.append({"metric": _metric_title(r.metric), "student": format_value(r.b, unit),
                    "reference": format_value(r.a, unit), "difference": format_delta(r.difference, unit), "ci": ci,
                    "p": "" if r.mcnemar_p is None else f"{r.mcnemar_p:.3f}", "n": r.n,
                    "sentence": _sentence(r)})
    return out


def _sentence(r) -> str:
    if r.ci_low is None or r.ci_high is None:
        return "a difference of the two runs' own figures (no paired interval)"
    if r.ci_low > 0 or r.ci_high < 0:
        return "the 95 % interval of the difference excludes 0: a real difference on this split"
    return "the 95 % interval of the difference includes 0: not distinguishable from the reference here"


def failures(counts: dict) -> list[dict]:
    """Failure counts by kind, with their titles (no message text)."""
    return [{"kind": FAILURE_TITLES.get(k, k), "n": n} for k, n in sorted(counts.items())]


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"


def dev_examples(run, golden, limit: int) -> dict[str, list[dict]]:
    """Per task, up to ``limit`` items of the DEV split the variant got wrong, with what it answered."""
    from harness.grading.rubric import failure_kind
    from metrics.extraction import document_outcomes
    from metrics.hallucination import detect

    preds = {p.id: p for p in run.predictions()}
    out: dict[str, list[dict]] = {"classify": [], "extract": [], "answer": []}
    docs = golden.items(run.split, kinds=("document",))
    for d in docs:
        p = preds.get(d.id)
        if p is None:
            continue
        if p.has("classify") and len(out["classify"]) < limit:
            err = p.error("classify")
            if err or p.label != d.label:
                out["classify"].append({"id": d.id, "expected": d.label,
                                        "got": FAILURE_TITLES[failure_kind(err)] if err else p.label,
                                        "excerpt": _excerpt(d.text)})
        if p.has("extract") and len(out["extract"]) < limit:
            err = p.error("extract")
            outcomes = document_outcomes(d.fields, None if err else p.fields, golden.manifest.fields)
            wrong = [f for f, o in outcomes.items() if o in ("wrong", "spurious")]
            if err or wrong:
                out["extract"].append({"id": d.id, "excerpt": _excerpt(d.text),
                                       "error": FAILURE_TITLES[failure_kind(err)] if err else "",
                                       "fields": [{"field": f, "expected": _show(d.fields.get(f)),
                                                   "got": _show((p.fields or {}).get(f)), "outcome": outcomes[f]}
                                                  for f in wrong]})
    for q in golden.items(run.split, kinds=("qa",)):
        p = preds.get(q.id)
        if p is None or len(out["answer"]) >= limit:
            continue
        err = p.error("answer")
        if err:
            out["answer"].append({"id": q.id, "question": q.question, "answer": FAILURE_TITLES[failure_kind(err)],
                                  "claims": []})
            continue
        if p.answer and p.contexts:
            bad = [c.claim for c in detect(p.answer, list(p.contexts)).claims if not c.supported]
            if bad:
                out["answer"].append({"id": q.id, "question": q.question, "answer": p.answer, "claims": bad})
    return out


def _show(v: Any) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def student_feedback(assignment, entry, reference, golden, role: str = "grading") -> dict:
    """Everything the feedback files show for one roster student; ``role``: the split the grade is computed on
    (``grading``, or ``dev`` for a student's self-check)."""
    from harness.store import load_run

    v = entry.variant
    spec = assignment.spec
    fb: dict[str, Any] = {
        "student_id": entry.student.student_id, "name": entry.student.name, "status": entry.status,
        "reason": entry.reason, "assignment": spec.name, "title": spec.title or spec.name,
        "total": entry.grade.total if entry.grade else 0.0,
        "max_grade": entry.grade.max_grade if entry.grade else None,
        "lines": [vars(line) for line in entry.grade.lines] if entry.grade else [],
        "budget": spec.budget.model_dump(mode="json"), "spent": v.spent if v else {},
        "failures": failures(v.failures.get(role, {})) if v else [], "split": role,
        "prompts": v.prompts if v else {}, "settings": v.settings if v else {}, "notes": list(v.notes) if v else [],
        "comparison": [], "examples": {"classify": [], "extract": [], "answer": []}, "criteria_failed": [],
        "regrades": [],  # the instructor's overrides (harness.grading.regrades)
        "lateness": "",  # against the due time (harness.grading.deadlines)
    }
    if entry.grade:
        crit = [line for line in entry.grade.lines if line.kind == "criteria"]
        fb["criteria_failed"] = [c.reason.split("not met: ", 1)[1] for c in crit if "not met: " in c.reason]
    if v is not None and reference is not None and "grading" in v.runs and "grading" in reference.runs:
        fb["comparison"] = comparison(load_run(reference.runs["grading"]), load_run(v.runs["grading"]), golden)
    if v is not None and "dev" in v.runs:
        fb["examples"] = dev_examples(load_run(v.runs["dev"]), golden, spec.feedback_examples)
    return fb
