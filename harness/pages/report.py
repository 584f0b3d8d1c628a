"""The report page: one run, or runs side by side against a baseline (``harness report --format html``).

Everything on the page comes from the run store (``run.json``, ``metrics.json``, ``predictions.jsonl``), the
golden set the runs name, the criteria file and the metric registry; each section is shown only where the
runs have its data. The page's size does not grow with the number of items: plots are aggregates (a latency
curve is drawn through at most :data:`~harness.pages.plots.CDF_POINTS` points) and the document table holds at
most ``doc_limit`` rows, with a note saying how many more there are and the command that lists them all.
"""

from __future__ import annotations

from typing import Any, Sequence

from harness import compare as cmp
from harness.bulk import gc_paused
from harness.errors import HarnessInputError
from harness.gates import NOT_MEASURABLE, Criteria, evaluate_criteria, evaluate_go_no_go, gate_status
from harness.leaderboard import item_set
from harness.pages import Plot, readable, render, status_kind
from harness.pages.documents import Pair, documents, golden_sets_of, split_items
from harness.pages.figures import Figures
from harness.records import model_label
from harness.store import Run
from metrics import registry

DOC_LIMIT = 300  # rows of the document table; the rest are counted in a note
FLAGGED_CLAIMS = 8  # unsupported claims shown per run
ANSWERS_CHECKED = 500  # answers the page runs the offline detector over, per run
SMALL_N = 30  # fewer paired documents than this: the sentence says the sample is too small
TASK_ORDER = ("document", "classify", "extract", "answer", "summarize")
DRAWN_BESIDE_FROM = 10_000  # predictions over the runs from which the plots are drawn in a second process


def report_page(runs: Sequence[Run], criteria: Criteria, baseline: Run | None = None, *,
                command: str = "harness report", doc_limit: int = DOC_LIMIT) -> str:
    """The HTML of the report page for ``runs`` (``baseline``, when given, is one of them: the go/no-go and
    the paired statistics compare every other run with it).

    Built with the cyclic garbage collector paused (:func:`harness.bulk.gc_paused`): the page holds both runs'
    predictions and the golden split (hundreds of thousands of objects at a month's volume), which every
    collection the statistics, the diff and the plots trigger would walk again; a figure's cycles are
    collected once the collector is back on."""
    with gc_paused():
        return _report_page(runs, criteria, baseline, command=command, doc_limit=doc_limit)


def _report_page(runs: Sequence[Run], criteria: Criteria, baseline: Run | None, *, command: str,
                 doc_limit: int) -> str:
    if not runs:
        raise HarnessInputError("no run to report", field="runs")
    if baseline is not None and all(r.path != baseline.path for r in runs):
        runs = [baseline, *runs]
    names = [r.id for r in runs]
    if len(set(names)) != len(names):
        raise HarnessInputError("two runs have the same directory name; the page names runs by it", field="runs")
    others = [r for r in runs if baseline is None or r.path != baseline.path]
    preds = {r.id: r.predictions() for r in runs}  # read once: latency, flagged claims and errors use them
    with Figures() as figures:  # the plots, drawn beside the statistics below when the runs are big
        drawn = {"headline_plot": _headline_plot(runs, figures), "classification": _classification(runs, figures),
                 "extraction": _extraction(runs, figures), "latency": _latency(runs, preds, figures),
                 "cost": _cost(runs, figures)}
        figures.start(beside=sum(len(p) for p in preds.values()) >= DRAWN_BESIDE_FROM)
        goldens_by_run = golden_sets_of(runs)  # loaded (and checked against the runs' hashes) once per set
        items = split_items(runs, goldens_by_run)  # built once per golden split: statistics, diff and texts
        pairs, notes = _pairs(baseline, others)
        goldens = {}
        for r in runs:
            g = r.metrics.get("golden") or {}
            goldens.setdefault((g.get("sha256"), r.split), {"name": g.get("name", "?"),
                                                            "version": g.get("version", "?"), "split": r.split,
                                                            "sha": g.get("sha256", "?")})
        context = {
            "criteria_file": criteria.path,
            "verdicts": [_verdict(r, criteria, baseline) for r in [*others, *([baseline] if baseline else [])]],
            "goldens": list(goldens.values()),
            "audit": [_audit(r) for r in runs],
            "notes": notes,
            "run_names": names,
            "headline": _metric_rows(runs, [n for n in registry.headline_names() if not n.startswith("answers.")]),
            "headline_plot": drawn["headline_plot"],
            "paired": [_paired(p, goldens_by_run[p.a.id], (preds[p.a.id], preds[p.b.id]), items[p.a.id])
                       for p in pairs],
            "classification": drawn["classification"],
            "extraction": drawn["extraction"],
            "latency": drawn["latency"],
            "answers": _answers(runs, preds, goldens_by_run),
            "cost": drawn["cost"],
            "documents": documents(runs, pairs, doc_limit, preds, goldens_by_run, items),
            "governance": _governance(runs),
        }
        sections = [("verdict", "Verdict"), ("audit", "What was run"), ("headline", "Headline figures"),
                    ("classification", "Classification"), ("extraction", "Field extraction"), ("latency", "Latency"),
                    ("answers", "Answers"), ("cost", "Cost"), ("governance", "Maturity and governance"),
                    ("documents", "Documents")]
        figures.finish()
        contents = [(a, t) for a, t in sections if a in ("verdict", "audit", "headline") or context.get(a)]
        title = (f"{names[0]}: evaluation report" if len(runs) == 1 else
                 f"{', '.join(names)}: side-by-side report")
        return render("report.html.j2", title=title, command=command, contents=contents,
                      subtitle=f"baseline {baseline.id}" if baseline else "", **context)


