"""Compare two runs on the same golden split: paired statistics and per-document differences."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from harness.files import dumps_json
from harness.errors import HarnessInputError
from harness.golden import GoldenSet, Item, load_golden_set
from harness.predictor import Prediction, document_latency
from harness.render import table as render_table
from harness.store import Run
from metrics import registry
from metrics.extraction import OUTCOMES, document_outcomes, outcome_columns_of_runs, outcome_table
from metrics.resamples import resampled_percentiles
from metrics.statistics import mcnemar_exact, paired_bootstrap_cis

N_RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class ComparisonRow:
    metric: str
    a: float | None
    b: float | None
    difference: float | None  # b - a
    ci_low: float | None
    ci_high: float | None
    n: int
    mcnemar_p: float | None = None
    a_only_right: int | None = None
    b_only_right: int | None = None
    broken: tuple[str, ...] = ()  # the documents right in A and wrong in B (for extraction: a field went wrong)
    fixed: tuple[str, ...] = ()  # the documents wrong in A and right in B


def same_split(a: Run, b: Run) -> None:
    if a.golden_sha != b.golden_sha:
        raise HarnessInputError(f"runs use different golden sets ({str(a.golden_sha)[:12]} vs {str(b.golden_sha)[:12]}); "
                                "they cannot be compared item by item", path=b.path)
    if a.split != b.split:
        raise HarnessInputError(f"runs are on different splits ({a.split} vs {b.split})", path=b.path)


def golden_for(run: Run) -> GoldenSet:
    path = run.metrics.get("golden", {}).get("path")
    if not path:
        raise HarnessInputError("metrics.json does not say where its golden set is", path=run.path, field="golden.path")
    golden = load_golden_set(path)
    if golden.hash != run.golden_sha:
        raise HarnessInputError(f"the golden set at {path} has changed since this run (hash differs)", path=run.path)
    return golden


def _predictions(run: Run) -> dict[str, Prediction]:
    return {p.id: p for p in run.predictions()}


def common_predictions(a: Run, b: Run, predictions: tuple[Sequence[Prediction], Sequence[Prediction]] | None = None
                       ) -> tuple[dict[str, Prediction], dict[str, Prediction]]:
    """Both runs' predictions (read from the runs unless given); exit 2 with the reason when there is no item
    to compare."""
    if predictions is None:
        pa, pb = _predictions(a), _predictions(b)
    else:
        pa, pb = ({p.id: p for p in preds} for preds in predictions)
    for run, preds in ((a, pa), (b, pb)):
        if not preds:
            raise HarnessInputError("the run directory has no predictions.jsonl to compare (a run scored before "
                                    "scored runs kept their predictions: score it again)", path=run.path)
    if not set(pa) & set(pb):
        raise HarnessInputError(f"no item is predicted in both runs ({len(pa)} and {len(pb)} items, none in "
                                "common): nothing to compare", path=b.path)
    return pa, pb


def _outcome_tables(docs: Sequence, runs: Sequence[Mapping[str, Prediction]], schema) -> list[np.ndarray]:
    """Per run, documents x fields (schema order): each field's outcome as its index in :data:`OUTCOMES` (the
    gold values normalised once for both runs, :func:`metrics.extraction.outcome_columns_of_runs`)."""
    columns = outcome_columns_of_runs([d.fields for d in docs], [[None if preds[d.id].error("extract")
                                                                   else preds[d.id].fields for d in docs]
                                                                  for preds in runs], schema)
    return [outcome_table(c, len(docs)) for c in columns]


def _flips(docs: Sequence[Any], a_right: Sequence[bool], b_right: Sequence[bool]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(documents right in A and wrong in B, documents wrong in A and right in B), in the golden set's order."""
    return (tuple(d.id for d, x, y in zip(docs, a_right, b_right) if x and not y),
            tuple(d.id for d, x, y in zip(docs, a_right, b_right) if y and not x))


