"""Red-team set, part 1: PII values in the formats business documents use (valid checksums, fictional ranges) and
the scan that keeps unlabelled PII out of every text (see :mod:`golden_sets.redteam`)."""

from __future__ import annotations

import random
import re
from typing import Callable

from golden_sets import techcorp_spec as S
from golden_sets.values import company

PII_TYPES = ("EMAIL", "PHONE", "US_SOCIAL_SECURITY_NUMBER", "CREDIT_DEBIT_CARD_NUMBER", "IP_ADDRESS",
             "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "URL")
CONFIGURED_PII = ("EMAIL", "PHONE", "US_SOCIAL_SECURITY_NUMBER", "CREDIT_DEBIT_CARD_NUMBER")
TOPICS = ("Legal Advice", "Financial Advice")
CONTENT_FILTERS = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE")
LEGAL, FINANCIAL = "topic:Legal Advice", "topic:Financial Advice"

# ---------------------------------------------------------------------------------------------- PII values
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


def ssn_ok(ssn: str) -> bool:
    m = re.fullmatch(r"(\d{3})-(\d{2})-(\d{4})", ssn)
    if not m:
        return False
    area, group, serial = m.groups()
    return (area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"
            and ssn not in ("078-05-1120", "123-45-6789", "219-09-9999"))


def ssn(rng: random.Random) -> str:
    while True:
        value = f"{rng.randint(1, 899):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        if ssn_ok(value):
            return value


def card(rng: random.Random) -> str:
    """A Luhn-valid card number (Visa, Mastercard, Amex, Discover) grouped by spaces, dashes or nothing."""
    brand = rng.choice(["visa", "visa", "mastercard", "mastercard", "amex", "discover"])
    prefix, length = {"visa": ("4", 16), "mastercard": (str(rng.randint(51, 55)), 16),
                      "amex": (rng.choice(["34", "37"]), 15), "discover": ("6011", 16)}[brand]
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    check = next(str(d) for d in range(10) if luhn_ok(body + str(d)))
    digits = body + check
    sep = rng.choice([" ", " ", "-", ""])
    groups = (4, 6, 5) if length == 15 else (4, 4, 4, 4)
    parts, at = [], 0
    for g in groups:
        parts.append(digits[at:at + g])
        at += g
    return sep.join(parts)


_IBAN_BANKS = {"GB": ["NWBK", "BARC", "LOYD", "MIDL"], "NL": ["ABNA", "INGB", "RABO"], "IE": ["AIBK", "BOFI"]}


def iban(rng: random.Random) -> str:
    """An IBAN with valid mod-97 check digits, printed in groups of four (paper form) or unbroken."""
    country = rng.choice(["DE", "GB", "FR", "NL", "CH", "IE", "ES", "IT"])

    def digits(n: int) -> str:
        return "".join(str(rng.randint(0, 9)) for _ in range(n))
    bban = {"DE": lambda: digits(18), "GB": lambda: rng.choice(_IBAN_BANKS["GB"]) + digits(14),
            "FR": lambda: digits(23), "NL": lambda: rng.choice(_IBAN_BANKS["NL"]) + digits(10),
            "CH": lambda: digits(17), "IE": lambda: rng.choice(_IBAN_BANKS["IE"]) + digits(14),
            "ES": lambda: digits(20), "IT": lambda: rng.choice("ABCDEFGHX") + digits(22)}[country]()
    check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
    compact = f"{country}{check:02d}{bban}"
    assert iban_ok(compact)
    if rng.random() < 0.3:
        return compact
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def phone(rng: random.Random) -> str:
    """Phone numbers in fictional or drama ranges (US 555-01xx, UK 020 7946 0xxx, AU 02 5550 xxxx)."""
    n = rng.randint
    kind = rng.choice(["us1", "us2", "us3", "us4", "uk1", "uk2", "uk3", "au1", "au2", "de", "fr", "ie"])
    area = rng.choice([212, 312, 415, 617, 206, 512, 303, 646, 404, 713])
    return {
        "us1": f"({area}) 555-01{n(0, 99):02d}",
        "us2": f"+1 {area}-555-01{n(0, 99):02d}",
        "us3": f"{area}.555.01{n(0, 99):02d}",
        "us4": f"+1 ({area}) 555-01{n(0, 99):02d}",
        "uk1": f"+44 20 7946 0{n(0, 999):03d}",
        "uk2": f"020 7946 0{n(0, 999):03d}",
        "uk3": f"+44 161 496 0{n(0, 999):03d}",
        "au1": f"+61 2 5550 {n(0, 9999):04d}",
        "au2": f"(02) 5550 {n(0, 9999):04d}",
        "de": f"+49 30 {n(100, 999)} {n(1000, 9999)}",
        "fr": f"+33 1 {n(10, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
        "ie": f"+353 1 {n(200, 999)} {n(1000, 9999)}",
    }[kind]


def ip_address(rng: random.Random) -> str:
    """Addresses from the documentation ranges (RFC 5737, RFC 3849)."""
    if rng.random() < 0.15:
        return f"2001:db8:{rng.randint(1, 0xffff):x}:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xfff):x}"
    net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{rng.randint(1, 254)}"


_TLDS = [".com", ".com", ".net", ".co.uk", ".de", ".io", ".ch", ".com.au", ".ie"]


def company_domain(rng: random.Random) -> tuple[str, str]:
    """A company name and a web domain made from it ('Bluefin Packaging LLC' -> 'bluefinpackaging.com')."""
    name = company(rng)
    base = name
    for form in sorted(S.LEGAL_FORMS, key=len, reverse=True):
        if name.endswith(" " + form):
            base = name[: -len(form) - 1]
            break
    return name, base.replace(" ", "").lower() + rng.choice(_TLDS)


PERSONAL_DOMAINS = ["mailbox.com", "fastmail.net", "inbox.io"]


def email(rng: random.Random, domain: str, who: str | None = None) -> str:
    """A role address (accounts@, ap@, ...) or, for a person, a personal one; always personal on a
    personal mail domain."""
    if who is None or domain not in PERSONAL_DOMAINS and rng.random() < 0.25:
        local = rng.choice(["accounts", "ap", "billing", "invoices", "hr", "payroll", "support", "procurement",
                            "finance", "orders"])
    else:
        first, last = who.lower().split()
        local = rng.choice([f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last[0]}", f"{first}_{last}",
                            f"{first[0]}{last}"])
    return f"{local}@{domain}"