# ---------------------------------------------------------------------------------------------- header
def _pairs(baseline: Run | None, others: Sequence[Run]) -> tuple[list[Pair], list[str]]:
    pairs, notes = [], []
    if baseline is None:
        if len(others) > 1:
            notes.append("No baseline chosen (--baseline): runs are shown side by side without paired statistics.")
        return pairs, notes
    for r in others:
        if (r.golden_sha, r.split) != (baseline.golden_sha, baseline.split):
            notes.append(f"{r.id} is on another golden set or split than {baseline.id}: no paired statistics or "
                         "document table for it.")
        elif item_set(r) != item_set(baseline):
            notes.append(f"{r.id} and {baseline.id} ran over different item sets (n = {r.value('counts.items')} and "
                         f"{baseline.value('counts.items')}): paired statistics use the documents both predicted, "
                         "their headline figures are not comparable as they stand.")
            pairs.append(Pair(baseline, r))
        else:
            pairs.append(Pair(baseline, r))
    return pairs, notes


def _fmt(v: Any, bound: float | None, unit: str) -> str:
    return registry.format_value(v, unit) if v is not None else ("-" if bound is None else registry.format_value(bound, unit))


def _verdict(run: Run, criteria: Criteria, baseline: Run | None) -> dict:
    results = evaluate_criteria(criteria, run)
    rows = []
    for c, res in zip(criteria.criteria, results):
        unit = registry.lookup(c.metric).unit if c.metric else "number"
        op = (">" if c.strict else ">=") if c.higher_is_better else ("<" if c.strict else "<=")
        rows.append({"title": res.title, "target": f"{op} {_fmt(None, c.target, unit)}",
                     "must": f"{op} {_fmt(None, c.must_have, unit)}",
                     "observed": "not measured" if res.observed is None else registry.format_value(res.observed, unit),
                     "sort": "" if res.observed is None else res.observed, "status": res.status,
                     "kind": status_kind(res.status), "evidence": res.evidence,
                     "source": "ratings file" if c.source == "ratings" else c.metric})
    n_na = sum(1 for r in results if r.status == NOT_MEASURABLE)
    gates = gate_status(results)  # the status `harness gates` exits on, word for word
    out = {"run": run.id, "criteria": rows, "must_word": gates, "must_kind": status_kind(gates)}
    if baseline is not None and run.path == baseline.path:
        return {**out, "baseline": None, "verdict": "baseline", "kind": "na", "conditions": [],
                "summary": "the baseline the other runs are judged against (its own go/no-go is not evaluated)"}
    verdict = evaluate_go_no_go(criteria, run, baseline)
    conditions = [{"id": c.id, "name": readable(c.id), "kind": label,
                   "holds": {True: "yes", False: "no", None: "not measurable"}[c.holds],
                   # a GO condition that holds is good, a NO-GO condition that holds is bad
                   "status": "na" if c.holds is None else "pass" if c.holds == (label == "GO needs") else "fail",
                   "detail": c.detail}
                  for label, conds in (("GO needs", verdict.go), ("NO-GO if", verdict.no_go)) for c in conds]
    unmet = [c.id for c in verdict.go if not c.holds]
    fired = [c.id for c in verdict.no_go if c.holds]
    summary = (f"NO-GO because {', '.join(fired)} {'holds' if len(fired) == 1 else 'hold'}" if fired else
               "every GO condition holds" if verdict.verdict == "GO" else
               f"HOLD: GO conditions not met or not measurable here: {', '.join(unmet)}")
    met = sum(1 for r in results if r.status in ("target met", "must-have met"))
    summary += f"; {met} of {len(results)} pilot criteria met, {n_na} not measurable."
    return {**out, "baseline": baseline.id if baseline else None, "verdict": verdict.verdict,
            "kind": status_kind(verdict.verdict), "conditions": conditions, "summary": summary}


