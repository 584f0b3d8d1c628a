"""Answer-quality metrics that need no judge model (the ``judge.provider: none`` path).

* ``hallucination_rate``: share of answers with at least one claim unsupported by the retrieved contexts
  (the offline detector, :mod:`metrics.hallucination`); ``faithfulness``: mean share of supported claims.
* ``context_recall``: share of the gold supporting passages found in the retrieved contexts;
  ``context_precision``: rank-weighted precision of the retrieved contexts (average precision, a retrieved
  context is relevant when it contains a gold passage or shares at least 80 % of its words).
* ``reference_token_f1``: SQuAD-style token F1 between the answer and the reference answer.

Items that cannot be scored (no answer, no retrieved contexts) are counted with their reason, never
averaged in.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

from metrics.hallucination import MIN_SUPPORT_ANSWER, detect

_TOK = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOK.findall((text or "").lower())


def token_f1(answer: str, reference: str) -> float:
    a, r = _tokens(answer), _tokens(reference)
    if not a or not r:
        return float(a == r)
    common = sum((Counter(a) & Counter(r)).values())
    if common == 0:
        return 0.0
    p, q = common / len(a), common / len(r)
    return 2 * p * q / (p + q)


def _relevant(context: str, gold: str) -> bool:
    c, g = " ".join(_tokens(context)), " ".join(_tokens(gold))
    if g and g in c:
        return True
    gt = set(_tokens(gold))
    return bool(gt) and len(gt & set(_tokens(context))) / len(gt) >= 0.8


def context_recall(retrieved: Sequence[str], gold: Sequence[str]) -> float | None:
    if not gold:
        return None
    return sum(any(_relevant(c, g) for c in retrieved) for g in gold) / len(gold)


def context_precision(retrieved: Sequence[str], gold: Sequence[str]) -> float | None:
    """Average precision over the ranked retrieved contexts (0 when none is relevant)."""
    if not retrieved or not gold:
        return None
    hits, total = 0, 0.0
    for k, c in enumerate(retrieved, start=1):
        if any(_relevant(c, g) for g in gold):
            hits += 1
            total += hits / k
    return total / hits if hits else 0.0


NEEDS_JUDGE = "needs a judge (judge.provider: none)"


@dataclass(frozen=True)
class AnswerScores:
    """Answer metrics without a judge. ``counts`` gives, per metric, the items scored and why others were not."""
    n: int
    n_scored: int
    hallucination_rate: float | None
    faithfulness: float | None
    answer_relevance: float | None
    context_precision: float | None
    context_recall: float | None
    reference_token_f1: float | None
    unscored: dict = field(default_factory=dict)  # reason -> count (hallucination rate / faithfulness)
    counts: dict = field(default_factory=dict)  # metric -> {"scored": n, "unscored": {reason: n}}
    hallucinated: tuple[bool, ...] = ()  # per scored answer, for confidence intervals

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("hallucinated")
        return d


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def answer_scores(answers: Sequence[str | None], contexts: Sequence[Sequence[str] | None],
                  references: Sequence[str], gold_contexts: Sequence[Sequence[str]],
                  min_support: float = MIN_SUPPORT_ANSWER) -> AnswerScores:
    """Offline answer metrics (the ``judge.provider: none`` path).

    >>> r = answer_scores(["Delhi", None], [["The head office is in Delhi."], ["x"]], ["Delhi", "Rome"],
    ...                   [["head office is in Delhi"], ["Rome"]])
    >>> r.hallucination_rate, r.n_scored, r.counts["context_recall"]
    (0.0, 1, {'scored': 2, 'unscored': {}})
    """
    unscored: Counter = Counter()
    ctx_unscored: Counter = Counter()
    f1_unscored: Counter = Counter()
    hall, faith, prec, rec, f1 = [], [], [], [], []
    for ans, ctx, ref, gold in zip(answers, contexts, references, gold_contexts):
        if ctx and gold:
            prec.append(context_precision(ctx, gold))
            rec.append(context_recall(ctx, gold))
        else:
            ctx_unscored["no retrieved contexts" if not ctx else "no reference passages"] += 1
        if ans is None or not ans.strip():
            unscored["no answer (failed or empty)"] += 1
            f1_unscored["no answer (failed or empty)"] += 1
            continue
        f1.append(token_f1(ans, ref))
        if not ctx:
            unscored["no retrieved contexts to check against"] += 1
            continue
        d = detect(ans, ctx, min_support)
        hall.append(float(d.hallucinated))
        faith.append(d.faithfulness)
    n = len(answers)
    counts = {
        "hallucination_rate": {"scored": len(hall), "unscored": dict(unscored)},
        "faithfulness": {"scored": len(faith), "unscored": dict(unscored)},
        "answer_relevance": {"scored": 0, "unscored": {NEEDS_JUDGE: n} if n else {}},
        "context_precision": {"scored": len(prec), "unscored": dict(ctx_unscored)},
        "context_recall": {"scored": len(rec), "unscored": dict(ctx_unscored)},
        "reference_token_f1": {"scored": len(f1), "unscored": dict(f1_unscored)},
    }
    return AnswerScores(n=n, n_scored=len(hall), hallucination_rate=_mean(hall), faithfulness=_mean(faith),
                        answer_relevance=None, context_precision=_mean(prec), context_recall=_mean(rec),
                        reference_token_f1=_mean(f1), unscored=dict(unscored), counts=counts,
                        hallucinated=tuple(bool(h) for h in hall))


# ------------------------------------------------------------------------------------------ with a judge
JUDGE_METRICS = {"faithfulness": "faithfulness", "answer_relevancy": "answer_relevance",
                 "context_precision": "context_precision", "context_recall": "context_recall"}


@dataclass(frozen=True)
class JudgeScores:
    """ragas metrics from per-item judge verdicts, and the judge's own token use and cost."""
    values: dict  # answers.* name -> mean over scored items (None when none was scored)
    counts: dict  # answers.* name -> {"scored": n, "unscored": {reason: n}}
    hallucination_rate: float | None  # share of judged answers with faithfulness < 1
    usage: dict  # calls, cached_calls, input_tokens, output_tokens
    cost_usd: float | None
    faithful: tuple[bool, ...] = ()  # per faithfulness-scored answer: fully supported

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("faithful")
        return d


