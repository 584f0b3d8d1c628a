"""Grading throughput: a class of generated variants graded end to end.

1. ``--variants`` (40) generated variants x the course set's grading split, Claude through the real
   langchain-aws client against the Bedrock stand-in at a fixed 1 s per call, ``--slots`` (16) variants at
   once: the local executor (16 call slots), the Dask executor with 1 worker process (16 slots) and with 2
   (8 slots each), each ``--repeat`` (3) times. Printed per executor: the median wall time, the ideal (calls x
   1 s / slots) and their ratio next to the goal (<= 1.15), the machine's load (/proc/loadavg) before and after,
   and the floor the calls themselves set (their recorded latencies summed / slots); grades.csv equal across
   every run.
2. ``--local-variants`` (5) variants on the embedded local model (classify and answer on the grading split),
   with the shared call cache and index, then without (cache off, one index folder per variant).

    .venv/bin/python benchmarks/grading_bench.py [--variants 40] [--slots 16] [--repeat 3] [--local-variants 5]
        [--skip-local] [--skip-standin]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the Bedrock stand-in lives with the tests
sys.path.insert(0, str(ROOT / "benchmarks"))

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
GOAL = 1.15  # issue 32: wall <= 1.15 x the ideal on both executors
ASSIGNMENT = """name: bench
golden: {golden}
dev_split: dev
grading_split: grading
tasks: {tasks}
settings:
  retrieval.top_k: {{min: 1, max: 8}}
  chunking.chunk_size: {{min: 200, max: 1200}}
budget: {{tokens: 1000000, calls: 1000}}
rubric:
  metrics:
    - {{name: classification, metric: classification.macro_f1, points: 50, relative_to: reference, from: -0.1, to: 0.1}}
feedback_examples: 0
"""
CLASSIFY = """id: classify
version: {v}
system: |
  You classify back-office documents (variant {v}). Answer with JSON only.
user: |
  Labels: $labels
  Document:
  $document
  Reply as JSON: {{"label": "<one of the labels>"}}
