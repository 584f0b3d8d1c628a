"""Word lists and value renderers of the TechCorp golden-set generator: names, addresses, dates, money and
document numbers in the formats business documents use, and OCR-style noise (part of :mod:`golden_sets.generate`)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from golden_sets import techcorp_spec as S

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Kingsport", "Ashford", "Brookhaven", "Milton",
          "Greenville", "Westbury", "Dover", "Clayton", "Harrow", "Norwich", "Bristol", "Lyon", "Hamburg",
          "Toronto", "Zurich", "Perth"]
STREETS = ["Street", "Avenue", "Road", "Lane", "Way", "Boulevard", "Drive", "Place"]
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "C$", "AUD": "A$"}
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------- values
def company(rng: random.Random) -> str:
    return f"{rng.choice(S.ROOTS)}{rng.choice(['', '', ' '])}{rng.choice(S.INDUSTRIES)} {rng.choice(S.LEGAL_FORMS)}"


def person(rng: random.Random) -> str:
    return f"{rng.choice(S.FIRST_NAMES)} {rng.choice(S.LAST_NAMES)}"


def address(rng: random.Random) -> str:
    return f"{rng.randint(1, 990)} {rng.choice(S.ROOTS)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"


def render_date(d: date, fmt: str) -> str:
    month = MONTHS[d.month - 1]
    return {
        "iso": d.isoformat(),
        "long_us": f"{month} {d.day}, {d.year}",
        "dotted_eu": f"{d.day:02d}.{d.month:02d}.{d.year}",
        "slash_us": f"{d.month:02d}/{d.day:02d}/{d.year}",
        "long_eu": f"{d.day} {month} {d.year}",
        "dash_abbrev": f"{d.day:02d}-{month[:3]}-{d.year}",
    }[fmt]


def _group(amount: Decimal, thousands: str, decimal_mark: str) -> str:
    whole, frac = f"{amount:.2f}".split(".")
    parts = []
    while len(whole) > 3:
        parts.insert(0, whole[-3:])
        whole = whole[:-3]
    parts.insert(0, whole)
    return thousands.join(parts) + decimal_mark + frac


def render_money(amount: Decimal, currency: str, fmt: str) -> str:
    if fmt == "code_prefix":
        return f"{currency} {_group(amount, ',', '.')}"
    if fmt == "symbol":
        sym = SYMBOLS.get(currency)
        return f"{sym}{_group(amount, ',', '.')}" if sym else f"{currency} {_group(amount, ',', '.')}"
    if fmt == "eu_suffix":
        return f"{_group(amount, '.', ',')} {currency}"
    if fmt == "plain_suffix":
        return f"{amount:.2f} {currency}"
    if fmt == "eu_space":
        return f"{currency} {_group(amount, ' ', ',')}"
    raise ValueError(fmt)


def doc_number(rng: random.Random, prefix: str, fmt: str, year: int) -> str:
    return (fmt.replace("{P}", prefix).replace("{Y}", str(year))
            .replace("{N4}", f"{rng.randint(1, 9999):04d}").replace("{N5}", f"{rng.randint(1, 99999):05d}")
            .replace("{N6}", f"{rng.randint(100000, 999999)}"))


def product_code(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXZ"
    code = "".join(rng.choice(letters) for _ in range(rng.choice([2, 3]))) + f"-{rng.randint(100, 9999)}"
    return code + (rng.choice(letters) if rng.random() < 0.3 else "")


def money(rng: random.Random, lo: int, hi: int) -> Decimal:
    return (Decimal(rng.randint(lo * 100, hi * 100)) / 100).quantize(CENT)


# ---------------------------------------------------------------------------------------------- documents


def with_article(jurisdiction: str) -> str:
    """'State of Texas' -> 'the State of Texas'; 'Ireland' stays 'Ireland'."""
    return f"the {jurisdiction}" if jurisdiction.split()[0] in ("State", "Province", "Commonwealth") \
        else jurisdiction


_SUBS = {"o": "0", "O": "0", "l": "1", "i": "l", "e": "c", "S": "5", "B": "8", "a": "o", "m": "rn", "g": "q"}


def ocr_noise(rng: random.Random, text: str, protected: list[str], rate: float = 0.02) -> str:
    """Character-level OCR-style noise outside the protected spans (gold values stay readable)."""
    mask = [False] * len(text)
    for p in protected:
        if not p:
            continue
        start = text.find(p)
        while start != -1:
            for k in range(start, start + len(p)):
                mask[k] = True
            start = text.find(p, start + 1)
    out = []
    for ch, keep in zip(text, mask):
        if keep or ch == "\n":
            out.append(ch)
            continue
        r = rng.random()
        if r < rate and ch in _SUBS:
            out.append(_SUBS[ch])
        elif r < rate * 1.3 and ch == " ":
            continue
        else:
            out.append(ch)
    return "".join(out)


def protected_values(shown: dict) -> list[str]:
    vals = []
    for v in shown.values():
        if v:
            vals.append(v)
    return vals
