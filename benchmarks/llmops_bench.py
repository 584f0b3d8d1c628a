"""LLMOps benchmarks (figures for the README). Each part prints its figure and the target.

    .venv/bin/python benchmarks/llmops_bench.py [--part all|overhead|concurrency|cache|tokens] [--repeat 3]

overhead     wall time of a run / summed predictor call time, local model, cache off (target <= 1.02)
concurrency  200 classify calls at concurrency 20 against the Bedrock stand-in at a fixed 1 s latency
             (target <= 1.15 x the ideal 10 s), then again with 20 % throttling (target: all 200 complete)
cache        the same run twice with the call cache on: model calls and wall time of the re-run
             (target: 0 calls, >= 50 x faster)
tokens       local model output tokens/s through the pipeline vs llama.cpp called directly on the same
             prompts (target >= 90 %)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness import runner  # noqa: E402
from harness.golden import load_golden_set  # noqa: E402
from harness.pipelines import build_predictor  # noqa: E402

GOLDEN = ROOT / "golden_sets" / "techcorp"


def _quiet(msg: str) -> None:
    pass


def _run(golden, overrides, out, **sel):
    built = build_predictor("llmops", golden, overrides=overrides, progress=_quiet)
    with built.predictor as p:
        t0 = time.perf_counter()
        res = runner.run(p, golden, "test", out, config=built.config, config_hash=built.config_hash,
                         concurrency=built.concurrency, progress=False, overwrite=True, **sel)
        wall = time.perf_counter() - t0
        calls = p.llm.calls
    preds = [json.loads(x) for x in (Path(out) / "predictions.jsonl").read_text().splitlines()]
    return res, wall, calls, preds


def overhead(golden, tmp: Path, repeat: int) -> None:
    ratios = []
    for r in range(repeat):
        res, _, _, preds = _run(golden, ["cache.enabled=false", "tasks=[classify, extract]"], tmp / f"oh{r}",
                                per_class=1, limit=6)
        summed = sum(t["latency_s"] for p in preds for t in p["tasks"].values())
        wall = json.loads((tmp / f"oh{r}" / "run.json").read_text())["wall_s"]
        ratios.append(wall / summed)
        print(f"  run {r + 1}: wall {wall:.2f} s, summed predictor time {summed:.2f} s, ratio {wall / summed:.4f}")
    med = statistics.median(ratios)
    print(f"overhead: median ratio {med:.4f} over {repeat} runs of 6 documents x 2 tasks "
          f"(target <= 1.02: {'MET' if med <= 1.02 else 'NOT MET'})")


class _Responder:
    """Answers every classify call with the first label (picklable: it runs in the stand-in's process)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, model_id, body):
        return json.dumps({"label": self.label})


def _serve(kwargs, conn) -> None:
    from bedrock_standin import BedrockStandIn

    with BedrockStandIn(**kwargs) as server:
        conn.send(server.url)
        conn.recv()  # wait for "stop"
        st = server.stats
        conn.send({"max_in_flight": st.max_in_flight, "throttled": st.throttled, "requests": st.requests})


class StandInProcess:
    """The stand-in in its own process, as a remote service would be (no GIL shared with the client)."""

    def __init__(self, **kwargs) -> None:
        import multiprocessing as mp

        self.parent, child = mp.Pipe()
        self.proc = mp.get_context("fork").Process(target=_serve, args=(kwargs, child), daemon=True)

    def __enter__(self):
        self.proc.start()
        self.url = self.parent.recv()
        return self

    def __exit__(self, *exc) -> None:
        self.parent.send("stop")
        self.stats = self.parent.recv()
        self.proc.join(5)


def concurrency(golden, tmp: Path, repeat: int) -> None:
    for k, v in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[k] = v
    base = ["llm.provider=bedrock", "llm.model_id=anthropic.claude-3-haiku-20240307-v1:0", "cache.enabled=false",
            "tasks=[classify]", "llm.concurrency=20", "llm.max_retries=10"]
    for throttle in (0.0, 0.2):
        walls = []
        for r in range(repeat):
            server = StandInProcess(responder=_Responder(golden.manifest.labels[0]), latency_s=1.0,
                                    throttle_rate=throttle, seed=r)
            with server:
                res, _, _, preds = _run(golden, base + [f"llm.endpoint_url={server.url}"], tmp / f"cc{r}", limit=200)
            wall = json.loads((tmp / f"cc{r}" / "run.json").read_text())["wall_s"]
            errors = res.metrics["counts"]["errors"]
            walls.append(wall)
            print(f"  throttle {throttle:.0%} run {r + 1}: {len(preds)} items, {errors} errors, wall {wall:.2f} s, "
                  f"max in flight {server.stats['max_in_flight']}, throttled {server.stats['throttled']}")
        med = statistics.median(walls)
        if throttle == 0:
            print(f"concurrency: 200 calls at 20 in flight, 1 s each: median {med:.2f} s = {med / 10:.3f} x ideal "
                  f"(target <= 1.15: {'MET' if med / 10 <= 1.15 else 'NOT MET'})")
        else:
            print(f"throttling 20%: median {med:.2f} s; every run completed all 200 with 0 errors is the target")


def cache(golden, tmp: Path, repeat: int) -> None:
    speedups = []
    for r in range(repeat):
        cache_dir = tmp / f"cache{r}"
        over = [f"cache.dir={cache_dir}", "tasks=[classify, extract]"]
        _, first, calls1, _ = _run(golden, over, tmp / f"c1-{r}", per_class=1, limit=4)
        _, second, calls2, _ = _run(golden, over, tmp / f"c2-{r}", per_class=1, limit=4)
        w1 = json.loads((tmp / f"c1-{r}" / "run.json").read_text())["wall_s"]
        w2 = json.loads((tmp / f"c2-{r}" / "run.json").read_text())["wall_s"]
        speedups.append(w1 / w2)
        print(f"  run {r + 1}: first {w1:.2f} s ({calls1} model calls), re-run {w2:.4f} s ({calls2} model calls), "
              f"{w1 / w2:,.0f} x faster")
    med = statistics.median(speedups)
    print(f"cache: unchanged re-run median {med:,.0f} x faster with 0 model calls "
          f"(target >= 50 x: {'MET' if med >= 50 else 'NOT MET'})")


def tokens(golden, tmp: Path, repeat: int) -> None:
    from pipelines.llmops import extraction_schema
    from harness.models import LocalLLM
    from pipelines.llmops.prompts import load_registry

    docs = golden.items("test", kinds=("document",))[:4]
    reg = load_registry()
    listing = "\n".join(f"- {n} ({s.type}{': ' + ', '.join(s.values) if s.values else ''}): {s.description}"
                        for n, s in golden.manifest.fields.items())
    schema = extraction_schema(golden.manifest.fields)
    ratios = []
    for r in range(repeat):
        _, _, _, preds = _run(golden, ["cache.enabled=false", "tasks=[extract]"], tmp / f"tk{r}", per_class=1,
                              limit=4)
        by_id = {p["id"]: p["tasks"]["extract"] for p in preds}
        pipe_tokens = sum(t["usage"]["output_tokens"] for t in by_id.values())
        pipe_time = sum(t["latency_s"] for t in by_id.values())
        llm = LocalLLM()
        direct_tokens, direct_time = 0, 0.0
        for d in docs:
            system, user = reg["extract@1"].render(fields=listing, label="unknown type", document=d.text[:4000])
            prompt = llm.format_prompt(system, user)
            grammar = llm._grammar(schema)
            t0 = time.perf_counter()
            out = llm.llm.create_completion(prompt, max_tokens=420, temperature=0.0, seed=0, grammar=grammar)
            direct_time += time.perf_counter() - t0
            direct_tokens += out["usage"]["completion_tokens"]
        llm.close()
        ratio = (pipe_tokens / pipe_time) / (direct_tokens / direct_time)
        ratios.append(ratio)
        print(f"  run {r + 1}: pipeline {pipe_tokens / pipe_time:.1f} tok/s, llama.cpp direct "
              f"{direct_tokens / direct_time:.1f} tok/s, ratio {ratio:.3f}")
    med = statistics.median(ratios)
    print(f"tokens/s: pipeline / runtime median {med:.3f} (target >= 0.90: {'MET' if med >= 0.9 else 'NOT MET'})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all", choices=["all", "overhead", "concurrency", "cache", "tokens"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    golden = load_golden_set(GOLDEN)
    tmp = Path(tempfile.mkdtemp(prefix="llmops-bench-"))
    os.chdir(tmp)  # .cache/ and results of the benchmark stay out of the checkout
    try:
        parts = ["overhead", "concurrency", "cache", "tokens"] if args.part == "all" else [args.part]
        for part in parts:
            print(f"== {part}")
            globals()[part](golden, tmp, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