"""


class Responder:
    """First label for every classification, a fixed answer otherwise (picklable for the stand-in's process)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, model_id, body):
        import json

        from bedrock_standin import user_text

        text = user_text(body)
        return json.dumps({"label": self.label} if "Labels:" in text or "labels" in text.lower()[:200]
                          else {"answer": "not found", "citations": []})


def make_class(root: Path, n: int, tasks: str, local: bool) -> Path:
    """``n`` variants: each a classify prompt of its own version; every third also changes top_k."""
    root.mkdir(parents=True)
    (root / "assignment.yaml").write_text(ASSIGNMENT.format(golden=ROOT / "golden_sets" / "course", tasks=tasks))
    lines = ["student_id,name,email"]
    for i in range(n):
        sid = f"s{i:03d}"
        d = root / "submissions" / sid
        d.mkdir(parents=True)
        if not local or i % 2:
            (d / "classify.yaml").write_text(CLASSIFY.format(v=2 + (i if not local else i // 2)))
        if i % 3 == 2:
            (d / "settings.yaml").write_text("retrieval:\n  top_k: 3\n")
        lines.append(f"{sid},Student {i},{sid}@example.edu")
    (root / "roster.csv").write_text("\n".join(lines) + "\n")
    return root


def run(c: Path, out: Path, sets: list[str], **kw) -> float:
    from harness.grading import grade_class

    t0 = time.perf_counter()
    grade_class(c / "assignment.yaml", c / "submissions", c / "roster.csv", out, overrides=sets, progress=False,
                info=lambda m: None, **kw)
    return time.perf_counter() - t0


def load() -> str:
    """The machine's load averages (1, 5, 15 min), as /proc/loadavg says them."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def calls_own_time(out: Path) -> float:
    """The recorded latencies of every model call of a graded class, summed (seconds)."""
    return sum(t.get("latency_s") or 0.0 for f in out.rglob("predictions.jsonl")
               for line in f.read_text().splitlines() if line.strip()
               for t in json.loads(line).get("tasks", {}).values())


def standin_part(tmp: Path, n: int, slots: int, repeat: int = 3) -> None:
    from harness.golden import load_golden_set
    from llmops_bench import StandInProcess

    for k, v in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[k] = v
    golden = load_golden_set(ROOT / "golden_sets" / "course")
    c = make_class(tmp / "class", n, "[classify]", local=False)
    calls = (n + 1) * len(golden.items("grading", kinds=("document",)))
    ideal = calls * 1.0 / slots
    per_variant = calls // (n + 1)
    rounds = -(-(n + 1) // slots) * per_variant  # a variant's calls run in order: whole variants per slot
    print(f"stand-in at 1 s per call: {n} variants + the reference x {per_variant} calls = {calls} calls, "
          f"{slots} at once: ideal {ideal:.1f} s (calls / slots); {rounds} s with whole variants per slot")
    digests = set()
    for name, kw in (("local executor", {"executor": "local", "workers": slots}),
                     ("dask, 1 worker", {"executor": "dask", "workers": 1, "threads": slots}),
                     ("dask, 2 workers", {"executor": "dask", "workers": 2, "threads": slots // 2})):
        walls, floors, loads = [], [], [load()]
        for r in range(repeat):
            with StandInProcess(responder=Responder(golden.manifest.labels[0]), latency_s=1.0) as server:
                sets = ["llm.provider=bedrock", f"llm.model_id={HAIKU}", f"llm.endpoint_url={server.url}",
                        "embeddings.provider=bedrock", "cache.enabled=false", f"index_dir={tmp / 'index'}"]
                out = tmp / f"{name.replace(' ', '').replace(',', '-')}-{r}"
                walls.append(run(c, out, sets, **kw))
            floors.append(calls_own_time(out) / slots)
            loads.append(load())
            digests.add(hashlib.sha256((out / "grades.csv").read_bytes()).hexdigest()[:12])
            print(f"    {name} run {r + 1}: wall {walls[-1]:.1f} s = {walls[-1] / ideal:.2f} x ideal; "
                  f"{server.stats['requests']} requests, at most {server.stats['max_in_flight']} in flight; the "
                  f"calls' own time / slots {floors[-1]:.1f} s; load {loads[-1]}", flush=True)
        wall, floor = statistics.median(walls), statistics.median(floors)
        ratio = wall / ideal
        print(f"  {name:16s} median of {repeat}: {wall:6.1f} s = {ratio:.2f} x ideal (goal <= {GOAL}: "
              f"{'met' if ratio <= GOAL else 'not met'}); runs {', '.join(f'{w:.1f}' for w in walls)} s; the calls' "
              f"own time / slots {floor:.1f} s = {floor / ideal:.2f} x ideal; load before and after each run: "
              f"{'; '.join(loads)}", flush=True)
    print(f"  grades.csv identical across executors and runs: {len(digests) == 1} ({', '.join(sorted(digests))})")


def local_part(tmp: Path, n: int) -> None:
    c = make_class(tmp / "local-class", n, "[classify, answer]", local=True)
    shared = run(c, tmp / "shared", [f"cache.dir={tmp / 'cache'}", f"index_dir={tmp / 'index-shared'}"])
    print(f"local model, {n} variants + the reference, classify + answer on the grading split:")
    print(f"  shared cache and index: {shared:7.1f} s")
    # no sharing: no cache, and each variant builds its own index (a folder of its own)
    from harness.grading import classroom

    original = classroom.plan

    def own_index(*args, **kwargs):
        jobs, settled = original(*args, **kwargs)
        from dataclasses import replace

        return [replace(j, overrides=j.overrides + (f"index_dir={tmp / 'own-index' / j.student_id}",)) for j in jobs], \
            settled

    classroom.plan = own_index
    try:
        alone = run(c, tmp / "alone", ["cache.enabled=false"])
    finally:
        classroom.plan = original
    print(f"  no cache, an index per variant: {alone:7.1f} s ({alone / shared:.1f} x)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", type=int, default=40)
    p.add_argument("--slots", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3, help="runs per executor (the median is the figure)")
    p.add_argument("--local-variants", type=int, default=5)
    p.add_argument("--skip-local", action="store_true")
    p.add_argument("--skip-standin", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    with tempfile.TemporaryDirectory() as d:
        if not args.skip_standin:
            standin_part(Path(d), args.variants, args.slots, args.repeat)
        if not args.skip_local:
            local_part(Path(d), args.local_variants)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
