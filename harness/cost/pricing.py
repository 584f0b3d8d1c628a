"""Pricing files: monthly cost tables as rows of formulas, in exact decimal arithmetic.

A row is ``factors`` x ``unit_price`` (the product of the factor values times the price, divided by the
price's ``divisor`` for prices per 1,000), ``percent`` of named rows, or a ``fixed`` amount (``estimate:
true`` where the source gives no unit price). ``stated`` keeps the source's own amount beside the formula.
A bad file (unknown key, negative or non-numeric price, a number past its bound (:mod:`harness.cost.money`), a
row that computes to more than the bound of an amount, a percentage of itself, of a missing row, or a cycle)
stops with one line naming the file, the line and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.cost.money import MAX_AMOUNT, MAX_PERCENT, MAX_PRICE, MAX_QUANTITY, Where, money
from harness.files import read_yaml_mapping_doc

DEFAULT_PRICING = Path(__file__).with_name("techcorp.yaml")
ROW_KEYS = {"id", "title", "calculation", "factors", "unit_price", "percent", "of", "fixed", "estimate", "stated",
            "stated_note", "note"}
PRICE_KEYS = {"usd", "per", "divisor", "item", "as_of", "source"}
TOP_KEYS = {"name", "description", "currency", "volume", "tables", "quoted", "break_even"}
QUOTED_KEYS = {"id", "where", "stated", "check", "table", "rows"}
QUOTED_CHECKS = ("per_document", "total", "rows", "increase")
# break-even inputs: key -> bound (shares 0..1, prices, quantities); each scenario's ``stated`` figures are amounts
BREAK_EVEN = {"human_review": {"review_rate_now": Decimal(1), "review_rate_llmops": Decimal(1),
                               "reviewer_usd_per_hour": MAX_PRICE, "minutes_per_document": MAX_QUANTITY},
              "support_tickets": {"tickets_avoided": MAX_QUANTITY, "usd_per_ticket": MAX_PRICE}}


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    calculation: str
    kind: str  # "product" | "percent" | "fixed"
    factors: tuple[tuple[Decimal, str], ...] = ()
    unit_price: Decimal | None = None
    divisor: Decimal = Decimal(1)
    price_note: str = ""
    percent: Decimal | None = None
    of: tuple[str, ...] = ()
    fixed: Decimal | None = None
    estimate: bool = False
    stated: Decimal | None = None
    stated_note: str = ""


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    source: str
    rows: tuple[Row, ...]
    stated_total: Decimal | None


@dataclass(frozen=True)
class Pricing:
    path: str
    name: str
    documents_per_month: Decimal
    tables: Mapping[str, Table]
    quoted: tuple[Mapping[str, Any], ...]
    break_even: Mapping[str, Any]
    sha256: str


def _row(r: Any, where: Where, keys: tuple, field: str) -> Row:
    if not isinstance(r, dict):
        raise where.error("each row must be a mapping", keys, field)
    unknown = sorted(set(r) - ROW_KEYS)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}", keys + (unknown[0],), f"{field}.{unknown[0]}")
    if not isinstance(r.get("id"), str) or not r["id"]:
        raise where.error("each row needs an id", keys, f"{field}.id")
    kinds = [k for k in ("factors", "percent", "fixed") if k in r]
    if len(kinds) != 1:
        raise where.error("a row is exactly one of factors + unit_price, percent + of, fixed", keys, field)
    common = {"id": r["id"], "title": str(r.get("title", r["id"])), "calculation": str(r.get("calculation", "")),
              "estimate": bool(r.get("estimate", False)), "stated_note": str(r.get("stated_note", "")),
              "stated": None if r.get("stated") is None else money(r["stated"], where, keys + ("stated",),
                                                                   f"{field}.stated", MAX_AMOUNT)}
    if kinds == ["fixed"]:
        return Row(kind="fixed", fixed=money(r["fixed"], where, keys + ("fixed",), f"{field}.fixed"), **common)
    if kinds == ["percent"]:
        of = r.get("of")
        if not isinstance(of, list) or not all(isinstance(x, str) for x in of):
            raise where.error("'of' must list row ids", keys + ("of",), f"{field}.of")
        return Row(kind="percent", percent=money(r["percent"], where, keys + ("percent",), f"{field}.percent",
                                                 MAX_PERCENT),
                   of=tuple(of), **common)
    factors = r["factors"]
    if not isinstance(factors, list) or not factors:
        raise where.error("'factors' must be a non-empty list", keys + ("factors",), f"{field}.factors")
    parsed = []
    for i, f in enumerate(factors):
        value = f.get("value") if isinstance(f, dict) else f
        parsed.append((money(value, where, keys + ("factors", i), f"{field}.factors[{i}]", MAX_QUANTITY),
                       str(f.get("unit", "")) if isinstance(f, dict) else ""))
    price = r.get("unit_price")
    if not isinstance(price, dict) or "usd" not in price:
        raise where.error("needs unit_price: {usd: ...}", keys + ("unit_price",), f"{field}.unit_price")
    bad = sorted(set(price) - PRICE_KEYS)
    if bad:
        raise where.error(f"unknown key {bad[0]!r}", keys + ("unit_price", bad[0]), f"{field}.unit_price.{bad[0]}")
    divisor = money(price.get("divisor", 1), where, keys + ("unit_price", "divisor"), f"{field}.unit_price.divisor",
                    MAX_QUANTITY)
    if divisor == 0:
        raise where.error("divisor must not be 0", keys + ("unit_price", "divisor"), f"{field}.unit_price.divisor")
    note = ", ".join(f"{k} {price[k]}" for k in ("per", "item", "as_of", "source") if price.get(k))
    return Row(kind="product", factors=tuple(parsed),
               unit_price=money(price["usd"], where, keys + ("unit_price", "usd"), f"{field}.unit_price.usd",
                                MAX_PRICE),
               divisor=divisor, price_note=note, **common)


def _check_references(table: Table, where: Where, tid: str) -> None:
    """Percentage rows refer to existing rows of the same table, never to themselves, with no cycle."""
    ids = [r.id for r in table.rows]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise where.error(f"duplicate row id {dup!r}", ("tables", tid, "rows"), f"tables.{tid}.rows")
    by_id = {r.id: (i, r) for i, r in enumerate(table.rows)}
    for i, r in enumerate(table.rows):
        keys, field = ("tables", tid, "rows", i, "of"), f"tables.{tid}.rows[{i}].of"
        if r.id in r.of:
            raise where.error(f"row {r.id!r} is a percentage of itself", keys, field)
        missing = [x for x in r.of if x not in by_id]
        if missing:
            raise where.error(f"no row {missing[0]!r} in table {tid!r}", keys, field)
    state: dict[str, int] = {}

    def visit(rid: str, chain: list[str]) -> None:
        if state.get(rid) == 2:
            return
        if state.get(rid) == 1:
            i = by_id[chain[0]][0]
            raise where.error(f"percentage rows form a cycle: {' -> '.join(chain + [rid])}",
                              ("tables", tid, "rows", i, "of"), f"tables.{tid}.rows[{i}].of")
        state[rid] = 1
        for ref in by_id[rid][1].of:
            visit(ref, chain + [rid])
        state[rid] = 2

    for r in table.rows:
        visit(r.id, [])


def in_order(rows: Sequence[Row]) -> list[Row]:
    """Rows with every percentage row after the rows it refers to (the file is checked for cycles)."""
    by_id, done, out = {r.id: r for r in rows}, set(), []

    def visit(r: Row) -> None:
        if r.id in done:
            return
        for ref in r.of:
            visit(by_id[ref])
        done.add(r.id)
        out.append(r)

    for r in rows:
        visit(r)
    return out


def row_amount(row: Row, amounts: Mapping[str, Decimal]) -> Decimal:
    """A row's monthly amount from its formula (``amounts``: the rows it refers to, already computed)."""
    if row.kind == "fixed":
        return row.fixed
    if row.kind == "percent":
        return row.percent / 100 * sum((amounts[x] for x in row.of), Decimal(0))
    product = Decimal(1)
    for value, _ in row.factors:
        product *= value
    return product * row.unit_price / row.divisor


