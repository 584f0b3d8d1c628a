"""Pricing files: monthly cost tables as rows of formulas, in exact decimal arithmetic.

A row is ``factors`` x ``unit_price`` (the product of the factor values times the price, divided by the
price's ``divisor`` for prices per 1,000), ``percent`` of named rows, or a ``fixed`` amount (``estimate:
true`` where the source gives no unit price). ``stated`` keeps the source's own amount beside the formula.
A bad file (unknown key, negative or non-numeric price, a percentage of itself, of a missing row, or a cycle)
stops with one line naming the file, the line and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from harness.errors import HarnessInputError
from harness.files import YamlDoc, read_yaml_mapping_doc

DEFAULT_PRICING = Path(__file__).with_name("techcorp.yaml")
ROW_KEYS = {"id", "title", "calculation", "factors", "unit_price", "percent", "of", "fixed", "estimate", "stated",
            "stated_note", "note"}
PRICE_KEYS = {"usd", "per", "divisor", "item", "as_of", "source"}
TOP_KEYS = {"name", "description", "currency", "volume", "tables", "quoted", "break_even"}


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


class _Where:
    """Line numbers of the keys of a YAML file (from :class:`harness.files.YamlDoc`), for error messages."""

    def __init__(self, doc: YamlDoc) -> None:
        self.path = doc.path
        self.doc = doc

    def line(self, *keys) -> int | None:
        return self.doc.lines.get(tuple(keys))

    def error(self, problem: str, keys: tuple, field: str) -> HarnessInputError:
        return HarnessInputError(problem, path=self.path, line=self.line(*keys), field=field)


def money(value: Any, where: _Where, keys: tuple, field: str, allow_negative: bool = False) -> Decimal:
    """A number from the file as an exact Decimal (read from its text, never through a binary float)."""
    if value is None:
        raise where.error("missing", keys, field)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise where.error(f"not a number: {value!r}", keys, field)
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise where.error(f"not a number: {value!r}", keys, field) from None
    if not d.is_finite():
        raise where.error(f"not a finite number: {value!r}", keys, field)
    if d < 0 and not allow_negative:
        raise where.error(f"negative: {value!r}", keys, field)
    return d


def _row(r: Any, where: _Where, keys: tuple, field: str) -> Row:
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
                                                                   f"{field}.stated")}
    if kinds == ["fixed"]:
        return Row(kind="fixed", fixed=money(r["fixed"], where, keys + ("fixed",), f"{field}.fixed"), **common)
    if kinds == ["percent"]:
        of = r.get("of")
        if not isinstance(of, list) or not all(isinstance(x, str) for x in of):
            raise where.error("'of' must list row ids", keys + ("of",), f"{field}.of")
        return Row(kind="percent", percent=money(r["percent"], where, keys + ("percent",), f"{field}.percent"),
                   of=tuple(of), **common)
    factors = r["factors"]
    if not isinstance(factors, list) or not factors:
        raise where.error("'factors' must be a non-empty list", keys + ("factors",), f"{field}.factors")
    parsed = []
    for i, f in enumerate(factors):
        value = f.get("value") if isinstance(f, dict) else f
        parsed.append((money(value, where, keys + ("factors", i), f"{field}.factors[{i}]"),
                       str(f.get("unit", "")) if isinstance(f, dict) else ""))
    price = r.get("unit_price")
    if not isinstance(price, dict) or "usd" not in price:
        raise where.error("needs unit_price: {usd: ...}", keys + ("unit_price",), f"{field}.unit_price")
    bad = sorted(set(price) - PRICE_KEYS)
    if bad:
        raise where.error(f"unknown key {bad[0]!r}", keys + ("unit_price", bad[0]), f"{field}.unit_price.{bad[0]}")
    divisor = money(price.get("divisor", 1), where, keys + ("unit_price", "divisor"), f"{field}.unit_price.divisor")
    if divisor == 0:
        raise where.error("divisor must not be 0", keys + ("unit_price", "divisor"), f"{field}.unit_price.divisor")
    note = ", ".join(f"{k} {price[k]}" for k in ("per", "item", "as_of", "source") if price.get(k))
    return Row(kind="product", factors=tuple(parsed),
               unit_price=money(price["usd"], where, keys + ("unit_price", "usd"), f"{field}.unit_price.usd"),
               divisor=divisor, price_note=note, **common)


def _check_references(table: Table, where: _Where, tid: str) -> None:
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


def load_pricing(path: str | Path | None = None) -> Pricing:
    """Read and check a pricing file (default: the case study's tables)."""
    import hashlib

    path = Path(path) if path else DEFAULT_PRICING
    doc = read_yaml_mapping_doc(path, "pricing file")
    data, raw = doc.data, doc.raw
    where = _Where(doc)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}", (unknown[0],), unknown[0])
    volume = data.get("volume") or {}
    docs = money(volume.get("documents_per_month") if isinstance(volume, dict) else volume, where,
                 ("volume", "documents_per_month"), "volume.documents_per_month")
    if docs == 0:
        raise where.error("must be more than 0", ("volume", "documents_per_month"), "volume.documents_per_month")
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
        tables[tid] = table
    if not tables:
        raise where.error("no tables", ("tables",), "tables")
    return Pricing(path=str(path), name=str(data.get("name", path.stem)), documents_per_month=docs, tables=tables,
                   quoted=tuple(data.get("quoted") or ()), break_even=data.get("break_even") or {},
                   sha256=hashlib.sha256(raw).hexdigest())
