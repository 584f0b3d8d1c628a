"""``harness guardrails eval | calibrate | check``: the guardrail configuration (Bedrock's JSON) evaluated on
a red-team set, its thresholds calibrated on data, and one text checked by hand."""

from __future__ import annotations

import sys

from harness.cli.common import info
from harness.render import table as render_table


def register(sub) -> None:
    p = sub.add_parser("guardrails", help="evaluate, calibrate or try the guardrails (Bedrock guardrail JSON)")
    g = p.add_subparsers(dest="guardrails_command", required=True)

    e = g.add_parser("eval", help="catch rate, false-positive rate and precision per policy on a red-team set")
    _common(e)
    e.add_argument("--split", default="test", choices=["test", "calibration", "all"],
                   help="red-team split to evaluate: test (default), calibration or all")
    e.add_argument("--format", choices=["table", "json"], default="table")
    e.add_argument("--run", help="write the evaluation and its critical failures into this run's metrics.json "
                   "(section guardrails), where the go/no-go's 'no critical guardrail failures' reads them")
    e.add_argument("--criteria", help="criteria YAML naming the critical policy kinds (default: the TechCorp pilot's)")
    e.set_defaults(func=eval_command)

    c = g.add_parser("calibrate", help="choose the topic and injection thresholds on the red-team calibration split")
    _common(c)
    c.add_argument("--out", help="where to write the thresholds (default: harness/guardrails/calibration.json)")
    c.set_defaults(func=calibrate_command)

    k = g.add_parser("check", help="check one text and print the ApplyGuardrail-shaped assessment")
    k.add_argument("text", help="the text ('-' reads stdin)")
    k.add_argument("--where", choices=["input", "output"], default="input")
    k.add_argument("--config", help="guardrail JSON (default: the case study's, harness/guardrails/techcorp.json)")
    k.set_defaults(func=check_command)


def _common(p) -> None:
    p.add_argument("--config", help="guardrail JSON (default: the case study's, harness/guardrails/techcorp.json)")
    p.add_argument("--items", help="red-team JSONL (default: golden_sets/redteam/redteam.jsonl)")
    p.add_argument("--no-progress", dest="progress", action="store_false")


def _engine(config_ref):
    from harness.guardrails.config import load_guardrail_config
    from harness.guardrails.engine import OfflineGuardrail

    cfg = load_guardrail_config(config_ref)
    for note in cfg.notes:
        info(f"note: {cfg.path}: {note}")
    return OfflineGuardrail(cfg)


def eval_command(args) -> int:
    from harness.files import dumps_json
    from harness.guardrails.evaluate import evaluate, read_items, run_items

    engine = _engine(args.config)
    items = read_items(args.items, None if args.split == "all" else args.split)
    checked = run_items(engine, items, progress=args.progress)
    not_eval = sorted(set(engine.not_evaluated("INPUT")) | set(engine.not_evaluated("OUTPUT")))
    result = evaluate(checked, not_eval)
    result["config"] = engine.config.path
    result["split"] = args.split
    result["thresholds"] = {"injection": engine.injection_threshold(),
                            "topics": {t.name: dict(zip(("threshold", "source"), engine.topic_threshold(t.name)))
                                       for t in engine.config.topicPolicyConfig.topicsConfig}}
    if args.run:
        result["critical_failures"] = _record_on_run(args, checked, result)
    print(dumps_json(result, indent=2) if args.format == "json" else eval_table(result))
    return 0


def _record_on_run(args, checked, result) -> dict:
    """Critical failures (items expecting a critical policy kind that did not fire) into the run's metrics."""
    from harness import gates
    from harness.store import RunStore

    run = gates.load_run(args.run)  # exit 2 naming it when it is not a run directory
    critical = list(gates.load_criteria(args.criteria).guardrails.get("critical") or [])
    missed = [{"id": c.item.id, "category": c.item.category, "missed": sorted(set(c.item.expect) & set(critical) - c.fired)}
              for c in checked if set(c.item.expect) & set(critical) - c.fired]
    evaluation = {"config": result["config"], "items": str(args.items or "golden_sets/redteam/redteam.jsonl"),
                  "split": result["split"], "n_items": result["n_items"], "critical": critical,
                  "policies": {k: {"status": v["status"], **({"catch_rate": v["catch_rate"]["value"],
                                                              "false_positive_rate": v["false_positive_rate"]["value"]}
                                                             if v["status"] == "evaluated" else {})}
                               for k, v in result["policies"].items()},
                  "missed_critical": missed[:50]}
    store = RunStore(run.path)
    with store.writing("harness guardrails eval --run"):
        store.write_metrics({"guardrails": {"evaluation": evaluation, "critical_failures": len(missed)}})
    info(f"wrote guardrails.critical_failures = {len(missed)} ({', '.join(critical)} missed on the red-team set) "
         f"into {run.path / 'metrics.json'}")
    return {"critical": critical, "count": len(missed)}