def judge_scores(judgments: Sequence[Mapping], metrics: Sequence[str] = tuple(JUDGE_METRICS),
                 price_per_1k: tuple[float, float] | None = None) -> JudgeScores:
    """Aggregate judge verdicts: a ``None``/NaN score is unscored with its recorded reason, never averaged.

    ``price_per_1k`` is (input, output) USD per 1,000 judge tokens; ``cost_usd`` is None without it.

    >>> j = [{"scores": {"faithfulness": 1.0}, "reasons": {}, "usage": {"input_tokens": 1000, "output_tokens": 0}},
    ...      {"scores": {"faithfulness": None}, "reasons": {"faithfulness": "judge call failed: timeout"}}]
    >>> r = judge_scores(j, ["faithfulness"], (0.25, 1.25))
    >>> r.values["faithfulness"], r.counts["faithfulness"], r.cost_usd
    (1.0, {'scored': 1, 'unscored': {'judge call failed: timeout': 1}}, 0.25)
    """
    values, counts = {}, {}
    faithful: list[bool] = []
    for m in metrics:
        scored: list[float] = []
        why: Counter = Counter()
        for j in judgments:
            v = (j.get("scores") or {}).get(m)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                why[(j.get("reasons") or {}).get(m) or "judge gave no score (NaN)"] += 1
            else:
                scored.append(float(v))
                if m == "faithfulness":
                    faithful.append(float(v) >= 1.0 - 1e-9)
        values[JUDGE_METRICS[m]] = _mean(scored)
        counts[JUDGE_METRICS[m]] = {"scored": len(scored), "unscored": dict(why)}
    usage = Counter()
    for j in judgments:
        usage.update({k: int(v) for k, v in (j.get("usage") or {}).items()})
    usage_d = {k: usage.get(k, 0) for k in ("calls", "cached_calls", "input_tokens", "output_tokens")}
    cost = None
    if price_per_1k is not None:
        cost = (usage_d["input_tokens"] * price_per_1k[0] + usage_d["output_tokens"] * price_per_1k[1]) / 1000
    return JudgeScores(values=values, counts=counts,
                       hallucination_rate=(sum(not f for f in faithful) / len(faithful)) if faithful else None,
                       usage=usage_d, cost_usd=cost, faithful=tuple(faithful))
