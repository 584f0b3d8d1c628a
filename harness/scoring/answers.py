"""The ``answers`` section: offline figures (detector, reference passages), replaced metric by metric by an
LLM judge's where one ran; the judge's tokens and cost are reported apart from the system's."""

from __future__ import annotations

from typing import Sequence

OFFLINE_SOURCE = {"hallucination_rate": "offline detector", "faithfulness": "offline detector",
                  "answer_relevance": None, "context_precision": "reference passages",
                  "context_recall": "reference passages", "reference_token_f1": "reference answer"}


def answers_section(res, n_no_prediction: int, judgments: Sequence[dict] | None,
                    judge: dict | None) -> tuple[dict, tuple[bool, ...]]:
    """``answers``: offline figures, replaced metric by metric by the judge's where a judge ran; and, per
    answer the judge scored for faithfulness, whether it was fully supported (for a confidence interval).

    ``hallucination_rate`` stays the offline detector's (deterministic, what the gates read); the judge's own
    view (share of answers with ragas faithfulness < 1) is ``answers.judge.hallucination_rate``.
    """
    from metrics.answers import judge_scores

    offline = res.to_dict()
    counts = offline.pop("counts")
    unscored = offline.pop("unscored")
    for c in counts.values():
        if n_no_prediction:
            c["unscored"]["no prediction"] = n_no_prediction
    section = {**offline, "counts": counts, "source": dict(OFFLINE_SOURCE), "unscored": unscored}
    section["unscored"]["no prediction"] = n_no_prediction
    if not judge or judge.get("provider") == "none" or judgments is None:
        section["judge"] = {"provider": "none"}
        return section, ()
    price = judge.get("price_per_1k")
    js = judge_scores(judgments, judge["metrics"], None if price is None else (price["input"], price["output"]))
    section["offline"] = {k: offline[k] for k in ("faithfulness", "context_precision", "context_recall")}
    for name, value in js.values.items():
        section[name] = value
        section["counts"][name] = {**js.counts[name], "unscored": {
            **js.counts[name]["unscored"], **({"no prediction": n_no_prediction} if n_no_prediction else {})}}
        section["source"][name] = f"ragas via {judge['model']}"
    section["judge"] = {**judge, "n_judged": len(judgments), "hallucination_rate": js.hallucination_rate,
                        "usage": js.usage, "cost_usd": js.cost_usd,
                        "cost_note": None if js.cost_usd is not None else "no price known for this judge model: "
                        "set judge.price_input_per_1k and judge.price_output_per_1k"}
    return section, js.faithful
