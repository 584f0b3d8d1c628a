"""Command line: ``harness run | score | judge | train | report | golden | gates | compare | demo | ...``.

Exit codes: 0 success, 1 a check failed, 2 bad input (file, line and field named on one line),
130 interrupted (rerun the same command to resume a run).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.errors import HarnessInputError

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def default_golden() -> str:
    local = Path("golden_sets/techcorp")
    if (local / "manifest.yaml").is_file():
        return str(local)
    import golden_sets

    return str(Path(golden_sets.__file__).parent / "techcorp")


def _info(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML config replacing the pipeline's default config file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting (repeatable), e.g. --set classifier.max_depth=8")


def _add_judge_args(p: argparse.ArgumentParser, judge_set: bool = False) -> None:
    """--judge and --judge-config; ``judge_set`` adds a --set that takes judge.* settings only (commands
    without pipeline settings of their own)."""
    p.add_argument("--judge", choices=["none", "local", "bedrock"],
                   help="who scores answers with ragas' LLM metrics (default: judge.provider in harness/judge.yaml, "
                        "none); settings with --set judge.KEY=VALUE")
    p.add_argument("--judge-config", help="YAML replacing harness/judge.yaml")
    if judge_set:
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="judge.KEY=VALUE",
                       help="override one judge setting (repeatable), e.g. --set judge.model_id=claude-3-haiku")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Evaluate and compare document-intelligence "
                                     "pipelines on golden sets.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run a pipeline over a golden split into a run directory (resumable)")
    p.add_argument("--pipeline", required=True)
    p.add_argument("--golden", default=None, help="golden set directory (default: golden_sets/techcorp)")
    p.add_argument("--split", default="test")
    p.add_argument("--out", required=True, help="run directory, e.g. results/mlops-test")
    p.add_argument("--limit", type=int, help="only the first N items of the split (smoke runs)")
    p.add_argument("--per-class", type=int, help="only the first N documents of each label")
    p.add_argument("--qa-limit", type=int, help="only the first N QA items")
    p.add_argument("--overwrite", action="store_true", help="discard a different run already in --out")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    _add_config_args(p)

    p.add_argument("--eval-date", help="the run's evaluation date YYYY-MM-DD for weekly gates (default: today)")
    _add_judge_args(p)

    p = sub.add_parser("score", help="score predictions produced elsewhere (JSONL: id + label/fields/answer/...)")
    p.add_argument("--golden", default=None)
    p.add_argument("--split", required=True)
    p.add_argument("--predictions", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    _add_judge_args(p, judge_set=True)

    p = sub.add_parser("judge", help="score a run's answers with an LLM judge (ragas) and update its metrics.json")
    p.add_argument("run", help="run directory")
    p.add_argument("--golden", default=None)
    _add_judge_args(p, judge_set=True)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--format", choices=["table", "md", "json"], default="table")

    p = sub.add_parser("train", help="train a pipeline's model on the golden set's train split")
    p.add_argument("pipeline", choices=["mlops"])
    p.add_argument("--golden", default=None)
    p.add_argument("--out", help="artifact directory (default: artifacts/mlops/<golden>-<hash>-<config>)")
    _add_config_args(p)

    p = sub.add_parser("report", help="print the metrics of run directories side by side")
    p.add_argument("runs", nargs="+")
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    p.add_argument("--detail", action="store_true", help="add per-class F1 and per-field accuracy")

    p = sub.add_parser("golden", help="generate, verify or re-checksum golden sets")
    gsub = p.add_subparsers(dest="golden_command", required=True)
    g = gsub.add_parser("generate", help="regenerate the TechCorp golden set (deterministic)")
    g.add_argument("--out", default="golden_sets/techcorp")
    g.add_argument("--seed", type=int, default=None)
    g = gsub.add_parser("verify", help="validate a golden set directory")
    g.add_argument("path")
    g = gsub.add_parser("checksum", help="rewrite the manifest's sha256 of each data file")
    g.add_argument("path")
    g = gsub.add_parser("import", help="build a golden set from a public sample (sroie, cuad)")
    g.add_argument("source", choices=["sroie", "cuad"])
    g.add_argument("--src", required=True, help="e.g. ../shared/realdata/sroie")
    g.add_argument("--out", required=True)

    p = sub.add_parser("gates", help="evaluate pilot success criteria and the go/no-go verdict for a run")
    p.add_argument("run")
    p.add_argument("--baseline", help="the baseline run (the MLOps pipeline) for relative conditions")
    p.add_argument("--criteria", help="criteria YAML (default: the TechCorp pilot's)")
    p.add_argument("--history", help="directory of dated runs for the 'consecutive weeks' conditions")
    p.add_argument("--ratings", help="user ratings CSV (column 'rating', 1-5)")
    p.add_argument("--audit", help="audit checklist YAML (items: [{id, satisfied}])")
    p.add_argument("--incidents", help="incident log YAML (incidents: [{type, severity, date}])")
    p.add_argument("--only", help="comma-separated criterion ids to evaluate (default: all)")
    p.add_argument("--require-go", action="store_true", help="exit 1 unless the verdict is GO")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser("rollback", help="evaluate rollback triggers over monitoring records (JSONL)")
    p.add_argument("monitoring")
    p.add_argument("--criteria")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser("compare", help="paired statistics between two runs on the same golden split")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--format", choices=["table", "json", "md"], default="table")

    p = sub.add_parser("diff", help="per-document changes and metric deltas between two runs")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("leaderboard", help="rank the runs in a results directory on one metric")
    p.add_argument("results")
    p.add_argument("--metric", default="classification.accuracy")
    p.add_argument("--format", choices=["md", "html", "csv"], default="md")
    p.add_argument("--criteria", help="criteria YAML for the gate status column (default: TechCorp pilot)")
    p.add_argument("--split", help="only runs on this split")
    p.add_argument("--golden-sha", help="only runs on the golden set with this sha256 (prefix)")

    p = sub.add_parser("detect", help="run the offline hallucination detector on a labelled file")
    p.add_argument("file")
    p.add_argument("--format", dest="fmt", choices=["halueval", "summedits", "jsonl"], required=True)
    p.add_argument("--out", help="directory for per-item verdicts (verdicts.jsonl) and detect.json")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--min-support", type=float, help="override the documented threshold")

    p = sub.add_parser("demo", help="the main job: both pipelines on the TechCorp golden set, side by side")
    p.add_argument("--golden", default=None)
    p.add_argument("--results", default="results")
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    p.add_argument("--detail", action="store_true", help="add per-class F1 and per-field accuracy")
    p.add_argument("--mlops-only", action="store_true", help="skip the LLMOps part (seconds instead of minutes)")
    return parser


def _judge_config(args, overrides):
    from harness.judge import load_judge_config

    return load_judge_config(args.judge_config, overrides, args.judge)


def _run(args) -> int:
    from harness import report, runner
    from harness.golden import load_golden_set
    from harness.judge import judge_run, split_overrides
    from harness.pipelines import build_predictor

    golden = load_golden_set(args.golden or default_golden())
    golden.items(args.split)  # an unknown split stops here, before any model is loaded or trained
    pipeline_overrides, judge_overrides = split_overrides(args.overrides)
    judge_cfg = _judge_config(args, judge_overrides)  # a bad judge setting stops before the run
    built = build_predictor(args.pipeline, golden, args.config, pipeline_overrides, progress=_info)
    with built.predictor as predictor:
        result = runner.run(predictor, golden, args.split, args.out, config=built.config,
                            config_hash=built.config_hash, limit=args.limit, per_class=args.per_class,
                            qa_limit=args.qa_limit, batch_size=built.batch_size, concurrency=built.concurrency,
                            progress=False if args.no_progress else None, overwrite=args.overwrite,
                            extra={"evaluated_on": _eval_date(args.eval_date)})
    if result.n_skipped:
        _info(f"resumed: {result.n_skipped} items were already done, {result.n_new} new")
    metrics = result.metrics
    if judge_cfg.provider != "none":
        if "answers" in metrics:
            metrics = judge_run(result.out_dir, golden, judge_cfg, progress=False if args.no_progress else None,
                                info=_info)
        else:
            _info("judge: this run has no answers to judge (no QA items in its selection)")
    print(report.table([f"{args.pipeline}:{args.split}"], [metrics], args.format))
    _info(f"wrote {result.out_dir}/run.json, predictions.jsonl, metrics.json")
    return 0


def _eval_date(value: str | None) -> str:
    from datetime import date

    if value is None:
        return date.today().isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HarnessInputError(f"not a date YYYY-MM-DD: {value!r}", field="--eval-date") from None


def _gates(args) -> int:
    from harness import gates

    criteria = gates.load_criteria(args.criteria)
    run = gates.load_run(args.run)
    baseline = gates.load_run(args.baseline) if args.baseline else None
    history = gates.load_runs(args.history) if args.history else []
    ratings = gates.read_ratings(args.ratings) if args.ratings else None
    audit = gates.read_audit(args.audit) if args.audit else None
    incidents = gates.read_incidents(args.incidents) if args.incidents else None
    only = [x.strip() for x in args.only.split(",")] if args.only else None
    if only:
        unknown = set(only) - {c.id for c in criteria.criteria}
        if unknown:
            raise HarnessInputError(f"unknown criterion id(s): {', '.join(sorted(unknown))}", field="--only")
    results = gates.evaluate_criteria(criteria, run, ratings, only)
    verdict = gates.evaluate_go_no_go(criteria, run, baseline, history, ratings, audit, incidents)
    data = gates.results_json(results, verdict)
    data["run"], data["baseline"], data["criteria_file"] = run.id, baseline.id if baseline else None, criteria.path
    (run.path / "gates.json").write_text(gates.dumps(data) + "\n", encoding="utf-8")
    if args.format == "json":
        print(gates.dumps(data))
    else:
        print(_gates_table(results, verdict, run, baseline))
    ok = gates.must_haves_hold(results) and (verdict.verdict == "GO" or not args.require_go)
    return 0 if ok else 1


def _gates_table(results, verdict, run, baseline) -> str:
    def num(v):
        return "-" if v is None else f"{v:.4g}"

    rows = [["criterion", "observed", "target / must-have", "status", "evidence"]]
    rows += [[r.title, num(r.observed), r.bound, r.status, r.evidence] for r in results]
    widths = [max(len(x[i]) for x in rows) for i in range(5)]
    out = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    out.append("")
    out.append(f"go/no-go for {run.id}" + (f" against {baseline.id}" if baseline else "") + f": {verdict.verdict}")
    for label, conds in (("GO needs", verdict.go), ("NO-GO if", verdict.no_go)):
        for c in conds:
            mark = {True: "yes", False: "no", None: "n/a"}[c.holds]
            out.append(f"  {label} {c.id}: {mark} - {c.detail}")
    if verdict.weeks:
        out.append("weekly ledger:")
        for w in verdict.weeks:
            out.append(f"  {w['condition']} {w['week']}: {w['run'] or '-'} = {num(w['value'])}, "
                       f"baseline {w['baseline_run'] or '-'} = {num(w['baseline_value'])}")
    return "\n".join(out)


def _rollback(args) -> int:
    import json as _json

    from harness import gates

    criteria = gates.load_criteria(args.criteria)
    records = gates.read_monitoring(args.monitoring)
    fired = gates.evaluate_rollback(criteria.rollback_triggers, records)
    if args.format == "json":
        print(_json.dumps([t.__dict__ for t in fired], indent=2))
    else:
        for t in fired:
            window = f" window {t.window[0]} .. {t.window[1]}" if t.window else ""
            print(f"{'FIRED' if t.fired else 'ok   '}  {t.id}: {t.detail}{window}")
    return 1 if any(t.fired for t in fired) else 0


def _compare(args) -> int:
    from harness import compare, gates

    a, b = gates.load_run(args.run_a), gates.load_run(args.run_b)
    print(compare.comparison_table(a, b, compare.compare(a, b), args.format))
    return 0


def _diff(args) -> int:
    import json as _json

    from harness import compare, gates

    d = compare.diff(gates.load_run(args.run_a), gates.load_run(args.run_b))
    print(_json.dumps(d, indent=2, default=str) if args.format == "json" else compare.diff_text(d))
    return 0


def _leaderboard(args) -> int:
    from harness import gates, leaderboard

    runs = gates.load_runs(args.results)
    if args.split:
        runs = [r for r in runs if r.split == args.split]
    if args.golden_sha:
        runs = [r for r in runs if str(r.golden_sha).startswith(args.golden_sha)]
    rows = leaderboard.rank(runs, args.metric, gates.load_criteria(args.criteria))
    print(leaderboard.render(rows, args.metric, args.format))
    return 0


def _detect(args) -> int:
    import json as _json

    from harness.detect import run_detect

    report, verdicts = run_detect(args.fmt, args.file, args.min_support)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "verdicts.jsonl", "w", encoding="utf-8") as fh:
            for v in verdicts:
                fh.write(_json.dumps(v, ensure_ascii=False) + "\n")
        (out / "detect.json").write_text(_json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(_json.dumps(report, indent=2))
        return 0

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}%"

    print(f"{args.fmt}: {args.file} (min_support {report['min_support']:g})")
    print(f"{'items':<22}{'n':>6}{'precision':>11}{'recall':>9}{'F1':>8}{'balanced acc':>14}")
    for key, title in (("half_A_tuning", "half A (tuning)"), ("half_B_held_out", "half B (held out)"),
                       ("all", "all")):
        r = report[key]
        print(f"{title:<22}{r['n']:>6}{pct(r['precision']):>11}{pct(r['recall']):>9}{pct(r['f1']):>8}"
              f"{pct(r['balanced_accuracy']):>14}")
    return 0


def _score(args) -> int:
    from harness import report, scoring
    from harness.golden import load_golden_set
    from harness.runner import now
    from harness.store import RunStore, read_predictions

    from harness.judge import JUDGMENTS, describe, judge_items

    judge_cfg = _judge_config(args, _judge_only(args.overrides))
    golden = load_golden_set(args.golden or default_golden())
    preds = read_predictions(args.predictions)
    if not preds:
        raise HarnessInputError("no predictions in file", path=args.predictions)
    store = RunStore(args.out)
    items = golden.items(args.split)
    judgments = judge_items(judge_cfg, items, preds, store.root / JUDGMENTS, info=_info)
    metrics = scoring.score(golden, args.split, preds, judgments=judgments, judge=describe(judge_cfg))
    store.write_run({"predictor": {"name": "external", "predictions": str(args.predictions)},
                     "golden": golden.describe(), "split": args.split, "scored_at": now(),
                     "tasks": scoring.tasks_present(preds)})
    store.write_metrics(metrics)
    print(report.table([f"{Path(args.predictions).name}:{args.split}"], [metrics], args.format))
    if metrics["counts"]["n_unknown_ids"]:
        _info(f"warning: {metrics['counts']['n_unknown_ids']} prediction ids are not in split {args.split!r}")
    _info(f"wrote {store.metrics_path}")
    return 0


def _judge_only(overrides) -> list[str]:
    from harness.judge import split_overrides

    other, judge = split_overrides(overrides)
    if other:
        raise HarnessInputError(f"only judge.* settings can be set here, got {other[0]!r}", field="--set")
    return judge


def _judge(args) -> int:
    from harness import report
    from harness.golden import load_golden_set
    from harness.judge import judge_run
    from harness.store import RunStore

    cfg = _judge_config(args, _judge_only(args.overrides))
    record = RunStore(args.run).read_run()
    if "answer" not in (record.get("tasks") or []):
        raise HarnessInputError("this run has no answers to judge (its tasks: "
                                f"{', '.join(record.get('tasks') or []) or 'none'})", path=args.run)
    golden = load_golden_set(args.golden or (record.get("golden") or {}).get("path") or default_golden())
    if (record.get("golden") or {}).get("sha256") not in (None, golden.manifest.sha256):
        raise HarnessInputError("the run was made on another version of the golden set (sha256 differs); pass "
                                "the right --golden", path=golden.root)
    metrics = judge_run(args.run, golden, cfg, progress=False if args.no_progress else None, info=_info)
    print(report.table([str(args.run)], [metrics], args.format))
    _info(f"wrote {Path(args.run) / 'metrics.json'} and judgments.jsonl")
    return 0


def _train(args) -> int:
    from harness.golden import load_golden_set
    from harness.pipelines import load_pipeline_config
    from pipelines.mlops import artifact_path, model

    golden = load_golden_set(args.golden or default_golden())
    _, cfg = load_pipeline_config(args.pipeline, args.config, args.overrides)
    out = Path(args.out) if args.out else artifact_path(cfg, golden)
    artifact = model.train(golden, cfg, out, progress=_info)
    print(f"{artifact.version} -> {out}")
    return 0


def _report(args) -> int:
    from harness import report
    from harness.store import RunStore

    metrics = [RunStore(r).read_metrics() for r in args.runs]
    print(report.table([Path(r).name for r in args.runs], metrics, args.format, detail=args.detail))
    return 0


def _golden(args) -> int:
    from harness.golden import load_golden_set, write_checksums

    if args.golden_command == "generate":
        from golden_sets import generate

        generate.generate(args.out, args.seed if args.seed is not None else generate.DEFAULT_SEED)
        print(f"wrote {args.out}")
    elif args.golden_command == "verify":
        g = load_golden_set(args.path)
        counts = {s: len(g.items(s)) for s in g.manifest.splits}
        print(f"ok: {g.name} {g.manifest.version} sha256 {g.hash[:12]} items per split {counts}")
    elif args.golden_command == "import":
        from golden_sets.importers import IMPORTERS

        out = IMPORTERS[args.source](args.src, args.out)
        g = load_golden_set(out)
        print(f"wrote {out}: {len(g.documents)} documents, labels {len(g.manifest.labels)}")
    else:
        sums = write_checksums(args.path)
        for name, digest in sums.items():
            print(f"{name}: {digest}")
    return 0


DEMO_SUBSET = {"per_class": 1, "qa_limit": 12}  # the LLMOps part of the main job: 12 documents + 12 QA items


def _demo(args) -> int:
    """The main job: MLOps on test and shift, then both pipelines on the same documented test subset."""
    from harness import report, runner
    from harness.golden import load_golden_set
    from harness.pipelines import build_predictor

    golden = load_golden_set(args.golden or default_golden())
    names, metrics = [], []
    plan = [("mlops", "test", {}), ("mlops", "shift", {}), ("mlops", "test", DEMO_SUBSET)]
    if not args.mlops_only:
        plan.append(("llmops", "test", DEMO_SUBSET))
    built_by_pipeline = {}
    try:
        for pipeline, split, subset in plan:
            if split not in golden.manifest.splits:
                continue
            if pipeline not in built_by_pipeline:
                built_by_pipeline[pipeline] = build_predictor(pipeline, golden, progress=_info)
            built = built_by_pipeline[pipeline]
            tag = f"{split}-subset" if subset else split
            out = Path(args.results) / f"demo-{pipeline}-{tag}"
            _info(f"running {pipeline} on {golden.name}:{split}{' (subset ' + str(subset) + ')' if subset else ''}"
                  f" -> {out}")
            res = runner.run(built.predictor, golden, split, out, config=built.config, config_hash=built.config_hash,
                             batch_size=built.batch_size, concurrency=built.concurrency, overwrite="stale",
                             extra={"evaluated_on": _eval_date(None)}, **subset)
            names.append(f"{pipeline}:{tag}")
            metrics.append(res.metrics)
    finally:
        for built in built_by_pipeline.values():
            built.predictor.close()
    print(report.table(names, metrics, args.format, detail=args.detail))
    return 0


COMMANDS = {"run": _run, "score": _score, "train": _train, "report": _report, "golden": _golden, "demo": _demo,
            "gates": _gates, "detect": _detect, "judge": _judge, "rollback": _rollback, "compare": _compare, "diff": _diff, "leaderboard": _leaderboard}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except HarnessInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was written is kept; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