def _check_amounts(table: Table, where: Where, tid: str) -> None:
    """Every row's computed amount within the bound of an amount (bounded factors still multiply)."""
    index = {r.id: i for i, r in enumerate(table.rows)}
    amounts: dict[str, Decimal] = {}
    for row in in_order(table.rows):
        amounts[row.id] = row_amount(row, amounts)
        if amounts[row.id] > MAX_AMOUNT:
            i = index[row.id]
            raise where.error(f"row {row.id!r} computes to ${amounts[row.id]:.3E}, over the bound of an amount "
                              f"(${MAX_AMOUNT:,})", ("tables", tid, "rows", i), f"tables.{tid}.rows[{i}]")


def _quoted(q: Any, tables: Mapping[str, Table], where: Where, i: int) -> dict:
    """A figure quoted elsewhere in the source: what it summarises (a table's total or cost per document, some
    of its rows, or the increase from the MLOps to the LLMOps total) and its stated value, checked."""
    keys, field = ("quoted", i), f"quoted[{i}]"
    if not isinstance(q, dict):
        raise where.error("each quoted figure must be a mapping", keys, field)
    unknown = sorted(set(q) - QUOTED_KEYS)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}", keys + (unknown[0],), f"{field}.{unknown[0]}")
    for key in ("id", "where"):
        if not isinstance(q.get(key), str) or not q[key]:
            raise where.error("needs a text", keys + (key,), f"{field}.{key}")
    if q.get("check") not in QUOTED_CHECKS:
        raise where.error(f"check must be one of {', '.join(QUOTED_CHECKS)}", keys + ("check",), f"{field}.check")
    needs = ("mlops", "llmops") if q["check"] == "increase" else (q.get("table"),)
    missing = [t for t in needs if t not in tables]
    if missing:
        raise where.error(f"no table {missing[0]!r}", keys + ("table",), f"{field}.table")
    rows = q.get("rows") or []
    if q["check"] == "rows":
        known = {r.id for r in tables[q["table"]].rows}
        if not isinstance(rows, list) or not all(isinstance(r, str) and r in known for r in rows):
            raise where.error(f"'rows' must list row ids of table {q['table']!r}", keys + ("rows",), f"{field}.rows")
    return {**q, "stated": money(q.get("stated"), where, keys + ("stated",), f"{field}.stated", MAX_AMOUNT,
                                 allow_negative=True)}


