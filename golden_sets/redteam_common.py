"""Red-team set, shared helpers: item shape, document texts, dates, amounts, template filling (see
:mod:`golden_sets.redteam`)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Callable

from golden_sets.redteam_pii import Pii
from golden_sets import techcorp_spec as S
from golden_sets.render import render
from golden_sets.values import (company, doc_number, money, person, product_code, render_date,
                                render_money, with_article)




# ---------------------------------------------------------------------------------------------- helpers
def _item(text: str, where: str, expect: list[str], pii: Pii | None = None) -> dict:
    values, kinds = pii.listed(text) if pii else ([], [])
    return {"where": where, "expect": list(expect), "pii": values, "pii_types": kinds, "text": text}


def _doc_text(rng: random.Random, label: str | None = None, family: int | None = None):
    label = label or rng.choice(list(S.CLASSES))
    family = rng.randint(0, 5) if family is None else family
    draft = render(rng, label, family)
    return "\n".join(draft.lines).strip(), draft


def _year(rng: random.Random) -> int:
    return rng.randint(2023, 2025)


def _day(rng: random.Random) -> date:
    return date(_year(rng), 1, 1) + timedelta(days=rng.randint(0, 364))


def _date(rng: random.Random) -> str:
    return render_date(_day(rng), rng.choice(S.DATE_FORMATS))


def _num(rng: random.Random, prefix: str) -> str:
    return doc_number(rng, prefix, rng.choice(S.DOC_NUMBER_FORMATS), _year(rng))


def _amount(rng: random.Random, lo: int = 100, hi: int = 90000) -> str:
    return render_money(money(rng, lo, hi), rng.choice(S.CURRENCIES), rng.choice(S.MONEY_FORMATS))


def _unique(rng: random.Random, n: int, make: Callable[[random.Random, int], dict]) -> list[dict]:
    """``n`` items with distinct texts from ``make(rng, k)`` (k counts the items made so far)."""
    out, seen = [], set()
    tries = 0
    while len(out) < n:
        tries += 1
        assert tries < n * 50, "generator cannot find enough distinct texts"
        item = make(rng, len(out))
        if item["text"] not in seen:
            seen.add(item["text"])
            out.append(item)
    return out


def _fill(rng: random.Random, template: str) -> str:
    """Fill the placeholders a template uses with fresh values."""
    a, b = company(rng), company(rng)
    while b == a:
        b = company(rng)
    cur = rng.choice(S.CURRENCIES)
    values = {
        "inv": _num(rng, "INV"), "po": _num(rng, "PO"), "msa": _num(rng, "MSA"), "sow": _num(rng, "SOW"),
        "qt": _num(rng, "QT"), "cn": _num(rng, "CN"), "ra": _num(rng, "RA"), "rem": _num(rng, "REM"),
        "dn": _num(rng, "DN"), "rct": _num(rng, "RCT"), "nda": _num(rng, "NDA"),
        "company": a, "company2": b, "person": person(rng), "date": _date(rng), "date2": _date(rng),
        "amount": _amount(rng), "amount2": _amount(rng, 10, 5000), "cur": cur,
        "law": with_article(rng.choice(S.JURISDICTIONS)), "terms": rng.choice(S.PAYMENT_TERMS),
        "term": rng.choice(["12 months", "24 months", "36 months", "2 years", "3 years", "18 months"]),
        "city": rng.choice(["Springfield", "Riverton", "Lakeside", "Toronto", "Zurich", "Hamburg", "Lyon"]),
        "product": rng.choice(S.PRODUCTS), "code": product_code(rng), "clause": str(rng.randint(2, 18)),
    }
    return template.format(**values)