def _pct(r: dict | None) -> str:
    if not r or r.get("value") is None:
        return "-"
    return f"{100 * r['value']:.1f}% [{100 * r['low']:.1f}, {100 * r['high']:.1f}] ({r['k']}/{r['n']})"


def eval_table(result: dict) -> str:
    rows = []
    for kind, p in result["policies"].items():
        if p["status"] != "evaluated":
            rows.append([kind, p["status"], "-", "-"])
        else:
            rows.append([kind, _pct(p["catch_rate"]), _pct(p["false_positive_rate"]), _pct(p["precision"])])
    out = [f"guardrails {result['config']} on {result['n_items']} red-team items (split {result['split']}; "
           f"{result['n_benign']} benign)", "",
           render_table(["policy", "catch rate (recall)", "false positives on benign", "precision"], rows,
                        right_align_from=9), ""]
    cats = [[name, c["n"], c["expecting"], c["caught"] if c["expecting"] else "-",
             ", ".join(f"{k}: {v}" for k, v in c["fired"].items()) or "-"] for name, c in result["categories"].items()]
    out += [render_table(["category", "items", "measurable", "all caught", "what fired"], cats, right_align_from=1),
            ""]
    lat = result.get("latency_ms") or {}
    if lat:
        out.append(f"latency added per item: P50 {lat['p50']:.1f} ms, P95 {lat['p95']:.1f} ms")
    out.append(f"any policy firing on a benign item: {_pct(result['any_false_positive_rate'])}")
    if result.get("critical_failures"):
        cf = result["critical_failures"]
        out.append(f"critical failures ({', '.join(cf['critical'])} missed): {cf['count']}, written into the run")
    if result["not_evaluated_offline"]:
        out.append("not evaluated offline (no offline model; never counted as passed): "
                   + ", ".join(result["not_evaluated_offline"]))
    t = result["thresholds"]
    out.append("thresholds: injection classifier " + f"{t['injection']:.3g}; " + "; ".join(
        f"{name} {v['threshold']:.3g} ({v['source']})" for name, v in t["topics"].items()))
    out.append("95% intervals: Wilson score.")
    return "\n".join(out)


def calibrate_command(args) -> int:
    from harness.files import dumps_json, read_json
    from harness.paths import out_file
    from harness.guardrails.engine import CALIBRATION
    from harness.guardrails.evaluate import calibrate, read_items
    from harness.pages import write_page

    out = out_file(args.out) if args.out else CALIBRATION  # before any work: a directory is exit 2 here
    current = read_json(out, "guardrail calibration") if out.is_file() else {}
    engine = _engine(args.config)
    items = read_items(args.items, "calibration")
    data = calibrate(engine.config, items, progress=args.progress)
    data["source"] = str(args.items or "golden_sets/redteam/redteam.jsonl") + " (split calibration)"
    if not isinstance(current, dict) or not isinstance(current.get("guardrails"), dict):
        current = {"guardrails": {}}
    current["guardrails"][engine.config.name] = data  # each configuration keeps its own thresholds
    write_page(out, dumps_json(current, indent=2) + "\n")
    print(dumps_json(data, indent=2))
    info(f"wrote {out} (entry {engine.config.name!r})")
    return 0


def check_command(args) -> int:
    from harness.files import dumps_json

    engine = _engine(args.config)
    text = sys.stdin.read() if args.text == "-" else args.text
    a = engine.apply(text, "INPUT" if args.where == "input" else "OUTPUT")
    print(dumps_json({**a.to_bedrock(), "notEvaluatedOffline": list(a.not_evaluated),
                      "warnings": list(a.warnings)}, indent=2))
    return 1 if a.blocked else 0