def _audit(run: Run) -> list:
    ident = run.run.get("identity") or {}
    pred = run.run.get("predictor") or {}
    model = model_label(run.run)
    prompts = ", ".join(f"{t}={p.get('ref', '?')}:{str(p.get('sha256', ''))[:8]}"
                        for t, p in sorted(run.prompts.items()) if isinstance(p, dict)) or "-"
    config_hash = str(ident.get("config_hash") or pred.get("config_hash") or "-")[:12]
    return [run.id, run.pipeline, model, prompts, config_hash, run.value("counts.items"), item_set(run)[:12],
            str(run.run.get("evaluated_on") or "-")]


def _governance(runs: Sequence[Run]) -> dict | None:
    """The maturity-and-governance part (:func:`harness.pages.governance.report_part`): only where the runs'
    results directory holds audit records."""
    from harness.pages.governance import report_part

    return report_part([r.path for r in runs])


# ---------------------------------------------------------------------------------------------- figures
def _metric_rows(runs: Sequence[Run], names: Sequence[str]) -> list[dict]:
    rows = []
    for name in names:
        values = [r.value(name) for r in runs]
        if all(v is None for v in values):
            continue
        spec = registry.lookup(name)
        cells = []
        for r, v in zip(runs, values):
            ci = (r.metrics.get("ci") or {}).get(name) or {}
            lo, hi = ci.get("low"), ci.get("high")
            cells.append({"text": registry.format_value(v, spec.unit), "sort": v if isinstance(v, (int, float)) else "",
                          "ci": (f"[{registry.format_value(lo, spec.unit)}, {registry.format_value(hi, spec.unit)}]"
                                 if lo is not None and hi is not None else "")})
        higher = spec.higher_is_better
        rows.append({"title": spec.title_for(name), "cells": cells,
                     "direction": None if higher is None else ("higher is better" if higher else "lower is better"),
                     "arrow": "" if higher is None else ("▲" if higher else "▼")})
    return rows


def _ci(run: Run, name: str) -> tuple[float | None, float | None, float | None]:
    v = run.value(name)
    ci = (run.metrics.get("ci") or {}).get(name) or {}
    return (v if isinstance(v, (int, float)) else None), ci.get("low"), ci.get("high")


def _headline_plot(runs: Sequence[Run], figures: Figures) -> Plot | None:
    names = [n for n in registry.headline_names() if registry.lookup(n).unit == "fraction"
             and any(isinstance(r.value(n), (int, float)) for r in runs)]
    if not names:
        return None
    return figures.add("intervals", [registry.lookup(n).title_for(n) for n in names],
                       {r.id: [_ci(r, n) for n in names] for r in runs}, "headline figure (95% CI)")