def _break_even(conf: Any, where: Where) -> dict:
    """The break-even scenarios' inputs (each within its bound) and their stated figures (amounts)."""
    if not conf:
        return {}
    if not isinstance(conf, dict):
        raise where.error("must be a mapping of scenarios", ("break_even",), "break_even")
    out = {}
    for name, scenario in conf.items():
        keys, field = ("break_even", name), f"break_even.{name}"
        if name not in BREAK_EVEN:
            raise where.error(f"unknown scenario (known: {', '.join(BREAK_EVEN)})", keys, field)
        if not isinstance(scenario, dict):
            raise where.error("must be a mapping", keys, field)
        inputs = BREAK_EVEN[name]
        unknown = sorted(set(scenario) - set(inputs) - {"stated"})
        if unknown:
            raise where.error(f"unknown key {unknown[0]!r}", keys + (unknown[0],), f"{field}.{unknown[0]}")
        parsed: dict[str, Any] = {k: money(scenario.get(k), where, keys + (k,), f"{field}.{k}", most)
                                  for k, most in inputs.items()}
        stated = scenario.get("stated") or {}
        if not isinstance(stated, dict):
            raise where.error("must be a mapping", keys + ("stated",), f"{field}.stated")
        parsed["stated"] = {k: v if k == "covers" and isinstance(v, str) else  # "exactly covers the premium"
                            money(v, where, keys + ("stated", k), f"{field}.stated.{k}", MAX_AMOUNT)
                            for k, v in stated.items()}
        out[name] = parsed
    return out


def load_pricing(path: str | Path | None = None) -> Pricing:
    """Read and check a pricing file (default: the case study's tables)."""
    import hashlib

    path = Path(path) if path else DEFAULT_PRICING
    doc = read_yaml_mapping_doc(path, "pricing file")
    data, raw = doc.data, doc.raw
    where = Where(doc)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}", (unknown[0],), unknown[0])
    volume = data.get("volume") or {}
    docs = money(volume.get("documents_per_month") if isinstance(volume, dict) else volume, where,
                 ("volume", "documents_per_month"), "volume.documents_per_month", MAX_QUANTITY)
    if docs == 0:
        raise where.error("must be more than 0", ("volume", "documents_per_month"), "volume.documents_per_month")
    if not isinstance(data.get("tables") or {}, dict):
        raise where.error("must be a mapping of table id -> table", ("tables",), "tables")
    tables = {}
    for tid, t in (data.get("tables") or {}).items():
        if not isinstance(t, dict) or not isinstance(t.get("rows"), list):
            raise where.error("a table needs a 'rows' list", ("tables", tid), f"tables.{tid}")
        rows = tuple(_row(r, where, ("tables", tid, "rows", i), f"tables.{tid}.rows[{i}]")
                     for i, r in enumerate(t["rows"]))
        stated = t.get("stated_total")
        table = Table(id=tid, title=str(t.get("title", tid)), source=str(t.get("source", "")), rows=rows,
                      stated_total=None if stated is None else money(stated, where, ("tables", tid, "stated_total"),
                                                                     f"tables.{tid}.stated_total"))
        _check_references(table, where, tid)
        _check_amounts(table, where, tid)
        tables[tid] = table
    if not tables:
        raise where.error("no tables", ("tables",), "tables")
    quoted = data.get("quoted") or []
    if not isinstance(quoted, list):
        raise where.error("must be a list of quoted figures", ("quoted",), "quoted")
    return Pricing(path=str(path), name=str(data.get("name", path.stem)), documents_per_month=docs, tables=tables,
                   quoted=tuple(_quoted(q, tables, where, i) for i, q in enumerate(quoted)),
                   break_even=_break_even(data.get("break_even"), where), sha256=hashlib.sha256(raw).hexdigest())
