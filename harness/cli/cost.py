"""``harness cost``: the case study's monthly cost tables as a checked answer key (every row's calculation,
the stated and the computed amount, computed totals and cost per document, and a flag wherever a stated
figure disagrees with its own calculation by more than 1 %)."""

from __future__ import annotations

from decimal import Decimal

from harness.cli.compare import add_summary_args, check_summary_args
from harness.cost.money import pct, usd
from harness.render import md_text, table as render_table


def register(sub) -> None:
    p = sub.add_parser("cost", help="the case study's cost tables as a checked answer key (stated vs computed)")
    p.add_argument("--pricing", help="pricing YAML (default: harness/cost/techcorp.yaml, the case study's tables)")
    p.add_argument("--format", choices=["table", "md", "json", "csv", "markdown"], default="table",
                   help="markdown: with --run, the pull-request summary (cost per document, the month, the "
                        "break-even), under --max-chars; without --run, as md")
    p.add_argument("--run", help="a run directory: its month re-costed with the current prices, what-if levers and "
                   "break-even from its measured usage")
    p.add_argument("--baseline", help="with --run: the MLOps run the break-even compares against (default: the "
                   "case study's MLOps table, computed)")
    p.add_argument("--what-if", dest="what_if", action="append", default=[], metavar="KEY=VALUE",
                   help="with --run: a lever (repeatable): prompt_cache_hit_rate, route_share + route_model, "
                        "output_cap, context_cut, batch_discount; break-even inputs review_rate_now, "
                        "review_rate_llmops, reviewer_usd_per_hour, minutes_per_document, tickets_avoided, "
                        "usd_per_ticket")
    add_summary_args(p)
    p.set_defaults(func=cost_command)


def _num(v: Decimal) -> str:
    return f"{v.normalize():,f}"


def _quantity(row) -> str:
    if row.kind == "product":
        per = f" / {_num(row.divisor)}" if row.divisor != 1 else ""
        return " × ".join(f"{_num(v)}{' ' + u if u else ''}" for v, u in row.factors) + f" × ${_num(row.unit_price)}{per}"
    if row.kind == "percent":
        return f"{_num(row.percent)} % of {len(row.of)} rows"
    return "fixed (estimate)" if row.estimate else "fixed"


def _flag(c) -> str:
    if c is None or not c.flagged:
        return ""
    return "FLAG " + (pct(c.relative_difference) if c.relative_difference is not None else "(no computed figure)")


def table_rows(res) -> list[list[str]]:
    rows = [[r.row.title, r.row.calculation, _quantity(r.row), usd(r.row.stated) + (
        f" {r.row.stated_note}" if r.row.stated_note else ""), usd(r.computed), _flag(r.check)] for r in res.rows]
    rows.append(["TOTAL", "sum of the rows", "", usd(res.table.stated_total), usd(res.total),
                 _flag(next((c for c in res.checks if c.id.endswith("total_computed")), None))])
    rows.append(["  sum of the stated amounts", "", "", usd(res.sum_stated), "", _flag(
        next((c for c in res.checks if c.id.endswith(".total")), None))])
    return rows


def to_json(key) -> dict:
    def c(x):
        return None if x is None else {"id": x.id, "where": x.where, "stated": x.stated, "computed": x.computed,
                                       "flagged": x.flagged, "relative_difference": x.relative_difference,
                                       "note": x.note}

    return {"pricing": key.pricing.path, "pricing_sha256": key.pricing.sha256,
            "documents_per_month": key.pricing.documents_per_month,
            "tables": {tid: {"title": t.table.title, "source": t.table.source, "total": t.total,
                             "sum_stated": t.sum_stated, "stated_total": t.table.stated_total,
                             "per_document": t.per_document,
                             "rows": [{"id": r.row.id, "title": r.row.title, "calculation": r.row.calculation,
                                       "formula": _quantity(r.row), "estimate": r.row.estimate,
                                       "stated": r.row.stated, "computed": r.computed, "check": c(r.check)}
                                      for r in t.rows], "checks": [c(x) for x in t.checks]}
                       for tid, t in key.tables.items()},
            "checks": [c(x) for x in key.checks], "n_flags": len(key.flags)}


def cost_command(args) -> int:
    from harness.cost.answer_key import answer_key
    from harness.cost.pricing import load_pricing
    from harness.files import dumps_json

    check_summary_args(args)
    if args.run:
        from harness.cli.cost_run import run_cost_command

        return run_cost_command(args)
    if args.what_if or args.baseline:
        from harness.errors import HarnessInputError

        raise HarnessInputError("--what-if and --baseline go with --run RUN", field="--what-if")
    if args.page:
        from harness.errors import HarnessInputError

        raise HarnessInputError("--page goes with --run RUN --format markdown", field="--page")
    if args.format == "markdown":
        args.format = "md"
    key = answer_key(load_pricing(args.pricing))
    if args.format == "json":
        print(dumps_json(to_json(key), indent=2, default=str))
        return 0
    header = ["row", "calculation (as stated)", "formula", "stated", "computed", "flag"]
    if args.format == "csv":
        rows = [[tid] + row for tid, t in key.tables.items() for row in table_rows(t)]
        print(render_table(["table"] + header, rows, "csv"), end="")
        return 0
    md = args.format == "md"
    head, item = ("#### ", "- ") if md else ("", "  ")
    text = md_text if md else str  # a title, source or table id from the pricing file, on a Markdown line
    out = []
    for t in key.tables.values():
        out += [f"{head}{text(t.table.title)} ({text(t.table.source)})", "" if md else None,
                render_table(header, table_rows(t), args.format, right_align_from=6), ""]
    docs = key.pricing.documents_per_month
    out += [f"{head}Cost per document at {_num(docs)} documents a month (computed totals)", "" if md else None]
    for tid, t in key.tables.items():
        out.append(f"{item}{text(tid)}: {usd(t.total)} / {_num(docs)} = {usd(t.per_document, '0.0001')}")
    if {"mlops", "llmops"} <= set(key.tables):
        a, b = key.tables["mlops"], key.tables["llmops"]
        out.append(f"{item}difference: {usd(b.per_document - a.per_document, '0.0001')} per document, "
                   f"{pct((b.total - a.total) / a.total)} (LLMOps over MLOps)")
    out += ["", f"{head}Figures quoted elsewhere, checked against the rows they summarise", "" if md else None]
    out.append(render_table(["check", "where", "stated", "computed", "flag"],
                            [[c.id, c.where + (f" ({c.note})" if c.note else ""), _fmt(c.stated, c.id),
                              _fmt(c.computed, c.id), _flag(c)] for c in key.checks], args.format,
                            right_align_from=5))
    out += ["", f"{len(key.flags)} flags: stated figures more than 1 % away from their own calculation "
            "(the case study's figures are kept as stated, never corrected)"]
    print("\n".join(line for line in out if line is not None))
    return 0


def _fmt(v: Decimal | None, cid: str) -> str:
    if v is None:
        return "-"
    if cid.endswith("difference"):
        return f"{v * 100:+.1f}%"
    if cid.endswith("pays_for_itself"):
        return f"{v:.2f}x"
    return usd(v, "0.0001" if "per_document" in cid or v < 1 else "0.01")