def _paired(pair: Pair, golden, predictions: tuple, items) -> dict:
    if golden is None:
        return {"a": pair.a.id, "b": pair.b.id, "n": 0, "sentences": [
            "No paired statistics: the golden set these runs name cannot be read or has changed since."]}
    try:
        rows = cmp.compare(pair.a, pair.b, golden, predictions=predictions, items=items)
    except HarnessInputError as exc:
        return {"a": pair.a.id, "b": pair.b.id, "n": 0, "sentences": [f"No paired statistics: {exc}"]}
    return {"a": pair.a.id, "b": pair.b.id, "n": max(r.n for r in rows),
            "sentences": [paired_sentence(pair, r) for r in rows]}


def paired_sentence(pair: Pair, r: cmp.ComparisonRow) -> str:
    """One paired difference in a sentence: the values, the interval, McNemar, a warning on a small sample
    (the report page and the Markdown summaries of `harness compare` say it the same way)."""
    spec = registry.lookup(r.metric)
    title = spec.title_for(r.metric)
    if r.difference is None:
        return f"{title}: not measurable on both runs."
    if spec.unit == "fraction":
        size = f"{abs(r.difference) * 100:.1f} percentage points"
        ci = (f" (95% CI {r.ci_low * 100:+.1f} to {r.ci_high * 100:+.1f} points)"
              if r.ci_low is not None and r.ci_high is not None else "")
    else:
        size = registry.format_value(abs(r.difference), spec.unit)
        ci = (f" (95% CI {registry.format_delta(r.ci_low, spec.unit)} to {registry.format_delta(r.ci_high, spec.unit)})"
              if r.ci_low is not None and r.ci_high is not None else "")
    if r.difference == 0:
        text = f"{title} is the same for {pair.b.id} and {pair.a.id} ({registry.format_value(r.a, spec.unit)})"
    else:
        word = "higher" if r.difference > 0 else "lower"
        better = spec.higher_is_better is not None and (r.difference > 0) == spec.higher_is_better
        text = (f"{title} is {size} {word} for {pair.b.id} than for {pair.a.id} "
                f"({registry.format_value(r.b, spec.unit)} vs {registry.format_value(r.a, spec.unit)}){ci}, "
                f"{'better' if better else 'worse'}")
        if r.ci_low is not None and r.ci_high is not None:
            text += ("; the interval excludes zero" if r.ci_low > 0 or r.ci_high < 0 else
                     "; the interval includes zero, so the data do not show which is better")
    if r.mcnemar_p is not None:
        text += (f"; McNemar p = {r.mcnemar_p:.3g} ({r.a_only_right} right only for {pair.a.id}, "
                 f"{r.b_only_right} right only for {pair.b.id})")
    if r.n < SMALL_N:
        text += f" (only {r.n} documents: too few to conclude anything)"
    return text + "."


def _classification(runs: Sequence[Run], figures: Figures) -> dict | None:
    with_cm = [r for r in runs if (r.metrics.get("classification") or {}).get("confusion_matrix")]
    if not with_cm:
        return None
    confusions = [figures.add("confusion", r.metrics["classification"]["labels"],
                              r.metrics["classification"]["confusion_matrix"], r.id) for r in with_cm]
    labels = list(with_cm[0].metrics["classification"]["labels"])
    def f1(r: Run, label: str) -> float | None:  # a class absent from the run's documents has no F1 to show
        per = (r.metrics["classification"].get("per_class") or {}).get(label) or {}
        return per.get("f1") if per.get("support") else None

    f1s = {r.id: [f1(r, c) for c in labels] for r in with_cm}
    return {"confusions": confusions, "f1": figures.add("bars", labels, f1s, "F1 per class")}


def _extraction(runs: Sequence[Run], figures: Figures) -> dict | None:
    with_ex = [r for r in runs if (r.metrics.get("extraction") or {}).get("per_field")]
    if not with_ex:
        return None
    fields = list(with_ex[0].metrics["extraction"]["per_field"])
    acc = {r.id: [(r.metrics["extraction"]["per_field"].get(f) or {}).get("accuracy") for f in fields] for r in with_ex}
    spurious = [[r.id, registry.format_value(r.value("extraction.accuracy"), "fraction"),
                 registry.format_value(r.value("extraction.spurious_rate"), "fraction"),
                 f"{r.value('extraction.n_spurious')} / {r.value('extraction.n_null_gold')}"] for r in with_ex]
    return {"accuracy": figures.add("bars", fields, acc, "accuracy per field"), "spurious": spurious}


