"""Benchmark: TechCorp's month (50,000 documents) through MLOps prediction and all metrics.

    .venv/bin/python benchmarks/mlops_month.py [--docs 50000] [--batch 2000] [--workers 2] [--repeat 3]

Documents are generated in memory from the TechCorp templates (test-split families, fresh seed) before the
clock starts; the model is the default artifact (trained first if missing, not timed). Timed: TF-IDF +
XGBoost classification, candidate generation + per-field XGBoost extraction, and classification,
extraction and latency metrics. Prints docs/s, wall seconds and peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from golden_sets import generate as G  # noqa: E402
from golden_sets import techcorp_spec as S  # noqa: E402
from harness.config import load_config  # noqa: E402
from harness.golden import load_golden_set  # noqa: E402
from metrics import classification_scores, extraction_scores, latency_summary  # noqa: E402
from pipelines.mlops import DEFAULT_CONFIG, MLOpsConfig, artifact_path, build  # noqa: E402

_STATE: dict = {}


def make_docs(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    labels = list(S.CLASSES)
    docs = []
    for i in range(n):
        label = labels[i % len(labels)]
        draft = G.render(rng, label, S.IN_DISTRIBUTION_FAMILIES[rng.randrange(4)])
        text = "\n".join(draft.lines).strip() + "\n"
        if rng.random() < G.NOISE_RATE:  # the same OCR-style noise as the golden set
            text = G.ocr_noise(rng, text, G.protected_values(draft.shown))
        docs.append({"text": text, "label": label,
                     "fields": {k: draft.gold.get(k) for k in S.FIELDS}})
    return docs


def _init(artifact_dir: str, golden_dir: str, n_jobs: int) -> None:
    from pipelines.mlops import model

    _STATE["artifact"] = model.load(Path(artifact_dir), n_jobs=n_jobs)
    _STATE["schema"] = load_golden_set(golden_dir).manifest.fields


def _predict(texts: list[str]) -> tuple[list[str], list[dict], float]:
    from pipelines.mlops import model

    t0 = time.perf_counter()
    labels = model.classify(_STATE["artifact"], texts)
    fields = model.extract(_STATE["artifact"], texts, labels, _STATE["schema"])
    return labels, fields, time.perf_counter() - t0


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest worker, MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, kids / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    golden_dir = ROOT / "golden_sets" / "techcorp"
    golden = load_golden_set(golden_dir)
    cfg = load_config(MLOpsConfig, DEFAULT_CONFIG)
    path = artifact_path(cfg, golden)
    if not (path / "artifact.json").is_file():
        build(cfg, golden, progress=lambda m: print(m, file=sys.stderr))
    t = time.perf_counter()
    docs = make_docs(args.docs)
    print(f"generated {len(docs)} documents in {time.perf_counter() - t:.1f} s (not timed)")
    texts = [d["text"] for d in docs]
    batches = [texts[i:i + args.batch] for i in range(0, len(texts), args.batch)]
    n_jobs = max(1, (os.cpu_count() or 2) // args.workers)
    walls = []
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(str(path), str(golden_dir), n_jobs)) as pool:
        list(pool.map(_predict, [batches[0][:10]] * args.workers))  # warm the workers (model load not timed)
        for r in range(args.repeat):
            t0 = time.perf_counter()
            labels, fields, per_batch = [], [], []
            for lab, fl, secs in pool.map(_predict, batches):
                labels += lab
                fields += fl
                per_batch.append(secs / max(1, args.batch))
            cls = classification_scores([d["label"] for d in docs], labels, labels=golden.manifest.labels)
            ext = extraction_scores([d["fields"] for d in docs], fields, golden.manifest.fields)
            latency_summary(per_batch)
            wall = time.perf_counter() - t0
            walls.append(wall)
            print(f"run {r + 1}: {wall:.1f} s, {len(docs) / wall:,.0f} docs/s, accuracy {cls.accuracy:.4f}, "
                  f"extraction {ext.accuracy:.4f}")
    med = statistics.median(walls)
    parent, worker = peak_rss_mib()
    print(f"median of {len(walls)}: {med:.1f} s end to end for {len(docs):,} documents = {len(docs) / med:,.0f} docs/s "
          f"({args.workers} workers x {n_jobs} XGBoost threads, batch {args.batch})")
    print(f"peak RSS: parent {parent:,.0f} MiB, largest worker {worker:,.0f} MiB "
          f"(about {parent + args.workers * worker:,.0f} MiB in all)")
    print("target: under 60 s ->", "MET" if med < 60 else "NOT MET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
