"""Benchmark: offline hallucination detector throughput (target >= 1,000 answers/s on 2 cores).

    .venv/bin/python benchmarks/detector_bench.py [--repeat 5]

Uses the HaluEval sample's 500 labelled answers with their knowledge passages when ../shared/realdata is
present, and always the TechCorp QA reference answers against their documents.
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

from harness.golden import load_golden_set  # noqa: E402
from metrics.hallucination import MIN_SUPPORT_ANSWER, detect  # noqa: E402


def workloads() -> dict[str, list[tuple[str, str]]]:
    out = {}
    g = load_golden_set(ROOT / "golden_sets" / "techcorp")
    out["techcorp QA (answer vs document)"] = [(q.reference_answer, q.text) for q in g.items("test", kinds=("qa",))]
    hal = ROOT.parent / "shared" / "realdata" / "halueval" / "qa_one-turn_data.json"
    if hal.is_file():
        pairs = []
        for line in hal.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            ctx = f"{r['knowledge']}\n{r['question']}"
            pairs += [(r["right_answer"], ctx), (r["hallucinated_answer"], ctx)]
        out["HaluEval (answer vs knowledge)"] = pairs
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    for name, pairs in workloads().items():
        rates = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for ans, ctx in pairs:
                detect(ans, ctx, MIN_SUPPORT_ANSWER)
            rates.append(len(pairs) / (time.perf_counter() - t0))
        med = statistics.median(rates)
        print(f"{name}: {len(pairs)} answers, median {med:,.0f} answers/s over {args.repeat} runs (one process) "
              f"-> target >= 1,000: {'MET' if med >= 1000 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
