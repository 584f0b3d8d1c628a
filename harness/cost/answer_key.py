"""The cost answer key: every row of the pricing file's tables computed from its formula, totals and cost per
document computed (never typed in), and every stated figure that disagrees with its own calculation by more
than 1 % flagged with both numbers and the relative difference.

Money stays :class:`~decimal.Decimal` throughout and is rounded only for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from harness.cost.pricing import Pricing, Row, Table, in_order, row_amount

TOLERANCE = Decimal("0.01")  # a stated figure more than 1 % away from its calculation is flagged


@dataclass(frozen=True)
class Check:
    """A stated figure against the figure computed from the rows it summarises."""
    id: str
    where: str
    stated: Decimal | None
    computed: Decimal | None
    flagged: bool
    relative_difference: Decimal | None  # (stated - computed) / computed
    note: str = ""


def check(cid: str, where: str, stated: Decimal | None, computed: Decimal | None, note: str = "") -> Check:
    if stated is None or computed is None:
        return Check(cid, where, stated, computed, computed is None and stated is not None, None, note)
    if computed == 0:
        return Check(cid, where, stated, computed, stated != 0, None, note)
    rel = (stated - computed) / computed
    return Check(cid, where, stated, computed, abs(rel) > TOLERANCE, rel, note)


@dataclass(frozen=True)
class RowResult:
    row: Row
    computed: Decimal
    check: Check | None  # None when the case study states no amount


@dataclass(frozen=True)
class TableResult:
    table: Table
    rows: tuple[RowResult, ...]
    total: Decimal  # sum of the computed rows
    sum_stated: Decimal  # sum of the stated amounts
    per_document: Decimal
    checks: tuple[Check, ...] = field(default_factory=tuple)  # the stated total against the rows

    @property
    def amounts(self) -> dict[str, Decimal]:
        return {r.row.id: r.computed for r in self.rows}


def compute_table(table: Table, documents: Decimal, overrides: Mapping[str, Decimal] | None = None) -> TableResult:
    """Every row's amount (``overrides`` replaces the amounts of named rows: a run's measured cost)."""
    amounts: dict[str, Decimal] = {}
    for row in in_order(table.rows):
        amounts[row.id] = (overrides or {}).get(row.id, row_amount(row, amounts))
    results = tuple(RowResult(r, amounts[r.id], None if r.stated is None else check(
        f"{table.id}.{r.id}", f"{table.source}, {r.title}", r.stated, amounts[r.id], r.stated_note))
        for r in table.rows)
    total = sum(amounts.values(), Decimal(0))
    sum_stated = sum((r.stated for r in table.rows if r.stated is not None), Decimal(0))
    checks = ()
    if table.stated_total is not None:
        checks = (check(f"{table.id}.total", f"{table.source}, TOTAL against the sum of its stated rows",
                        table.stated_total, sum_stated),
                  check(f"{table.id}.total_computed", f"{table.source}, TOTAL against the rows' calculations",
                        table.stated_total, total))
    return TableResult(table, results, total, sum_stated, total / documents, checks)


def _quoted(q: Mapping[str, Any], results: Mapping[str, TableResult], docs: Decimal) -> Check:
    stated = Decimal(str(q["stated"]))
    kind, res = q.get("check"), results.get(q.get("table", ""))
    if kind == "per_document":
        return check(q["id"], q["where"], stated, res.per_document)
    if kind == "total":
        return check(q["id"], q["where"], stated, res.total)
    if kind == "rows":
        rows = q.get("rows") or []
        if not rows:
            return Check(q["id"], q["where"], stated, None, True, None, "no row of the table carries this cost")
        return check(q["id"], q["where"], stated, sum((res.amounts[r] for r in rows), Decimal(0)),
                     f"rows {', '.join(rows)}")
    if kind == "increase":
        a, b = results["mlops"].total, results["llmops"].total
        sa, sb = results["mlops"].table.stated_total, results["llmops"].table.stated_total
        note = "LLMOps over MLOps, computed totals"
        if sa and sb:
            note += f"; from the stated totals {(sb - sa) / sa * 100:+.1f}%"
        return check(q["id"], q["where"], stated, (b - a) / a if a else None, note)
    raise ValueError(f"unknown check {kind!r}")


def break_even_checks(conf: Mapping[str, Any], results: Mapping[str, TableResult], docs: Decimal) -> list[Check]:
    """Section 5's two break-even scenarios recomputed from their inputs."""
    out = []
    hr = conf.get("human_review")
    if hr:
        d = lambda k: Decimal(str(hr[k]))  # noqa: E731
        per_review = d("reviewer_usd_per_hour") * d("minutes_per_document") / 60
        now, later = docs * d("review_rate_now") * per_review, docs * d("review_rate_llmops") * per_review
        stated = {k: Decimal(str(v)) for k, v in hr.get("stated", {}).items()}
        premium = results["llmops"].total - results["mlops"].total
        stated_llm, stated_ml = results["llmops"].table.stated_total, results["mlops"].table.stated_total
        alt = ""
        if stated_llm and stated_ml and stated_llm != stated_ml:
            alt = (f"with the stated totals: savings / LLMOps total = {stated.get('savings', now - later) / stated_llm:.2f}x,"
                   f" savings / premium = {stated.get('savings', now - later) / (stated_llm - stated_ml):.2f}x")
        out += [check("break_even.cost_per_review", "section 5, scenario 1: cost per reviewed document",
                      stated.get("cost_per_review"), per_review),
                check("break_even.monthly_now", "section 5, scenario 1: monthly human cost", stated.get("monthly_now"),
                      now),
                check("break_even.monthly_llmops", "section 5, scenario 1: at a 5 % review rate",
                      stated.get("monthly_llmops"), later),
                check("break_even.savings", "section 5, scenario 1: savings", stated.get("savings"), now - later),
                check("break_even.pays_for_itself", "section 5, scenario 1: 'pays for itself 2.5x over' (savings / "
                      "LLMOps premium over MLOps, computed totals)", stated.get("pays_for_itself"),
                      (now - later) / premium if premium else None, alt)]
    st = conf.get("support_tickets")
    if st:
        savings = Decimal(str(st["tickets_avoided"])) * Decimal(str(st["usd_per_ticket"]))
        premium = results["llmops"].total - results["mlops"].total
        stated = Decimal(str(st.get("stated", {}).get("savings", savings)))
        stated_llm, stated_ml = results["llmops"].table.stated_total, results["mlops"].table.stated_total
        note = (f"the stated totals give a premium of {stated_llm - stated_ml:,}; {stated_llm:,} is the LLMOps total"
                if stated_llm and stated_ml else "")
        out += [check("break_even.ticket_savings", "section 5, scenario 2: monthly savings", stated, savings),
                check("break_even.covers_premium", "section 5, scenario 2: 'exactly covers LLMOps premium' (the premium "
                      "from the computed totals)", savings, premium, note)]
    return out


@dataclass(frozen=True)
class AnswerKey:
    pricing: Pricing
    tables: Mapping[str, TableResult]
    checks: tuple[Check, ...]  # quoted figures and break-even scenarios

    @property
    def flags(self) -> list[Check]:
        rows = [r.check for t in self.tables.values() for r in t.rows if r.check and r.check.flagged]
        totals = [c for t in self.tables.values() for c in t.checks if c.flagged]
        return rows + totals + [c for c in self.checks if c.flagged]


def answer_key(pricing: Pricing) -> AnswerKey:
    docs = pricing.documents_per_month
    results = {tid: compute_table(t, docs) for tid, t in pricing.tables.items()}
    checks = [_quoted(q, results, docs) for q in pricing.quoted]
    if {"mlops", "llmops"} <= set(results):
        checks += break_even_checks(pricing.break_even, results, docs)
    return AnswerKey(pricing, results, tuple(checks))
