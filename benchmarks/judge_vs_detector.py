"""Benchmark: ragas Faithfulness with the local judge (SmolLM2-135M) side by side with the offline detector, on
the same labelled items of the public HaluEval and SummEdits samples (slow: minutes).

    .venv/bin/python benchmarks/judge_vs_detector.py [--n 40] [--json]

Items: the first n/2 hallucinated and the first n/2 faithful items of the held-out half (B) of each file, in
file order, so the sample is balanced, fixed and never the half the detector's thresholds were chosen on. An
answer is "flagged" by ragas when its faithfulness is below 1 (at least one unsupported statement), the same
rule as the detector's hallucination flag. Items the judge could not score (invalid output, NaN) are counted
apart and left out of ragas' precision/recall, and the detector's figures are also given on those same items
so the comparison stays like for like. Judge calls go through the judge's call cache (.cache/judge), so a
second run of the same sample takes seconds; pass --no-cache to time the judge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.detect import Labelled, load, scores  # noqa: E402
from metrics.hallucination import detect  # noqa: E402

FILES = {"halueval": "halueval/qa_one-turn_data.json", "summedits": "summedits_ectsum/summedits_ectsum.json"}


def sample(items: list[Labelled], n: int) -> list[Labelled]:
    held = [it for it in items if it.half == "B"]
    pos = [it for it in held if it.hallucinated][: n // 2]
    neg = [it for it in held if not it.hallucinated][: n - n // 2]
    return pos + neg


def question_and_context(fmt: str, it: Labelled) -> tuple[str, str]:
    if fmt == "halueval":  # the loader joins knowledge and question; ragas wants them apart
        knowledge, _, question = it.context.rpartition("\n")
        return question, knowledge
    return "Summarize the earnings call.", it.context


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="items per file (half hallucinated, half faithful)")
    ap.add_argument("--realdata", default=str(ROOT.parent / "shared" / "realdata"))
    ap.add_argument("--no-cache", action="store_true", help="call the judge even when its answer is cached")
    ap.add_argument("--only", choices=sorted(FILES), help="one file only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    realdata = Path(args.realdata)
    if not realdata.is_dir():
        print(f"public samples not found at {realdata}: nothing to compare", file=sys.stderr)
        return 0

    from harness.judge import ragas_adapter as _ragas_judge
    from harness.judge import build_client as _build_client, load_judge_config

    cfg = load_judge_config(overrides=["judge.provider=local", f"judge.cache.enabled={not args.no_cache}"])
    client = _build_client(cfg, lambda m: print(m, file=sys.stderr))
    report: dict = {"judge": "local/SmolLM2-135M-Instruct", "metric": "ragas Faithfulness < 1 = flagged", "files": {}}
    try:
        for fmt, rel in FILES.items():
            if args.only and fmt != args.only:
                continue
            items, threshold = load(fmt, realdata / rel)
            chosen = sample(items, args.n)
            rows, seconds = [], []
            for k, it in enumerate(chosen, 1):
                question, context = question_and_context(fmt, it)
                t0 = time.perf_counter()
                res = _ragas_judge.score_sample(question, it.answer, [context], None, ["faithfulness"], client,
                                                None, cfg.max_tokens, constrain=True, strictness=1)
                seconds.append(time.perf_counter() - t0)
                value = res.scores["faithfulness"]
                rows.append({"id": it.id, "label": it.hallucinated,
                             "detector": detect(it.answer, it.context, threshold).hallucinated,
                             "ragas": None if value is None else value < 1.0 - 1e-9, "faithfulness": value,
                             "reason": res.reasons.get("faithfulness"), "tokens": res.usage.to_dict()})
                print(f"\r{fmt}: {k}/{len(chosen)}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            scored = [r for r in rows if r["ragas"] is not None]
            reasons: dict[str, int] = {}
            for r in rows:
                if r["ragas"] is None:
                    key = r["reason"].split(":")[0] if r["reason"] else "unknown"
                    reasons[key] = reasons.get(key, 0) + 1
            report["files"][fmt] = {
                "n": len(rows),
                "detector_all": scores([(r["detector"], r["label"]) for r in rows]),
                "detector_on_judged": scores([(r["detector"], r["label"]) for r in scored]),
                "ragas_local_judge": scores([(r["ragas"], r["label"]) for r in scored]),
                "ragas_unscored": {"n": len(rows) - len(scored), "reasons": reasons},
                "agreement_on_judged": (sum(r["ragas"] == r["detector"] for r in scored) / len(scored))
                if scored else None,
                "judge_seconds_per_item_median": statistics.median(seconds) if seconds else None,
                "judge_tokens": {k: sum(r["tokens"][k] for r in rows) for k in ("calls", "cached_calls",
                                                                                "input_tokens", "output_tokens")},
            }
    finally:
        client.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    print(f"{'file':10} {'who':28} {'n':>4} {'prec':>7} {'recall':>7} {'F1':>7} {'bal.acc':>8}")
    for fmt, r in report["files"].items():
        for who, key in (("detector (all)", "detector_all"), ("detector (judged items)", "detector_on_judged"),
                         ("ragas Faithfulness, local", "ragas_local_judge")):
            s = r[key]
            print(f"{fmt:10} {who:28} {s['n']:>4} {pct(s['precision']):>7} {pct(s['recall']):>7} {pct(s['f1']):>7} "
                  f"{pct(s['balanced_accuracy']):>8}")
        print(f"{fmt:10} judge unscored: {r['ragas_unscored']['n']} {r['ragas_unscored']['reasons']}; agreement "
              f"{pct(r['agreement_on_judged'])}; judge {r['judge_seconds_per_item_median']:.1f} s/item (median), "
              f"{r['judge_tokens']['input_tokens']:,} in / {r['judge_tokens']['output_tokens']:,} out tokens, "
              f"{r['judge_tokens']['cached_calls']} of {r['judge_tokens']['calls']} calls cached")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
