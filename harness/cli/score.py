"""``harness score`` (predictions made elsewhere into a run directory, scored) and ``harness judge`` (an LLM
judge over a run's answers)."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import (TABLE_FORMATS, add_judge_args, info, judge_config, judge_only,
                                progress_flag)
from harness.errors import HarnessInputError


def register(sub) -> None:
    p = sub.add_parser("score", help="score predictions produced elsewhere (JSONL: id + label/fields/answer/...)")
    p.add_argument("--golden", default=None)
    p.add_argument("--split", required=True)
    p.add_argument("--predictions", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    add_judge_args(p, judge_set=True)
    p.set_defaults(func=score_command)

    p = sub.add_parser("judge", help="score a run's answers with an LLM judge (ragas) and update its metrics.json")
    p.add_argument("run", help="run directory")
    p.add_argument("--golden", default=None)
    add_judge_args(p, judge_set=True)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    p.set_defaults(func=judge_command)


def score_command(args) -> int:
    from harness import report
    from harness.golden import default_golden, load_golden_set
    from harness.scoring import score_external
    from harness.paths import out_dir
    from harness.predictions_file import read_predictions

    out_dir(args.out)
    judge_cfg = judge_config(args, judge_only(args.overrides))
    golden = load_golden_set(args.golden or default_golden())
    golden.check_split(args.split)  # an unknown split stops here
    preds = read_predictions(args.predictions)
    if not preds:
        raise HarnessInputError("no predictions in file", path=args.predictions)
    metrics = score_external(golden, args.split, preds, args.out, source=str(args.predictions),
                             judge_config=judge_cfg, info=info)
    print(report.table([f"{Path(args.predictions).name}:{args.split}"], [metrics], args.format))
    for note in report.coverage_notes(metrics):
        info(f"note: {note}")
    if metrics["counts"]["n_unknown_ids"]:
        info(f"warning: {metrics['counts']['n_unknown_ids']} prediction ids are not in split {args.split!r}")
    info(f"wrote {Path(args.out)}/run.json, predictions.jsonl, metrics.json")
    return 0


def judge_command(args) -> int:
    from harness import report
    from harness.golden import default_golden, load_golden_set
    from harness.scoring import score_run
    from harness.store import RunStore

    cfg = judge_config(args, judge_only(args.overrides))
    record = RunStore(args.run).read_run()
    if "answer" not in (record.get("tasks") or []):
        raise HarnessInputError("this run has no answers to judge (its tasks: "
                                f"{', '.join(record.get('tasks') or []) or 'none'})", path=args.run)
    golden = load_golden_set(args.golden or (record.get("golden") or {}).get("path") or default_golden())
    if (record.get("golden") or {}).get("sha256") not in (None, golden.manifest.sha256):
        raise HarnessInputError("the run was made on another version of the golden set (sha256 differs); pass "
                                "the right --golden", path=golden.root)
    metrics = score_run(args.run, golden, judge_config=cfg, progress=progress_flag(args), info=info)
    print(report.table([str(args.run)], [metrics], args.format))
    info(f"wrote {Path(args.run) / 'metrics.json'} and judgments.jsonl")
    return 0
