"""``harness shadow simulate | decide | cutover``: the parallel run replayed from a scenario, the go/no-go week
by week, and the blue-green ramp with its rollback triggers (registered by :mod:`harness.cli.shadow`)."""

from __future__ import annotations

from harness.cli.common import TABLE_FORMATS, info, progress_flag
from harness.errors import HarnessInputError


def register(shadow) -> None:
    p = shadow.add_parser("simulate", help="generate a stream of TechCorp documents day by day; MLOps (production) "
                          "and LLMOps (shadow) process each one into a comparison database")
    p.add_argument("--scenario", default="clean-go", help="a shipped scenario (clean-go, no-go, rollback) or a "
                   "scenario YAML (default %(default)s)")
    p.add_argument("--out", required=True, metavar="DB|DIR", help="the comparison database to write (SQLite): a "
                   "file ending .db, .sqlite or .sqlite3, or a folder that gets shadow.db")
    p.add_argument("--weeks", type=int, help="override the scenario's weeks")
    p.add_argument("--docs-per-day", type=int, help="override the scenario's documents a day")
    p.add_argument("--shadow", choices=["scenario", "pipeline"], default="scenario",
                   help="scenario: the scenario's simulated model (seconds a month); pipeline: the real LLMOps "
                   "pipeline (the local model by default, Bedrock with --set; slow)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="--shadow pipeline: an LLMOps setting")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=simulate_command)

    p = shadow.add_parser("decide", help="the go/no-go week by week over a comparison database")
    p.add_argument("db", metavar="DB", help="the comparison database")
    p.add_argument("--criteria", metavar="FILE", help="criteria file with go_no_go (default: the TechCorp pilot's)")
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    p.set_defaults(func=decide_command)

    p = shadow.add_parser("cutover", help="the blue-green ramp 10-25-50-75-100 %% replayed on the stream, rollback "
                          "triggers checked before each step")
    p.add_argument("db", metavar="DB", help="the comparison database")
    p.add_argument("--start", help="first day of the ramp YYYY-MM-DD (default: the day after the GO week)")
    p.add_argument("--criteria", metavar="FILE", help="criteria file with go_no_go and rollback_triggers (default: "
                   "the TechCorp pilot's)")
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    p.set_defaults(func=cutover_command)


def simulate_command(args) -> int:
    from harness.shadow.scenario import load_scenario
    from harness.shadow.simulate import shadow_settings, simulate

    changes = {k: v for k, v in (("weeks", args.weeks), ("docs_per_day", args.docs_per_day)) if v is not None}
    scenario = load_scenario(args.scenario, changes)
    s = scenario.spec
    shadow_settings(args.shadow, args.overrides)  # checked before anything is written
    db = database_path(args.out)
    info(f"scenario {s.name}: {s.weeks} weeks x {s.docs_per_day} documents a day from {s.start}; shadow: {args.shadow}")
    out = simulate(scenario, db, shadow=args.shadow, overrides=args.overrides, progress=progress_flag(args),
                   info=info)
    info(f"wrote {db}: {out['documents']:,} new documents x 2 pipelines in {out['seconds']} s")
    if s.expect:
        info("the scenario expects: " + "; ".join(f"{k} {v}" for k, v in s.expect.items()))
    print(f"next: harness shadow dashboard {db}; harness shadow decide {db}; harness shadow cutover {db}")
    return 0


def database_path(out: str) -> str:
    """``--out``: a database file by its suffix, else a folder (created) holding ``shadow.db``."""
    from pathlib import Path

    p = Path(out)
    if p.suffix.lower() in (".db", ".sqlite", ".sqlite3"):
        return str(p)
    if p.exists() and not p.is_dir():
        raise HarnessInputError("is neither a folder nor a database file (.db, .sqlite, .sqlite3)", path=p,
                                field="--out")
    p.mkdir(parents=True, exist_ok=True)
    return str(p / "shadow.db")


def decide_command(args) -> int:
    from harness.gates import load_criteria
    from harness.shadow.db import database
    from harness.shadow.decide import decide, decision_table, decision_text

    with database(args.db, create=False) as conn:
        d = decide(conn, load_criteria(args.criteria))
    if args.format == "json":
        from dataclasses import asdict

        from harness.files import dumps_json

        print(dumps_json(asdict(d), indent=2))
        return 0
    print(decision_table(d, args.format))
    print()
    print(decision_text(d))
    return 0


def cutover_command(args) -> int:
    from datetime import date

    from harness.gates import load_criteria
    from harness.shadow.cutover import cutover, cutover_table, outcome_text, ramp_start
    from harness.shadow.db import database
    from harness.shadow.decide import GO, decide

    criteria = load_criteria(args.criteria)
    with database(args.db, create=False) as conn:
        if args.start:
            try:
                start = date.fromisoformat(args.start)
            except ValueError:
                raise HarnessInputError(f"not a date YYYY-MM-DD: {args.start!r}", field="--start") from None
        else:
            d = decide(conn, criteria)
            if d.status != GO:
                raise HarnessInputError(f"no GO decision in this stream ({d.status}); the ramp starts after a GO "
                                        "(or give --start)", path=args.db)
            start = ramp_start(d)
        c = cutover(conn, start, criteria)
    if args.format == "json":
        from dataclasses import asdict

        from harness.files import dumps_json

        print(dumps_json(asdict(c), indent=2))
        return 0 if c.status != "rolled back" else 1
    print(cutover_table(c, args.format))
    print()
    print(outcome_text(c))
    return 0 if c.status != "rolled back" else 1
