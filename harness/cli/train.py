"""``harness train``: train a pipeline's model on the golden set's train split (through the pipeline
registry: the CLI imports no pipeline)."""

from __future__ import annotations

from harness.cli.common import add_config_args, info


def register(sub) -> None:
    p = sub.add_parser("train", help="train a pipeline's model on the golden set's train split")
    p.add_argument("pipeline", choices=["mlops"])
    p.add_argument("--golden", default=None)
    p.add_argument("--out", help="artifact directory (default: artifacts/mlops/<golden>-<hash>-<config>)")
    add_config_args(p)
    p.set_defaults(func=train_command)


def train_command(args) -> int:
    from harness.paths import out_dir
    from harness.golden import default_golden, load_golden_set
    from harness.pipelines import train_pipeline

    if args.out:
        out_dir(args.out)
    golden = load_golden_set(args.golden or default_golden())
    artifact, out = train_pipeline(args.pipeline, golden, args.config, args.overrides, args.out, progress=info)
    print(f"{artifact.version} -> {out}")
    return 0