def _field_flips(docs: Sequence[Any], ta: np.ndarray, tb: np.ndarray, right: str,
                 wrong: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`_flips` for field outcomes (:func:`_outcome_tables`): a document broke when one of its fields went
    from ``right`` in A to ``wrong`` in B, and was fixed when one went the other way (and none broke)."""
    r, w = OUTCOMES.index(right), OUTCOMES.index(wrong)
    broke = ((ta == r) & (tb == w)).any(axis=1)
    fixed = ((ta == w) & (tb == r)).any(axis=1) & ~broke
    return (tuple(d.id for d, b in zip(docs, broke) if b), tuple(d.id for d, f in zip(docs, fixed) if f))


def compare(a: Run, b: Run, golden: GoldenSet | None = None, n_resamples: int = N_RESAMPLES, seed: int = SEED,
            predictions: tuple[Sequence[Prediction], Sequence[Prediction]] | None = None,
            items: Sequence[Item] | None = None) -> list[ComparisonRow]:
    """Paired statistics of ``b`` against ``a`` over the items both predicted (``predictions``: both runs'
    predictions when the caller has read them already; ``items``: the split's items of ``golden``, likewise)."""
    same_split(a, b)
    golden = golden or golden_for(a)
    pa, pb = common_predictions(a, b, predictions)
    docs = [it for it in (golden.items(a.split) if items is None else items)
            if it.kind == "document" and it.id in pa and it.id in pb]
    rows: list[ComparisonRow] = []
    paired: dict[str, tuple] = {}  # the paired intervals, summed together over one set of resamples
    tests = {}
    flips: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # the documents that broke and were fixed
    cls_docs = [d for d in docs if pa[d.id].has("classify") and pb[d.id].has("classify")]
    if cls_docs:
        ca = [pa[d.id].label == d.label and not pa[d.id].error("classify") for d in cls_docs]
        cb = [pb[d.id].label == d.label and not pb[d.id].error("classify") for d in cls_docs]
        paired["classification.accuracy"] = (ca, cb, None, None)
        tests["classification.accuracy"] = mcnemar_exact(ca, cb)
        flips["classification.accuracy"] = _flips(cls_docs, ca, cb)
    ext_docs = [d for d in docs if pa[d.id].has("extract") and pb[d.id].has("extract")]
    if ext_docs:
        ta, tb = _outcome_tables(ext_docs, (pa, pb), golden.manifest.fields)
        count = lambda table, k: (table == OUTCOMES.index(k)).sum(axis=1)  # noqa: E731 - per document
        gold_n = count(ta, "correct") + count(ta, "wrong")
        null_n = count(ta, "spurious") + count(ta, "empty")
        paired["extraction.accuracy"] = (count(ta, "correct"), count(tb, "correct"), gold_n, gold_n)
        gold_has = (ta == OUTCOMES.index("correct")) | (ta == OUTCOMES.index("wrong"))  # A's (document, field)
        # pairs with a gold value, document by document in schema order: right or wrong in A and in B
        tests["extraction.accuracy"] = mcnemar_exact((ta == OUTCOMES.index("correct"))[gold_has],
                                                     (tb == OUTCOMES.index("correct"))[gold_has])
        paired["extraction.spurious_rate"] = (count(ta, "spurious"), count(tb, "spurious"), null_n, null_n)
        flips["extraction.accuracy"] = _field_flips(ext_docs, ta, tb, "correct", "wrong")
        flips["extraction.spurious_rate"] = _field_flips(ext_docs, ta, tb, "empty", "spurious")
    for name, ci in paired_bootstrap_cis(paired, n_resamples=n_resamples, seed=seed).items():
        mc = tests.get(name)
        rows.append(ComparisonRow(name, ci.a, ci.b, ci.difference, ci.low, ci.high, ci.n,
                                  *((mc.p_value, mc.a_only, mc.b_only) if mc else (None, None, None)),
                                  *flips.get(name, ((), ()))))

    def doc_lat(p: Prediction) -> float | None:
        return document_latency(p, [t for t in ("classify", "extract") if t in p.tasks])

    lat = [(doc_lat(pa[d.id]), doc_lat(pb[d.id])) for d in docs]
    lat = [(x, y) for x, y in lat if x is not None and y is not None]
    if lat:
        la, lb = np.asarray([x for x, _ in lat]), np.asarray([y for _, y in lat])
        # each resample's P95 of both runs over the same items (the resamples of default_rng(seed), drawn
        # resample after resample), read off running draw counts: the figures of np.percentile over each
        # resample to the last bit
        p95 = resampled_percentiles({"a": la, "b": lb}, [95], n_resamples=n_resamples, seed=seed)
        diffs = p95["b"][:, 0] - p95["a"][:, 0]
        va, vb = float(np.percentile(la, 95)), float(np.percentile(lb, 95))
        low, high = np.quantile(diffs, [0.025, 0.975])
        rows.append(ComparisonRow("latency.document.p95", va, vb, vb - va, float(low), float(high), len(lat)))
    ca, cb = a.value("cost.per_document"), b.value("cost.per_document")
    if isinstance(ca, (int, float)) and isinstance(cb, (int, float)) and rows:
        # each run's own cost per document (from its measured usage): a difference, no paired interval
        rows.append(ComparisonRow("cost.per_document", ca, cb, cb - ca, None, None, len(docs)))
    if not rows:
        raise HarnessInputError(f"the runs have {len(docs)} documents in common but no classification, extraction "
                                "or latency on both: nothing to compare", path=b.path)
    return rows


def comparison_table(a: Run, b: Run, rows: Sequence[ComparisonRow], fmt: str = "table") -> str:
    if fmt == "json":
        return dumps_json({"a": a.id, "b": b.id, "golden_sha256": a.golden_sha, "split": a.split,
                           "bootstrap": {"resamples": N_RESAMPLES, "seed": SEED, "confidence": 0.95},
                           "rows": [asdict(r) for r in rows]}, indent=2)

    def f(v: Any, metric: str, delta: bool = False) -> str:
        unit = registry.lookup(metric).unit
        if delta:
            return registry.format_delta(v, unit)
        return "-" if v is None else (f"{100 * v:.2f}%" if unit == "fraction" else registry.format_value(v, unit))

    header = ["metric", a.id, b.id, "B - A", "95% CI", "McNemar p", "n"]
    cells = [[r.metric, f(r.a, r.metric), f(r.b, r.metric), f(r.difference, r.metric, True),
              f"[{f(r.ci_low, r.metric, True)}, {f(r.ci_high, r.metric, True)}]",
              "-" if r.mcnemar_p is None else f"{r.mcnemar_p:.4g} ({r.a_only_right}/{r.b_only_right})", str(r.n)]
             for r in rows]
    out = render_table(header, cells, fmt, right_align_from=len(header))
    if fmt == "md":
        return out
    return out + ("\nMcNemar: exact binomial on discordant items (A-only right / B-only right); CI: paired "
                  f"bootstrap over items, {N_RESAMPLES} resamples, seed {SEED}.")


# ---------------------------------------------------------------------------------------------- diff
def _canonical(v: Any) -> Any:
    """A value as the diff compares it: lists without regard to order, a type change as a change."""
    if isinstance(v, (list, tuple)):
        return ("list", tuple(sorted((_canonical(x) for x in v), key=repr)))
    if isinstance(v, dict):
        return ("dict", tuple(sorted(((str(k), _canonical(x)) for k, x in v.items()), key=repr)))
    return (type(v).__name__, v)


def changed_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The keys whose values differ between two field mappings (a key on one side only counts; lists compare
    without regard to order).

    >>> changed_fields({"codes": ["A", "B"], "total": "1.00", "x": 1}, {"codes": ["B", "A"], "total": "2.00", "x": 1.0})
    ['total', 'x']
    """
    return sorted(k for k in set(a) | set(b) if k not in a or k not in b or _canonical(a[k]) != _canonical(b[k]))


def _plain(v: Any) -> bool:
    return v is None or type(v) is str or (type(v) is list and all(type(x) is str for x in v))


def _plainly_equal(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when both field mappings are equal and hold only None, strings and lists of strings: then
    :func:`changed_fields` finds nothing (for such values == is its comparison), told without canonical forms
    (a month's diff compares 50,000 documents, nearly all unchanged). False says nothing: compare them."""
    return a == b and all(_plain(v) for v in (a or {}).values()) and all(_plain(v) for v in (b or {}).values())


def diff(a: Run, b: Run, golden: GoldenSet | None = None,
         predictions: tuple[Sequence[Prediction], Sequence[Prediction]] | None = None,
         items: Sequence[Item] | None = None) -> dict:
    """Per-document changes between two runs (label flips, changed fields, answer changes) and metric deltas
    (``predictions`` and ``items``, the split's items, when the caller has them already)."""
    same_split(a, b)
    golden = golden or golden_for(a)
    pa, pb = common_predictions(a, b, predictions)
    items = {it.id: it for it in (golden.items(a.split) if items is None else items)}
    flips, fields, answers = [], [], []
    for iid in sorted(set(pa) & set(pb)):
        x, y, gold = pa[iid], pb[iid], items.get(iid)
        if gold is None:
            continue
        if gold.kind == "document" and x.label != y.label:
            flips.append({"id": iid, "gold": gold.label, "a": x.label, "b": y.label,
                          "change": "fixed" if y.label == gold.label else
                          "broken" if x.label == gold.label else "changed"})
        if gold.kind == "document" and (x.fields or y.fields) and not _plainly_equal(x.fields, y.fields):
            changed = changed_fields(x.fields or {}, y.fields or {})
            if changed:
                oa = document_outcomes(gold.fields, x.fields, golden.manifest.fields)
                ob = document_outcomes(gold.fields, y.fields, golden.manifest.fields)
                fields.append({"id": iid, "changes": [
                    {"field": f, "gold": gold.fields.get(f), "a": (x.fields or {}).get(f), "b": (y.fields or {}).get(f),
                     "a_outcome": oa.get(f), "b_outcome": ob.get(f)} for f in changed]})
        if gold.kind == "qa" and x.answer != y.answer:
            answers.append({"id": iid, "question": gold.question, "a": x.answer, "b": y.answer,
                            "reference": gold.reference_answer})
    deltas = {}
    for key in registry.headline_names():
        va, vb = a.value(key), b.value(key)
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            deltas[key] = {"a": va, "b": vb, "delta": vb - va}
    return {"a": a.id, "b": b.id, "n_common": len(set(pa) & set(pb)), "only_a": sorted(set(pa) - set(pb))[:50],
            "only_b": sorted(set(pb) - set(pa))[:50], "label_flips": flips, "field_changes": fields,
            "answer_changes": answers, "metric_deltas": deltas}


def diff_text(d: dict) -> str:
    lines = [f"{d['a']} -> {d['b']}: {d['n_common']} items in both"]
    lines.append("metric deltas:")
    for k, v in d["metric_deltas"].items():
        lines.append(f"  {k}: {v['a']:.4g} -> {v['b']:.4g} ({v['delta']:+.4g})")
    fixed = sum(1 for f in d["label_flips"] if f["change"] == "fixed")
    broken = sum(1 for f in d["label_flips"] if f["change"] == "broken")
    lines.append(f"label flips: {len(d['label_flips'])} ({fixed} fixed, {broken} broken)")
    for f in d["label_flips"][:20]:
        lines.append(f"  {f['id']}: {f['a']} -> {f['b']} (gold {f['gold']}, {f['change']})")
    lines.append(f"documents with changed fields: {len(d['field_changes'])}")
    for doc in d["field_changes"][:20]:
        for c in doc["changes"]:
            lines.append(f"  {doc['id']}.{c['field']}: {c['a']!r} -> {c['b']!r} (gold {c['gold']!r}: "
                         f"{c['a_outcome']} -> {c['b_outcome']})")
    lines.append(f"answers changed: {len(d['answer_changes'])}")
    for a in d["answer_changes"][:10]:
        lines.append(f"  {a['id']}: {a['a']!r} -> {a['b']!r}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- regressions
REGRESSION, NOT_SIGNIFICANT, WITHIN, BETTER, NOT_JUDGED = (
    "regression", "not significant", "within tolerance", "no worse", "not judged")


@dataclass(frozen=True)
class Judgement:
    """One metric of ``regression.tolerance`` judged on B against A: a regression only when B is worse than A by
    more than the tolerance and the paired 95% interval of the difference excludes zero."""
    metric: str
    status: str  # REGRESSION, NOT_SIGNIFICANT, WITHIN, BETTER or NOT_JUDGED
    tolerance: str  # "0.01 absolute", "50% relative"
    allowed: float | None  # the worst difference B - A the tolerance allows
    row: ComparisonRow | None
    line: str  # what every output prints


def _tolerance(tol: Any, before: float | None, higher: bool) -> tuple[float | None, str]:
    """(the worst difference B - A allowed, the tolerance in words) of one ``regression.tolerance`` entry: a
    number is absolute, ``{relative: r}`` a share of A's value."""
    if isinstance(tol, Mapping):
        r = float(tol.get("relative", 0))
        allowed = None if before is None else abs(before) * r
        text = f"{r:.0%} relative"
    else:
        allowed, text = float(tol), f"{float(tol):g} absolute"
    if allowed is None:
        return None, text
    return (-allowed if higher else allowed), text


def judge_regressions(rows: Sequence[ComparisonRow], tolerances: Mapping[str, Any], a_id: str = "A",
                      b_id: str = "B") -> list[Judgement]:
    """Each metric with a tolerance judged from the paired statistics of :func:`compare` (``rows``): a regression
    when B is worse than A beyond the tolerance *and* the interval excludes zero; worse beyond the tolerance
    with an interval that includes zero is "not significant", never a regression; a metric with no paired
    interval here is "not judged".

    >>> row = ComparisonRow("classification.accuracy", 0.9, 0.8, -0.1, -0.2, -0.02, 40, 0.01, 5, 1, ("d1",))
    >>> [j.status for j in judge_regressions([row], {"classification.accuracy": 0.01})]
    ['regression']
    >>> row = ComparisonRow("classification.accuracy", 0.9, 0.85, -0.05, -0.15, 0.0, 40, 0.4, 3, 1)
    >>> [j.status for j in judge_regressions([row], {"classification.accuracy": 0.01})]
    ['not significant']
    """
    by_metric = {r.metric: r for r in rows}
    out = []
    for metric, tol in tolerances.items():
        higher = registry.higher_is_better(metric)
        r = by_metric.get(metric)
        allowed, tol_text = _tolerance(tol, r.a if r else None, higher)
        if r is None or r.difference is None or r.ci_low is None or r.ci_high is None or allowed is None:
            out.append(Judgement(metric, NOT_JUDGED, tol_text, allowed, r,
                                 f"not judged: {metric}: compare has no paired interval for it on these runs "
                                 f"(tolerance {tol_text})"))
            continue
        worse_by = -r.difference if higher else r.difference  # > 0: B is worse
        beyond = (r.difference < allowed) if higher else (r.difference > allowed)
        excludes_zero = (r.ci_high < 0) if higher else (r.ci_low > 0)
        status = (REGRESSION if beyond and excludes_zero else NOT_SIGNIFICANT if beyond else
                  WITHIN if worse_by > 0 else BETTER)
        out.append(Judgement(metric, status, tol_text, allowed, r, _judgement_line(r, status, tol_text, a_id, b_id)))
    return out


def _judgement_line(r: ComparisonRow, status: str, tol_text: str, a_id: str, b_id: str) -> str:
    """``regression: classification.accuracy 95.0% (A) -> 80.0% (B), -15.00 pp, 95% CI [...], McNemar p 0.001,
    tolerance 0.01 absolute; right -> wrong (3): d1, d2, d3``."""
    unit = registry.lookup(r.metric).unit

    def v(x: float | None) -> str:
        return registry.format_value(x, unit)

    def d(x: float | None) -> str:
        return registry.format_delta(x, unit)

    p = "" if r.mcnemar_p is None else f", McNemar p {r.mcnemar_p:.3g}"
    text = (f"{status}: {r.metric} {v(r.a)} ({a_id}) -> {v(r.b)} ({b_id}), {d(r.difference)}, 95% CI "
            f"[{d(r.ci_low)}, {d(r.ci_high)}]{p}, tolerance {tol_text}")
    if status == NOT_SIGNIFICANT:
        text += "; the interval includes zero: not a regression"
    if status in (REGRESSION, NOT_SIGNIFICANT) and r.broken:
        shown = ", ".join(r.broken[:10]) + (f" and {len(r.broken) - 10} more" if len(r.broken) > 10 else "")
        text += f"; right -> wrong ({len(r.broken)}): {shown}"
    return text


def regressions_text(judgements: Sequence[Judgement], a_id: str) -> str:
    """The lines ``harness compare --fail-on-regression`` prints under the table, and its last line."""
    lines = [j.line for j in judgements]
    found = [j for j in judgements if j.status == REGRESSION]
    lines.append(f"{len(found)} regression(s) against {a_id}: {', '.join(j.metric for j in found)}" if found else
                 f"no regression against {a_id}" + (" (a difference beyond its tolerance is not significant: see "
                                                    "above)" if any(j.status == NOT_SIGNIFICANT for j in judgements)
                                                    else ""))
    return "\n".join(lines)
