"""Benchmark: TechCorp's month (50,000 documents) through the MLOps pipeline and the whole harness, against
TF-IDF + XGBoost classification alone.

    .venv/bin/python benchmarks/mlops_month.py [--docs 50000] [--batch 2000] [--repeat 3] [--set KEY=VALUE ...]

Before the clock starts (not timed): the documents are generated from the TechCorp templates (test-split
families, a fresh seed), written as a golden set in a temporary directory and loaded; the model is the default
artifact (trained first if missing). Timed, in one process on the same machine, each repetition:

* classification alone: TF-IDF transform + XGBoost predict over the month's texts;
* the extraction models alone: the 15 per-field XGBoost models' predict over the month's candidate spans
  (the candidates and their features are computed per batch, untimed): with classification, the models'
  own inference, a floor under any harness around these models;
* the whole month: the harness runner (classify + extract, predictions written to the run store), scoring
  (every metric with its bootstrap intervals, ``metrics.json``) and the gates (pilot criteria, go/no-go).

Prints each phase, the medians, and the ratio whole month / the models' own inference (classification alone +
the extraction models alone; the goal is <= 2), with the machine's load (``/proc/loadavg``) before and after.
The runner spreads the month's batches over worker processes (``n_jobs`` of the MLOps settings, 2 by default);
``--spread-from 1000000000`` measures the harness in one process, as before.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from golden_sets import generate as G  # noqa: E402
from golden_sets.render import render  # noqa: E402
from golden_sets import techcorp_spec as S  # noqa: E402
from golden_sets.values import ocr_noise, protected_values  # noqa: E402
from harness.config import load_config  # noqa: E402
from harness.golden import load_golden_set, write_checksums  # noqa: E402
from pipelines.mlops import DEFAULT_CONFIG, MLOpsConfig, artifact_path, build  # noqa: E402


def make_docs(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    labels = list(S.CLASSES)
    docs = []
    for i in range(n):
        label = labels[i % len(labels)]
        draft = render(rng, label, S.IN_DISTRIBUTION_FAMILIES[rng.randrange(4)])
        text = "\n".join(draft.lines).strip() + "\n"
        if rng.random() < G.NOISE_RATE:  # the same OCR-style noise as the golden set
            text = ocr_noise(rng, text, protected_values(draft.shown))
        docs.append({"id": f"m-{i + 1:06d}", "split": "test", "text": text, "label": label,
                     "fields": {k: draft.gold.get(k) for k in S.FIELDS}, "summary": None})
    return docs


def write_month(docs: list[dict], root: Path) -> Path:
    """The month as a golden set (the TechCorp manifest, one split), so the harness reads it as any other."""
    manifest = yaml.safe_load((ROOT / "golden_sets" / "techcorp" / "manifest.yaml").read_text(encoding="utf-8"))
    manifest.update(name="techcorp-month", splits=["test"])
    root.mkdir(parents=True, exist_ok=True)
    (root / "documents.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs),
                                          encoding="utf-8")
    (root / "qa.jsonl").write_text("", encoding="utf-8")
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True),
                                        encoding="utf-8")
    write_checksums(root)
    return root


def extraction_models_alone(artifact, texts: list[str], labels: list[str], schema, batch: int) -> float:
    """Seconds the field models' predict takes over the candidates of ``texts`` (batches of ``batch``), as
    :func:`pipelines.mlops.model.extract` calls them; finding the candidates and their features is not timed."""
    from pipelines.mlops import model

    seconds = 0.0
    for lo in range(0, len(texts), batch):
        cands, X = model._candidates(artifact, texts[lo:lo + batch], labels[lo:lo + batch], schema)
        for name, spec in schema.items():
            booster = artifact.field_models.get(name)
            rows = model._eligible_rows(cands, name, spec.type)
            if booster is None or rows.size == 0:
                continue
            part = X[rows]
            t0 = time.perf_counter()
            booster.inplace_predict(part)
            seconds += time.perf_counter() - t0
    return seconds


def load() -> str:
    """The machine's load averages and running/total tasks (``/proc/loadavg``), or '?' off Linux."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:4])
    except OSError:
        return "?"


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children (the runner's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def reaped_workers(timeout_s: float = 60.0) -> None:
    """Wait (untimed) until the runner's worker processes have exited and been reaped: the runner lets them exit
    while it scores, and a child's CPU seconds count only once it is reaped."""
    import multiprocessing

    end = time.monotonic() + timeout_s
    while multiprocessing.active_children() and time.monotonic() < end:
        time.sleep(0.02)


def one_month(predictor, golden, config: dict, out: Path, batch: int, spread_from: int | None = None
              ) -> dict[str, float]:
    """Seconds per phase of the whole month through the harness (and ``cpu``: the CPU seconds of the whole)."""
    from harness import gates, runner
    from harness.scoring import score_run

    spread_from = runner.SPREAD_FROM if spread_from is None else spread_from
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    result = runner.execute(predictor, golden, "test", out, config=config, config_hash="bench", batch_size=batch,
                            progress=False, overwrite=True, spread_from=spread_from)
    t1 = time.perf_counter()
    # as harness run does with two free cores: the intervals beside when the batches were spread
    score_run(out, golden, held=result.held, beside=golden.size("test") >= spread_from)
    t2 = time.perf_counter()
    run = gates.load_run(out)
    criteria = gates.load_criteria()
    gates.evaluate_criteria(criteria, run)
    gates.evaluate_go_no_go(criteria, run, run)
    t3 = time.perf_counter()
    reaped_workers()
    return {"predict": t1 - t0, "score": t2 - t1, "gates": t3 - t2, "whole": t3 - t0, "cpu": cpu_seconds() - c0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="an MLOps setting, as in harness run (e.g. extractor.n_estimators=30: what a lighter "
                    "model costs and saves); the model is trained for it first if needed")
    ap.add_argument("--spread-from", type=int, default=None,
                    help="items from which the runner uses worker processes (default: the runner's own)")
    args = ap.parse_args()
    from pipelines.mlops import model

    techcorp = load_golden_set(ROOT / "golden_sets" / "techcorp")
    cfg = load_config(MLOpsConfig, DEFAULT_CONFIG, overrides=args.overrides)
    if not (artifact_path(cfg, techcorp) / "artifact.json").is_file():
        build(cfg, techcorp, progress=lambda m: print(m, file=sys.stderr))
    t = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="mlops-month-"))
    docs = make_docs(args.docs)
    golden = load_golden_set(write_month(docs, tmp / "golden"))
    texts = [d["text"] for d in docs]
    cfg = cfg.model_copy(update={"artifact_dir": str(artifact_path(cfg, techcorp))})
    predictor = build(cfg, golden)
    model.classify(predictor.artifact, texts[:10])  # warm-up
    print(f"prepared {len(docs):,} documents as a golden set in {time.perf_counter() - t:.1f} s (not timed)")
    cls_times, ext_times, phases = [], [], []
    load_before = load()
    model_cpu = []
    for r in range(args.repeat):
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        labels = model.classify(predictor.artifact, texts)
        cls_times.append(time.perf_counter() - t0)
        ext_times.append(extraction_models_alone(predictor.artifact, texts, labels, golden.manifest.fields,
                                                 args.batch))
        model_cpu.append(cpu_seconds() - c0)  # with the candidates' features, computed untimed
        phases.append(one_month(predictor, golden, cfg.model_dump(mode="json"), tmp / "run", args.batch,
                                args.spread_from))
        p = phases[-1]
        print(f"run {r + 1}: classification alone {cls_times[-1]:.2f} s; extraction models alone "
              f"{ext_times[-1]:.2f} s; whole month {p['whole']:.2f} s "
              f"(predict {p['predict']:.2f}, score {p['score']:.2f}, gates {p['gates']:.2f}); "
              f"ratio {p['whole'] / (cls_times[-1] + ext_times[-1]):.2f}; CPU: whole month {p['cpu']:.1f} s, "
              f"classification + extraction models with their untimed features {model_cpu[-1]:.1f} s; load {load()}")
    cls, ext = statistics.median(cls_times), statistics.median(ext_times)
    med = {k: statistics.median(p[k] for p in phases) for k in phases[0]}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    metrics = json.loads((tmp / "run" / "metrics.json").read_text())
    print(f"median of {args.repeat}: classification alone {cls:.2f} s; extraction models alone {ext:.2f} s; "
          f"whole month {med['whole']:.2f} s "
          f"(predict {med['predict']:.2f}, score {med['score']:.2f}, gates {med['gates']:.2f}) for {len(docs):,} "
          f"documents = {len(docs) / med['whole']:,.0f} docs/s; peak RSS {rss:,.0f} MiB")
    print(f"accuracy {metrics['classification']['accuracy']:.4f}, extraction {metrics['extraction']['accuracy']:.4f}")
    ratio = med["whole"] / (cls + ext)
    print(f"ratio whole month / the models' own inference (classification + extraction models alone, "
          f"{cls + ext:.2f} s): {ratio:.2f} (goal <= 2: {'met' if ratio <= 2 else 'not met'}); median of "
          f"{args.repeat}; load {load_before} before, {load()} after")
    own = [p["whole"] / (c + e) for p, c, e in zip(phases, cls_times, ext_times)]
    print(f"each run's own ratio (its whole month against the models timed just before it, in the same minute): "
          f"{', '.join(f'{r:.2f}' for r in own)}; median {statistics.median(own):.2f}")
    print(f"CPU seconds of the whole month (this process and its workers): {med['cpu']:.1f} s over "
          f"{med['whole']:.1f} s of wall time = {med['cpu'] / med['whole']:.2f} cores busy on average")
    print(f"the harness around the models: {med['whole'] - cls - ext:.2f} s = "
          f"{(med['whole'] - cls - ext) / (cls + ext):.2f}x the models' own inference")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