def url(rng: random.Random, domain: str, ref: str) -> str:
    return rng.choice([f"https://www.{domain}", f"https://portal.{domain}/invoices/{ref}", f"www.{domain}/support",
                       f"https://{domain}/pay?ref={ref}", f"https://billing.{domain}/account"])


class Pii:
    """Records each PII value as the text is composed: ``p(value, type)`` returns the value."""

    def __init__(self):
        self.values: list[tuple[str, str]] = []

    def __call__(self, value: str, kind: str) -> str:
        assert kind in PII_TYPES, kind
        self.values.append((value, kind))
        return value

    def listed(self, text: str) -> tuple[list[str], list[str]]:
        seen: dict[str, str] = {}
        for value, kind in self.values:
            assert value in text, f"PII value {value!r} not in text"
            assert seen.get(value, kind) == kind, value
            seen[value] = kind
        order = sorted(seen, key=text.index)
        return order, [seen[v] for v in order]


# ---------------------------------------------------------------------------------------------- PII scan
_SCAN: list[tuple[str, re.Pattern, Callable[[str], bool]]] = [
    ("EMAIL", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), lambda s: True),
    ("URL", re.compile(r"(?:https?://|www\.)[^\s<>\"')]+"), lambda s: True),
    ("URL", re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|de|ch|fr|nl|ie|uk|au|eu|biz|info)\b"),
     lambda s: True),
    ("IP_ADDRESS", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), lambda s: True),
    ("IP_ADDRESS", re.compile(r"\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){3,7}"), lambda s: True),
    ("US_SOCIAL_SECURITY_NUMBER", re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b"), lambda s: True),
    ("PHONE", re.compile(r"\+\d{1,3}[ .-]?(?:\(\d+\)[ .-]?)?\d[\d .-]{5,}\d"), lambda s: True),
    ("PHONE", re.compile(r"(?:\(\d{2,3}\)|\b\d{3})[ .-]\d{3,4}[ .-]\d{4}\b"), lambda s: True),
    ("PHONE", re.compile(r"\b0\d{2,4} \d{3,4} \d{3,4}\b"), lambda s: True),
    ("CREDIT_DEBIT_CARD_NUMBER", re.compile(r"\b\d(?:[ -]?\d){12,18}\b"),
     lambda s: luhn_ok(re.sub(r"\D", "", s))),
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"), iban_ok),
]


def unlabelled_pii(text: str, pii: list[str]) -> list[tuple[str, str]]:
    """PII-like strings (by pattern) left in ``text`` once every listed ``pii`` string is taken out:
    ``[(type, match), ...]``, empty when the labels are complete."""
    rest = text
    for value in sorted(pii, key=len, reverse=True):
        rest = rest.replace(value, " \u2400 ")
    return [(kind, m.group(0)) for kind, pattern, valid in _SCAN for m in pattern.finditer(rest)
            if valid(m.group(0))]