def _latency(runs: Sequence[Run], predictions: dict, figures: Figures) -> dict | None:
    from harness.predictor import document_latency

    samples: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        lat = r.metrics.get("latency") or {}
        if not lat:
            continue
        preds = predictions[r.id]
        for task in TASK_ORDER:
            if task not in lat:
                continue
            if task == "document":
                doc_tasks = lat["document"].get("tasks") or ["classify", "extract"]
                vals = [document_latency(p, doc_tasks) for p in preds]
            else:
                vals = [p.tasks[task].model_latency_s for p in preds if task in p.tasks]
            vals = [v for v in vals if isinstance(v, (int, float)) and v > 0]
            if vals:
                samples.setdefault(task, {})[r.id] = vals
    table = []
    for r in runs:
        for task in TASK_ORDER:
            s = (r.metrics.get("latency") or {}).get(task)
            if not s:
                continue
            ttft = s.get("ttft") or {}
            table.append([r.id, task, s.get("n"), *(registry.format_value(s.get(k), "seconds") for k in ("p50", "p95", "p99")),
                          registry.format_value(ttft.get("p50"), "seconds"), registry.format_value(ttft.get("p95"), "seconds")])
    if not table:
        return None
    caption = {"document": "What a caller waits for one document (classify + extract).",
               "answer": "Answering one question (retrieval and generation)."}
    plots_ = [{"plot": figures.add("latency_cdf", by_run, f"{task} latency"),
               "caption": caption.get(task, f"One {task} call.") + " P50, P95 and P99 marked on each curve."}
              for task, by_run in samples.items()]
    return {"plots": plots_, "table": table}


def _answers(runs: Sequence[Run], predictions: dict, goldens: dict) -> dict | None:
    names = [m.name for m in registry.METRICS if m.task == "answer" and m.headline and "*" not in m.name]
    names += ["summaries.hallucination_rate", "summaries.faithfulness"]
    rows = _metric_rows(runs, names)
    if not rows:
        return None
    return {"rows": rows, "flagged": [f for f in (_flagged(r, predictions[r.id], goldens[r.id]) for r in runs) if f is not None]}


def _flagged(run: Run, predictions: Sequence, golden) -> dict | None:
    from metrics.hallucination import detect

    answered = [p for p in predictions if p.answer and p.contexts][:ANSWERS_CHECKED]
    if not answered:
        return None
    questions = {it.id: it.question for it in golden.items(run.split, kinds=("qa",))} if golden else {}
    claims, total = [], 0
    for p in answered:
        for c in detect(p.answer, list(p.contexts)).claims:
            if c.supported:
                continue
            total += 1
            if len(claims) < FLAGGED_CLAIMS:
                claims.append({"question": questions.get(p.id, p.id), "claim": c.claim,
                               "reasons": "; ".join(c.reasons) or f"support {c.support:.0%}",
                               "evidence": c.evidence or "(nothing close)"})
    return {"run": run.id, "claims": claims, "total": total, "checked": len(answered)}


def _cost(runs: Sequence[Run], figures: Figures) -> dict | None:
    with_cost = [r for r in runs if (r.metrics.get("cost") or {}).get("breakdown")]
    if not with_cost:
        return None
    row_names: list[str] = []
    for r in with_cost:
        for b in r.metrics["cost"]["breakdown"]:
            if b.get("row") not in row_names:
                row_names.append(b.get("row"))
    per_row = {name: [next((b.get("per_document") for b in r.metrics["cost"]["breakdown"] if b.get("row") == name), 0.0)
                      for r in with_cost] for name in row_names}
    table = [[r.id, b.get("row"), b.get("kind"), registry.format_value(b.get("per_document"), "usd"), b.get("basis")]
             for r in with_cost for b in r.metrics["cost"]["breakdown"]]
    return {"plot": figures.add("stacked_cost", [r.id for r in with_cost], per_row, "USD per document"),
            "rows": table}
