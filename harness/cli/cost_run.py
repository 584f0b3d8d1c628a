"""``harness cost --run RUN [--what-if KEY=VALUE ...] [--baseline RUN]``: a run's month re-costed with the
current prices (and the difference from what the run recorded), the case study's optimisation levers, and
its two break-even scenarios, from the run's measured usage."""

from __future__ import annotations

from decimal import Decimal

from harness.cost.money import pct, usd
from harness.cli.common import emit
from harness.errors import HarnessInputError
from harness.files import dumps_json
from harness.render import md_text, table as render_table


def _prices_of(settings, name: str, lever: str) -> tuple[Decimal, Decimal]:
    """(input, output) USD per 1K tokens of a model named by short name, Bedrock id or provider/model key."""
    from harness.cost.run_cost import model_prices
    from harness.models.bedrock import resolve_model_id

    key = name if "/" in name else f"bedrock/{resolve_model_id(name)}"
    found = model_prices(settings, key)
    if found is None:
        raise HarnessInputError(f"no price file for {key} (runs.yaml: models)", field=f"--what-if {lever}")
    return found[0].usd, found[1].usd


def run_cost_command(args) -> int:
    from harness.cost.answer_key import answer_key
    from harness.cost.pricing import load_pricing
    from harness.cost.run_cost import cost_section, load_settings, model_prices
    from harness.cost.what_if import break_even, parse_what_if, run_calls, token_cost, what_if
    from harness.store import load_run

    levers = parse_what_if(args.what_if)
    run = load_run(args.run)
    settings = load_settings()
    now = cost_section(run.run, run.metrics, settings)
    if now["per_document"] is None:
        raise HarnessInputError(f"no cost for this run: {now['note']}", path=run.path)
    volume, n = settings.documents_per_month, Decimal(now["documents"])
    fixed_month = sum((Decimal(str(r["monthly_usd"])) for r in now["breakdown"] if "monthly_usd" in r), Decimal(0))
    llm = run.run.get("predictor", {}).get("llm") or {}
    found = model_prices(settings, f"{llm.get('provider')}/{llm.get('model_id')}") if llm else None
    calls = run_calls(run.path)
    levers_out, month = [], Decimal(str(now["per_document"])) * volume
    if found and calls.tokens:
        prices = (_prices_of(settings, str(levers["price_as"]), "price_as") if "price_as" in levers
                  else (found[0].usd, found[1].usd))
        cheaper = _prices_of(settings, str(levers.get("route_model", "claude-3-haiku")), "route_model") \
            if "route_share" in levers else None
        month = fixed_month + token_cost(calls, prices, {}, None) / n * volume
        levers_out = what_if(fixed_month, lambda lv: token_cost(calls, prices, lv, cheaper) / n * volume, levers)
    if args.baseline:
        base = load_run(args.baseline)
        base_cost = cost_section(base.run, base.metrics, settings)  # with the current prices, like the run's
        baseline = Decimal(str(base_cost["monthly_projection"] or 0))
    else:
        baseline = answer_key(load_pricing(settings.file(settings.pricing))).tables["mlops"].total
    pricing = load_pricing(settings.file(settings.pricing))
    scenarios = break_even(month, baseline, volume, pricing.break_even, levers)
    recorded = (run.metrics.get("cost") or {}).get("per_document")
    data = {"run": run.id, "per_document": month / volume, "recorded_per_document": recorded,
            "monthly": month, "fixed_monthly": fixed_month, "baseline_monthly": baseline,
            "levers": [lv.__dict__ for lv in levers_out],
            "break_even": [{"scenario": s, "monthly_saving": v, "verdict": t} for s, v, t in scenarios]}
    if args.format == "json":
        emit(dumps_json(data, indent=2, default=str), args.out)
        return 0
    md = args.format in ("md", "markdown")
    text = md_text if md else str  # a run's name on a Markdown line
    lines = [f"{text(run.id)}: {usd(month / volume, '0.0001')} per document, {usd(month)} a month at {volume:,} documents "
             f"({usd(fixed_month)} of it fixed rows)" + (f", tokens priced as {levers['price_as']}"
                                                         if "price_as" in levers and levers_out else "")]
    if recorded is not None and abs(Decimal(str(recorded)) - Decimal(str(now["per_document"]))) > Decimal("1e-8"):
        lines.append(f"re-costed with the current prices: recorded {usd(Decimal(str(recorded)), '0.0001')} per "
                     f"document, now {usd(Decimal(str(now['per_document'])), '0.0001')}")
    if levers_out:
        lines += ["", render_table(["lever", "value", "month", "saving", "saving %"],
                                   [[lv.name, lv.value, usd(lv.monthly), usd(lv.saving), pct(lv.saving_share)]
                                    for lv in levers_out], "md" if md else "table")]
    elif levers:
        lines.append("no model tokens in this run: the token levers do not apply")
    against = f"the run {text(args.baseline)}" if args.baseline else "the case study MLOps table"
    lines += ["", f"break-even against {against} ({usd(baseline)} a month; LLMOps premium {usd(month - baseline)}):"]
    lines += [f"{'-' if args.format == 'markdown' else ' '} {s}: saves {usd(v)} a month, {t}" for s, v, t in scenarios]
    if args.format != "markdown":
        emit("\n".join(lines), args.out)
        return 0
    from harness import summary

    page = None
    if args.page:
        page = summary.write_report_page([run], args.page, command=f"harness report {run.path} --format html")
    out = summary.cost_markdown(run.id, lines, page, args.max_chars)
    summary.publish(out)
    emit(out, args.out)
    return 0
