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

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Sequence

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


@dataclass(frozen=True)
class AnswerScores:
    n: int
    n_scored: int
    hallucination_rate: float | None
    faithfulness: float | None
    context_precision: float | None
    context_recall: float | None
    reference_token_f1: float | None
    unscored: dict = field(default_factory=dict)  # reason -> count
    judge: str = "none"
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
    unscored: Counter = Counter()
    hall, faith, prec, rec, f1 = [], [], [], [], []
    for ans, ctx, ref, gold in zip(answers, contexts, references, gold_contexts):
        if ctx:
            prec.append(context_precision(ctx, gold))
            rec.append(context_recall(ctx, gold))
        if ans is None or not ans.strip():
            unscored["no answer (failed or empty)"] += 1
            continue
        f1.append(token_f1(ans, ref))
        if not ctx:
            unscored["no retrieved contexts to check against"] += 1
            continue
        d = detect(ans, ctx, min_support)
        hall.append(float(d.hallucinated))
        faith.append(d.faithfulness)
    return AnswerScores(n=len(answers), n_scored=len(hall), hallucination_rate=_mean(hall), faithfulness=_mean(faith),
                        context_precision=_mean(prec), context_recall=_mean(rec), reference_token_f1=_mean(f1),
                        unscored=dict(unscored), hallucinated=tuple(bool(h) for h in hall))
