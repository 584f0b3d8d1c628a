"""Benchmark: the time the offline guardrails add per document and per question on the TechCorp test split.

    .venv/bin/python benchmarks/guardrails_latency.py [--repeat 3] [--config techcorp]

Checks each of the 600 test documents as the LLMOps pipeline does before classify/extract (PII, injection,
words: the document policies) and each of the 150 test questions as it does before answering (PII, injection,
denied topics, words), with the case study's guardrail file. Models are loaded and warmed up before the clock
starts. Prints P50/P95/mean per document and per question for each repetition, and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from harness.golden import load_golden_set  # noqa: E402
from harness.guardrails.config import load_guardrail_config  # noqa: E402
from harness.guardrails.engine import OfflineGuardrail  # noqa: E402
from pipelines.llmops.predictor import GUARDED_INPUT  # noqa: E402


def timed(engine, texts, only) -> np.ndarray:
    out = []
    for t in texts:
        t0 = time.perf_counter()
        engine.apply(t, "INPUT", only=only)
        out.append(time.perf_counter() - t0)
    return np.asarray(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--config", default="techcorp")
    args = ap.parse_args()
    golden = load_golden_set(ROOT / "golden_sets" / "techcorp")
    docs = [it.text for it in golden.items("test", kinds=("document",))]
    questions = [it.question for it in golden.items("test", kinds=("qa",))]
    engine = OfflineGuardrail(load_guardrail_config(args.config))
    doc_policies = GUARDED_INPUT["classify"]["document"]
    q_policies = GUARDED_INPUT["answer"]["question"]
    engine.apply(docs[0], "INPUT", only=doc_policies)  # load Presidio, the classifier and MiniLM
    engine.apply(questions[0], "INPUT", only=q_policies)
    rows = []
    for r in range(args.repeat):
        d, q = timed(engine, docs, doc_policies), timed(engine, questions, q_policies)
        rows.append((d, q))
        print(f"run {r + 1}: document P50 {1000 * np.percentile(d, 50):.1f} ms, P95 {1000 * np.percentile(d, 95):.1f} "
              f"ms, mean {1000 * d.mean():.1f} ms ({len(docs)} documents); question P50 "
              f"{1000 * np.percentile(q, 50):.1f} ms, P95 {1000 * np.percentile(q, 95):.1f} ms ({len(questions)} questions)")
    med = lambda f: statistics.median(f(x) for x in rows)  # noqa: E731
    print(f"median of {args.repeat}: per document P50 {1000 * med(lambda x: np.percentile(x[0], 50)):.1f} ms, "
          f"P95 {1000 * med(lambda x: np.percentile(x[0], 95)):.1f} ms; per question P50 "
          f"{1000 * med(lambda x: np.percentile(x[1], 50)):.1f} ms, P95 {1000 * med(lambda x: np.percentile(x[1], 95)):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
