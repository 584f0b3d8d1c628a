"""``harness export mlflow``: runs (or a graded class's students, or a shadow database's weeks) into an MLflow
tracking server or store, one MLflow run each, updated in place by a second export (:mod:`harness.mlflow_export`)."""

from __future__ import annotations

from harness.errors import HarnessInputError


def register(sub) -> None:
    p = sub.add_parser("export", help="export runs to an experiment tracker (MLflow)")
    esub = p.add_subparsers(dest="target", required=True)
    m = esub.add_parser("mlflow", help="one MLflow run per harness run: config as params, registry metrics with "
                        "their intervals, golden set, gates and versions as tags, the golden split as dataset input, "
                        "run files and the report page as artifacts; a second export updates the same MLflow run")
    m.add_argument("runs", nargs="*", metavar="RUN", help="run directories")
    m.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else "
                   "sqlite:///mlflow.db in the working directory)")
    m.add_argument("--experiment", default="docintel-harness", help="MLflow experiment (created when absent; "
                   "default: docintel-harness)")
    m.add_argument("--grading", metavar="OUT", help="also export a graded class (harness grade run --out OUT): "
                   "one MLflow run per student, the grade and its rubric lines as metrics")
    m.add_argument("--shadow", metavar="DB", help="also export a comparison database (harness shadow ingest): "
                   "one MLflow run per ISO week with the week's figures and judged metrics")
    m.set_defaults(func=mlflow_command)


def mlflow_command(args) -> int:
    from pathlib import Path

    from harness import mlflow_entries, mlflow_export as mx
    from harness.cli.common import info

    if not (args.runs or args.grading or args.shadow):
        raise HarnessInputError("name at least one run directory, --grading OUT or --shadow DB", field="runs")
    uri = mx.tracking_uri(args.tracking_uri)
    entries = []  # everything read and checked before anything is written
    if args.grading:
        entries += mlflow_entries.student_entries(Path(args.grading))
    if args.shadow:
        entries += mlflow_entries.week_entries(Path(args.shadow))
    done = mx.export_runs(args.runs, uri, args.experiment) if args.runs else []
    if entries:
        done += mx.export_entries(entries, uri, args.experiment)
    for e in done:
        what = "created" if e.created else (f"updated: {e.metrics} metrics, {e.tags} tags, {e.artifacts} artifacts"
                                            if e.metrics or e.tags or e.artifacts else "unchanged")
        print(f"{e.name}: MLflow run {e.run_id} ({what})")
    info(f"exported {len(done)} to experiment {args.experiment!r} at {mx.shown_uri(uri)}")
    return 0
