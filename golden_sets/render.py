"""One TechCorp document drawn and rendered: the gold values of its class (:func:`_values`), its layout
family's key-value lines, item table, totals and prose, as a :class:`Draft` (:func:`render`). Deterministic:
only the :class:`random.Random` it is given. :mod:`golden_sets.generate` writes the sets from these drafts (and
adds the OCR-style noise); the shadow stream and the red-team set render documents the same way."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from golden_sets import techcorp_spec as S
from golden_sets.values import (CENT, SYMBOLS, address, company, doc_number, money, person, product_code,
                                render_date, render_money, with_article)


@dataclass
class Draft:
    """A document being rendered: gold values, their rendered forms and the text lines."""
    label: str
    family: int
    gold: dict = field(default_factory=dict)
    shown: dict = field(default_factory=dict)  # field -> rendered text of the value
    lines: list = field(default_factory=list)


def _values(rng: random.Random, label: str, family: int) -> tuple[dict, dict, dict]:
    """Draw the gold values of one document; returns (gold, shown, extras)."""
    spec = S.CLASSES[label]
    applicable = set(spec["fields"])
    dfmt, mfmt = S.DATE_FORMATS[family], S.MONEY_FORMATS[family]
    year = rng.randint(2023, 2025)
    issue = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
    cur = rng.choice(S.CURRENCIES)
    terms = rng.choice(S.PAYMENT_TERMS)
    gold: dict = {}
    shown: dict = {}
    extras: dict = {"currency": cur, "contact": person(rng), "address": address(rng),
                    "recipient_address": address(rng), "signatory": person(rng)}

    def put(name, gold_value, shown_value):
        gold[name] = gold_value
        shown[name] = shown_value

    if "document_number" in applicable:
        num = doc_number(rng, spec["prefix"], S.DOC_NUMBER_FORMATS[family], year)
        put("document_number", num, num)
    if "issue_date" in applicable:
        put("issue_date", issue.isoformat(), render_date(issue, dfmt))
    if "due_date" in applicable:
        days = 0 if terms == "Due on receipt" else int(terms.split()[1])
        due = issue + timedelta(days=days or rng.randint(7, 21))
        put("due_date", due.isoformat(), render_date(due, dfmt))
    if "effective_date" in applicable:
        put("effective_date", issue.isoformat(), render_date(issue, dfmt))
    months = rng.choice([6, 12, 18, 24, 36, 48, 60])
    if "contract_term" in applicable:
        term = f"{months // 12} years" if months % 12 == 0 and rng.random() < 0.5 else f"{months} months"
        put("contract_term", term, term)
    if "expiration_date" in applicable and (label != "statement_of_work" or rng.random() < 0.8):
        if spec["group"] == S.COMMERCIAL:
            end = issue + timedelta(days=rng.choice([14, 30, 45, 60, 90]))
        else:
            end = date(issue.year + (issue.month - 1 + months) // 12, (issue.month - 1 + months) % 12 + 1, 1) \
                - timedelta(days=1)
        put("expiration_date", end.isoformat(), render_date(end, dfmt))
    if "issuer_name" in applicable:
        name = person(rng) if label == "expense_report" else company(rng)
        put("issuer_name", name, name)
    if "recipient_name" in applicable:
        name = company(rng)
        put("recipient_name", name, name)
    else:
        extras["other_party"] = person(rng)  # a distractor name under the recipient role label
    if "po_reference" in applicable and (label != "invoice" or rng.random() < 0.6):
        if label in ("invoice", "statement_of_work"):
            ref = doc_number(rng, "PO", rng.choice(S.DOC_NUMBER_FORMATS[:4]), year)
        else:
            ref = doc_number(rng, "INV", rng.choice(S.DOC_NUMBER_FORMATS[:4]), year)
        put("po_reference", ref, ref)
    if "payment_terms" in applicable and (label != "contract" or rng.random() < 0.8):
        aliases = S.PAYMENT_TERMS_ALIASES[terms]
        shown_terms = [terms, aliases[0], terms, aliases[1], aliases[3 % len(aliases)], aliases[2]][family]
        put("payment_terms", terms, shown_terms)
    if "governing_law" in applicable:
        law = rng.choice(S.JURISDICTIONS)
        put("governing_law", law, law)

    # Amounts: line items for commercial documents, milestones / expense lines otherwise.
    items = []
    if spec["group"] == S.COMMERCIAL:
        for _ in range(rng.randint(1, 5)):
            qty = rng.randint(1, 50)
            unit = money(rng, 2, 900)
            items.append({"code": product_code(rng), "desc": rng.choice(S.PRODUCTS), "qty": qty, "unit": unit,
                          "amount": (unit * qty).quantize(CENT)})
        if "product_codes" in applicable:
            put("product_codes", [it["code"] for it in items], None)
    elif label == "statement_of_work":
        for _ in range(rng.randint(2, 4)):
            items.append({"desc": rng.choice(S.TASKS_SOW), "amount": money(rng, 2000, 60000)})
    elif label == "expense_report":
        for _ in range(rng.randint(2, 6)):
            d = issue - timedelta(days=rng.randint(1, 20))
            items.append({"desc": rng.choice(["taxi", "hotel", "train ticket", "client dinner", "parking",
                                               "conference fee", "mileage"]),
                          "date": render_date(d, dfmt), "amount": money(rng, 5, 400)})
    extras["items"] = items
    subtotal = sum((it["amount"] for it in items if "amount" in it), Decimal("0.00"))
    if label == "contract":
        subtotal = money(rng, 5000, 500000)
    elif label in ("remittance_advice", "payment_reminder"):
        subtotal = money(rng, 50, 90000)
    rate = Decimal(rng.choice(["0", "0.05", "0.07", "0.10", "0.20"])) if "tax_amount" in applicable else Decimal(0)
    tax = (subtotal * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    total = subtotal + tax
    extras["subtotal"] = render_money(subtotal, cur, mfmt)
    if "tax_amount" in applicable:
        put("tax_amount", f"{tax:.2f}", render_money(tax, cur, mfmt))
    if "total_amount" in applicable:
        put("total_amount", f"{total:.2f}", render_money(total, cur, mfmt))
    if "currency" in applicable:  # shown as a Currency line (families 0, 2, 5) or inside the amounts
        put("currency", cur, cur if family in (0, 2, 5) or mfmt != "symbol" else SYMBOLS.get(cur, cur))
    if label == "payment_reminder":
        original = issue - timedelta(days=rng.randint(40, 90))
        extras["original_date"] = render_date(original, dfmt)
    return gold, shown, extras


def _kv_entries(label: str, family: int, shown: dict, extras: dict) -> list[tuple[str, str, str]]:
    """(field, label text, value text) for every rendered key/value line, in document order."""
    spec = S.CLASSES[label]
    order = ["document_number", "issue_date", "effective_date", "issuer_name", "recipient_name", "po_reference",
             "payment_terms", "due_date", "expiration_date", "contract_term", "governing_law", "currency"]
    out = []
    for name in order:
        if name == "recipient_name" and name not in shown and extras.get("other_party"):
            out.append(("other_party", spec["recipient"][family], extras["other_party"]))
            continue
        if name not in shown or name == "currency" and family not in (0, 2, 5):
            continue
        if name == "issuer_name":
            text = spec["issuer"][family]
        elif name == "recipient_name":
            text = spec["recipient"][family]
        else:
            text = S.LABELS[name][family].replace("{noun}", spec["noun"])
        out.append((name, text, shown[name]))
    return out


def _item_rows(label: str, family: int, extras: dict) -> list[list[str]]:
    cur, mfmt = extras["currency"], S.MONEY_FORMATS[family]
    rows = []
    for it in extras["items"]:
        if "code" in it:
            row = [it["code"], it["desc"], str(it["qty"])]
            if label != "delivery_note":
                row += [render_money(it["unit"], cur, mfmt), render_money(it["amount"], cur, mfmt)]
        elif "date" in it:
            row = [it["date"], it["desc"], render_money(it["amount"], cur, mfmt)]
        else:
            row = [it["desc"], render_money(it["amount"], cur, mfmt)]
        rows.append(row)
    return rows


def _item_header(label: str, family: int, extras: dict) -> list[str]:
    if not extras["items"]:
        return []
    first = extras["items"][0]
    if "code" in first:
        head = [S.LABELS["product_codes"][family], "Description", "Qty"]
        return head if label == "delivery_note" else head + ["Unit Price", "Amount"]
    if "date" in first:
        return ["Date", "Expense", "Amount"]
    return ["Milestone", "Fee"]


def _totals(label: str, family: int, shown: dict, extras: dict) -> list[tuple[str, str, str]]:
    out = []
    if "tax_amount" in shown:
        out.append(("subtotal", S.LABELS["subtotal"][family], extras["subtotal"]))
        out.append(("tax_amount", S.LABELS["tax_amount"][family], shown["tax_amount"]))
    if "total_amount" in shown:
        out.append(("total_amount", S.LABELS["total_amount"][family], shown["total_amount"]))
    return out


def _prose(name: str, variant: int, label: str, family: int, value: str) -> str:
    spec = S.CLASSES[label]
    if name == "governing_law":
        value = with_article(value)
    if name == "other_party":
        return f"{spec['recipient'][family]}: {value}."
    template = S.PROSE[name][variant]
    return template.format(v=value, noun=spec["noun"], role=spec["issuer"][family])


def render(rng: random.Random, label: str, family: int) -> Draft:
    spec = S.CLASSES[label]
    gold, shown, extras = _values(rng, label, family)
    layout = S.LAYOUTS[family]
    title = spec["titles"][family]
    entries = _kv_entries(label, family, shown, extras)
    rows, header = _item_rows(label, family, extras), _item_header(label, family, extras)
    totals = _totals(label, family, shown, extras)
    boiler = spec["boiler"][family]
    clauses = []
    if spec["group"] == S.LEGAL:
        clauses = [b for i, b in enumerate(spec["boiler"]) if i != family and i < 4]
        rng.shuffle(clauses)
        clauses = clauses[: rng.randint(1, 3)]
    issuer_line = shown.get("issuer_name", "")
    lines: list[str] = []

    if layout == "kv":
        lines += [title, issuer_line, extras["address"], ""] if issuer_line else [title, ""]
        lines += [f"{text}: {value}" for _, text, value in entries]
        if rows:
            lines += ["", "  ".join(header)] + ["  ".join(r) for r in rows]
        lines += [""] + [f"{text}: {value}" for _, text, value in totals]
        lines += ["", boiler] + [f"{i + 1}. {c}" for i, c in enumerate(clauses)]
    elif layout == "letter":
        lines += [issuer_line, extras["address"], ""] if issuer_line else []
        lines += [f"{title}", ""]
        if "recipient_name" in shown:
            lines += [shown["recipient_name"], extras["recipient_address"], ""]
        lines += [f"Dear {extras['contact']},", "", boiler]
        lines += [_prose(name, 0 if i % 2 == 0 else 1, label, family, value)
                  for i, (name, _, value) in enumerate(entries) if name != "recipient_name"]
        for r in rows:
            lines.append("- " + ", ".join(r))
        lines += [f"{text}: {value}." for _, text, value in totals]
        lines += clauses + ["", "Sincerely,", extras["signatory"]]
    elif layout == "header":
        bar = "=" * 44
        lines += [bar, title.upper().center(44), bar]
        if issuer_line:
            lines += [issuer_line, extras["address"], "-" * 44]
        lines += [f"{text.upper():.<26} {value}" for _, text, value in entries]
        if rows:
            lines += ["-" * 44, " | ".join(h.upper() for h in header)] + [" | ".join(r) for r in rows]
        lines += ["-" * 44] + [f"{text.upper():.<26} {value}" for _, text, value in totals]
        lines += [bar, boiler] + [f"({chr(97 + i)}) {c}" for i, c in enumerate(clauses)]
    elif layout == "table":
        lines += [f"# {title}", ""]
        if issuer_line:
            lines += [f"{issuer_line} - {extras['address']}", ""]
        lines += ["| Field | Value |", "|---|---|"] + [f"| {text} | {value} |" for _, text, value in entries]
        if rows:
            lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines += [""] + [f"| {text} | {value} |" for _, text, value in totals]
        lines += ["", boiler] + [f"* {c}" for c in clauses]
    elif layout == "email":
        subject = f"{title} {shown.get('document_number', '')}".strip()
        lines += [f"Subject: {subject}", f"From: {extras['signatory']}", ""]
        greeting = [v for n, _, v in entries if n == "recipient_name"]
        lines += [f"Hi {greeting[0]}," if greeting else "Hello,", "", boiler]
        sentences = [_prose(name, 2, label, family, value) for name, _, value in entries
                     if name != "recipient_name"]
        lines += [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
        lines += [f"  * {' / '.join(r)}" for r in rows]
        lines += [" ".join(f"{text} {value}." for _, text, value in totals)] if totals else []
        lines += clauses + ["", "Cheers,", extras["signatory"]]
    elif layout == "compact":
        head = f"{title.upper()} {issuer_line.upper()}" if issuer_line else title.upper()
        lines.append(head.strip())
        pairs = [f"{text.upper()} {value}" for _, text, value in entries]
        lines += ["; ".join(pairs[i:i + 2]) for i in range(0, len(pairs), 2)]
        lines += [" ".join(r) for r in rows]
        lines += ["; ".join(f"{text.upper()} {value}" for _, text, value in totals)] if totals else []
        lines += [boiler.upper()] + clauses
    draft = Draft(label=label, family=family, gold=gold, shown=shown, lines=lines)
    return draft
