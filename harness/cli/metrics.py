"""``harness metrics``: the metric registry (every name ``metrics.json``, criteria files and ``--metric``
accept), and ``harness config``: every settings key of a pipeline or of the judge, with its description."""

from __future__ import annotations

from harness.errors import HarnessInputError
from harness.render import table as render_table


def register(sub) -> None:
    p = sub.add_parser("metrics", help="list the declared metrics (name, title, unit, direction, task)")
    p.add_argument("--match", default="*", help="shell-style pattern, e.g. 'classification.*', or a plain word "
                   "every listed name contains, e.g. extraction")
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    p.set_defaults(func=metrics_command)

    p = sub.add_parser("config", help="list every settings key of a pipeline (mlops, llmops) or of the judge")
    p.add_argument("target", help="mlops, llmops or judge")
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    p.set_defaults(func=config_command)


def metrics_command(args) -> int:
    from harness.files import dumps_json
    from metrics import registry

    found = registry.matching(args.match)
    if not found:
        raise HarnessInputError(f"no metric matches {args.match!r} ('harness metrics' lists them all)",
                                field="--match")
    direction = {True: "higher", False: "lower", None: "-"}
    rows = [[m.name, m.title, m.unit, direction[m.higher_is_better], m.task or "run", m.description]
            for m in found]
    if args.format == "json":
        print(dumps_json([dict(zip(["name", "title", "unit", "better", "task", "description"], r)) for r in rows],
                         indent=2))
    else:
        print(render_table(["name", "title", "unit", "better", "task", "description"], rows, args.format,
                           right_align_from=6))
    return 0


def config_keys(model, prefix: str = "") -> list[list[str]]:
    """(key, type, default, description) for every field of a settings model, nested keys dotted."""
    from pydantic import BaseModel

    from harness.files import dumps_json

    rows = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows += config_keys(ann, f"{prefix}{name}.")
            continue
        type_name = getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
        rows.append([f"{prefix}{name}", type_name, dumps_json(field.default, default=str), field.description or ""])
    return rows


def config_command(args) -> int:
    from harness.files import dumps_json
    from harness.judge import JudgeSettings
    from harness.pipelines import config_model

    if args.target == "judge":
        model = JudgeSettings
    else:
        try:
            model = config_model(args.target)
        except HarnessInputError:
            raise HarnessInputError(f"unknown target {args.target!r}: a pipeline (mlops, llmops) or judge",
                                    field="target") from None
    rows = config_keys(model)
    if args.format == "json":
        print(dumps_json([dict(zip(["key", "type", "default", "description"], r)) for r in rows], indent=2))
    else:
        print(render_table(["key", "type", "default", "description"], rows, args.format, right_align_from=4))
    return 0
