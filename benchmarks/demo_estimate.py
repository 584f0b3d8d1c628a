"""Benchmark: the reference timings behind ``harness demo``'s opening estimate (``DEMO_REFERENCE`` in
``harness/cli/run.py``), measured from a cold start.

    .venv/bin/python benchmarks/demo_estimate.py [--subset-limit N] [--subset-qa N]

Runs ``harness demo`` in a fresh temporary directory (no trained model, no index, no call cache), then reads
what each part took from the runs it wrote (``run.json``'s ``wall_s``) and the whole from the clock, and prints
per-unit figures beside this machine's ``speed_probe()`` (taken before and after, median). Put the printed
``DEMO_REFERENCE`` line into ``harness/cli/run.py`` after measuring on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(cmd: list[str], cwd: str, log: Path) -> float:
    t0 = time.perf_counter()
    with log.open("a") as fh:
        code = subprocess.call([sys.executable, "-m", "harness.cli", *cmd], cwd=cwd, stdout=fh,
                               stderr=subprocess.STDOUT)
    if code != 0:
        print(log.read_text()[-3000:])
        raise SystemExit(f"harness {' '.join(cmd)} exited {code}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset-limit", type=int, default=None)
    ap.add_argument("--subset-qa", type=int, default=None)
    args = ap.parse_args()
    from harness.progress import speed_probe

    golden = str(ROOT / "golden_sets" / "techcorp")
    extra = [f"--subset-{k}={v}" for k, v in (("limit", args.subset_limit), ("qa", args.subset_qa)) if v is not None]
    probes = [speed_probe(5)]
    with tempfile.TemporaryDirectory(prefix="demo-estimate-") as tmp:
        log = Path(tmp) / "demo.log"
        train_s = _timed(["train", "mlops", "--golden", golden], tmp, log)  # the demo then finds the model
        whole = _timed(["demo", "--golden", golden, *extra], tmp, log)
        probes.append(speed_probe(5))
        runs = {p.name: json.loads((p / "run.json").read_text()) for p in (Path(tmp) / "results").iterdir()
                if (p / "run.json").is_file()}
    mlops = [r for name, r in runs.items() if name.startswith("demo-mlops")]
    llm = runs.get("demo-llmops-test-subset")
    mlops_s = sum(r["wall_s"] for r in mlops)
    mlops_docs = sum(r["n_items"] for r in mlops)
    llm_s = llm["wall_s"] if llm else 0.0
    print(f"speed_probe before / after: {probes[0]:.3f} / {probes[1]:.3f} s")
    print(f"training (harness train mlops): {train_s:.1f} s")
    print(f"demo with the model trained: {whole:.1f} s")
    print(f"  MLOps runs: {mlops_docs} documents in {mlops_s:.1f} s ({mlops_s / mlops_docs:.3f} s a document)")
    if llm:
        print(f"  LLMOps subset: {llm['n_items']} items in {llm_s:.1f} s ({llm_s / llm['n_items']:.2f} s an item)")
    print(f"  the rest (loading models, the vector index, scoring, the page): {whole - mlops_s - llm_s:.1f} s")
    ref = {"probe_s": round(statistics.median(probes), 3), "train_s": round(train_s),
           "mlops_doc_s": round(mlops_s / mlops_docs, 3),
           "llm_item_s": round(llm_s / llm["n_items"], 2) if llm else None,
           "fixed_s": round(whole - mlops_s - llm_s)}
    print(f"DEMO_REFERENCE = {ref}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
