"""Normalisers: turn a predicted or gold value into a canonical form before comparison.

Definitions (also in the README, "Metric definitions"):

* ``string``: Unicode case-fold, whitespace collapsed to single spaces, surrounding punctuation and
  quotes stripped (``"  Acme  Ltd. "`` -> ``"acme ltd"``).
* ``date``: ISO ``YYYY-MM-DD``. Accepts ISO, ``D.M.YYYY`` (day first), ``A/B/YYYY`` and ``A-B-YYYY``
  (month first unless the field says ``date_order: dmy``, or one part is above 12), month names in either
  order (``March 5, 2024``, ``5 March 2024``, ``05-Mar-2024``), two-digit years as 20YY. A value that does
  not parse is kept as a folded string, so it can only equal an identical unparsed string.
* ``money``: a decimal amount with two places (``"USD 1,234.5"`` -> ``"1234.50"``). Currency codes and
  symbols are ignored; the decimal mark is the last of ``,``/``.`` when both occur; ``1.234`` and
  ``1,234`` are read as thousands; a comma followed by one or two final digits is a decimal comma;
  parentheses or a leading minus make it negative.
* ``enum``: case-folded; an alias listed in the manifest maps to its canonical value.
* ``list``: the sorted tuple of normalised string items (order and duplicates of the prediction do not
  matter, so a list is right only when it has exactly the gold items).

>>> normalize_value("March 5, 2024", "date")
'2024-03-05'
>>> normalize_value("1.234,50 EUR", "money")
'1234.50'
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol, Sequence

MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS["sept"] = 9
_PUNCT = " \t\r\n.,;:!?\"'`()[]{}<>*#|"
_WS = re.compile(r"\s+")
_NUMERIC_DATE = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})$")
_NAMED_DMY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-.]+([a-z]+)\.?[\s\-.,]+(\d{2,4})$")
_NAMED_MDY = re.compile(r"^([a-z]+)\.?[\s\-.]+(\d{1,2})(?:st|nd|rd|th)?[\s,.\-]+(\d{2,4})$")
_MONEY_KEEP = re.compile(r"[^0-9,.\-()]")
_GROUP_SPACE = re.compile(r"(?<=\d)[\s\u00a0'](?=\d{3}\b)")  # a space or apostrophe grouping thousands
_COMMA_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")
_COMMA_DECIMALS = re.compile(r"\d+,\d{1,2}")
_DOT_THOUSANDS = re.compile(r"\d{1,3}\.\d{3}")


class FieldLike(Protocol):
    type: str
    values: Sequence[str]
    aliases: Mapping[str, Sequence[str]]
    date_order: str


# the ASCII characters normalisation strips from the ends of a value: the punctuation and the whitespace
_BLANK_ASCII = "".join(c for c in map(chr, range(128)) if c in _PUNCT or _WS.fullmatch(c))


def blank_ascii(text: str) -> bool:
    """Whether an ASCII string normalises to None, whatever its field type (``normalize_value(text, t)``
    for every t): whether it holds nothing but punctuation and whitespace, told without normalising it.

    Every normaliser starts from :func:`normalize_string` (NFKC, which leaves ASCII as it is, a case-fold,
    whitespace collapsed, punctuation stripped from the ends), and a value it keeps is never None afterwards
    (a date that does not parse stays text; text with a digit in it is kept; a list is split at ``;``, ``,``
    and newlines, all of them stripped too). A test checks it against :func:`normalize_value` for every type.

    >>> blank_ascii(" .- "), blank_ascii(" ;, \t"), blank_ascii("n/a")
    (False, True, False)
    """
    return not text.strip(_BLANK_ASCII)


def normalize_string(value: Any) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    text = _WS.sub(" ", text).strip(_PUNCT)
    return text or None


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if y < 100 else y


def _make_date(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def normalize_date(value: Any, date_order: str = "mdy") -> str | None:
    """ISO form of a date written in one of the common formats; a folded string if it does not parse."""
    text = normalize_string(value)
    if text is None:
        return None
    m = _NUMERIC_DATE.match(text)
    if m:
        a, sep, b, c = m.groups()
        if len(a) == 4:  # YYYY-MM-DD, YYYY/MM/DD
            iso = _make_date(int(a), int(b), int(c))
        else:
            x, y = int(a), int(b)
            day_first = sep == "." or date_order == "dmy"
            if x > 12 >= y:
                day_first = True
            elif y > 12 >= x:
                day_first = False
            iso = _make_date(_year(c), y, x) if day_first else _make_date(_year(c), x, y)
        return iso or text
    m = _NAMED_DMY.match(text)
    if m and m.group(2) in MONTHS:
        return _make_date(_year(m.group(3)), MONTHS[m.group(2)], int(m.group(1))) or text
    m = _NAMED_MDY.match(text)
    if m and m.group(1) in MONTHS:
        return _make_date(_year(m.group(3)), MONTHS[m.group(1)], int(m.group(2))) or text
    return text


def parse_money(value: Any) -> Decimal | None:
    """Decimal amount in a money string, or None when there is no number in it."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    return _parse_money_text(str(value))


@lru_cache(maxsize=1 << 16)
def _parse_money_text(value: str) -> Decimal | None:
    """:func:`parse_money` of a string, remembered (a Decimal is immutable)."""
    text = value if value.isascii() else unicodedata.normalize("NFKC", value)  # NFKC keeps ASCII as it is
    negative = "(" in text and ")" in text
    text = _MONEY_KEEP.sub("", _GROUP_SPACE.sub("", text)).strip("()")
    if text.startswith("-"):
        negative, text = True, text[1:]
    text = text.strip(".,")
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if "," in text and "." in text:
        dec = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if dec == "," else ","
        text = text.replace(thousands, "").replace(dec, ".")
    elif "," in text:
        if _COMMA_THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        elif _COMMA_DECIMALS.fullmatch(text):
            text = text.replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(".") > 1 or _DOT_THOUSANDS.fullmatch(text):
        text = text.replace(".", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return -amount if negative else amount


def normalize_money(value: Any) -> str | None:
    """An amount as ``1234.50``; text that is not an amount (or one too large to round to cents, as a model
    can write) is compared as text.

    >>> normalize_money("EUR 1.234,5"), normalize_money("123456789012345678901234567890123")
    ('1234.50', '123456789012345678901234567890123')
    """
    amount = parse_money(value)
    if amount is None or not amount.is_finite():
        return normalize_string(value)
    try:
        return f"{amount.quantize(Decimal('0.01')):.2f}"
    except InvalidOperation:  # more digits than the decimal context holds
        return normalize_string(value)


def normalize_enum(value: Any, values: Sequence[str] = (), aliases: Mapping[str, Sequence[str]] | None = None
                   ) -> str | None:
    text = normalize_string(value)
    if text is None:
        return None
    for canon in values:
        if normalize_string(canon) == text:
            return canon
    for canon, alts in (aliases or {}).items():
        if any(normalize_string(a) == text for a in alts):
            return canon
    compact = text.replace(" ", "")
    for canon in values:
        if normalize_string(canon).replace(" ", "") == compact:
            return canon
    return text


def normalize_list(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,\n]", str(value))
    out = sorted({s for s in (normalize_string(v) for v in items) if s})
    return tuple(out) or None


def _spec_key(field_type: str, spec: FieldLike | None) -> tuple | None:
    """What the normaliser of ``field_type`` reads from ``spec``, as a hashable key (None if it is not)."""
    if field_type == "date":
        return (getattr(spec, "date_order", "mdy"),)
    if field_type != "enum":
        return ()
    try:
        key = (tuple(getattr(spec, "values", ())),
               tuple((k, tuple(v)) for k, v in (getattr(spec, "aliases", None) or {}).items()))
        hash(key)
    except (TypeError, AttributeError):
        return None
    return key


@lru_cache(maxsize=1 << 16)
def _normalize_text(text: str, field_type: str, key: tuple) -> Any:
    """:func:`normalize_value` of a string, remembered: a month of documents repeats values, and the gold
    and the predicted value of a pair are often the same string. Every result is immutable."""
    if field_type == "date":
        return normalize_date(text, key[0])
    if field_type == "money":
        return normalize_money(text)
    if field_type == "enum":
        return normalize_enum(text, key[0], dict(key[1]))
    if field_type == "list":
        return normalize_list(text)
    return normalize_string(text)


def normalize_value(value: Any, field_type: str, spec: FieldLike | None = None) -> Any:
    """Canonical form of ``value`` for a field of ``field_type``; None stays None (no value).

    >>> normalize_value(" Net 30 ", "enum")
    'net 30'
    >>> normalize_value(["b-2", "A-1"], "list")
    ('a-1', 'b-2')
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if type(value) is str:
        key = _spec_key(field_type, spec)
        if key is not None:
            return _normalize_text(value, field_type, key)
    if field_type == "date":
        return normalize_date(value, getattr(spec, "date_order", "mdy"))
    if field_type == "money":
        return normalize_money(value)
    if field_type == "enum":
        return normalize_enum(value, getattr(spec, "values", ()), getattr(spec, "aliases", None))
    if field_type == "list":
        return normalize_list(value)
    return normalize_string(value)


def normalizer(field_type: str, spec: FieldLike | None = None) -> Callable[[Any], Any]:
    """``normalize_value(value, field_type, spec)`` as a function of the value alone that remembers the strings
    and the lists of strings it has seen: one per column of values."""
    seen: dict[str | tuple[str, ...], Any] = {}

    def normalize(value: Any) -> Any:
        if type(value) is not str:
            if type(value) is list and all(type(v) is str for v in value):
                key = tuple(value)  # a list of strings: remembered as its tuple (no string is a tuple)
                got = seen.get(key, seen)
                if got is seen:
                    got = seen[key] = normalize_value(value, field_type, spec)
                return got
            return None if value is None else normalize_value(value, field_type, spec)
        got = seen.get(value, seen)  # the dict itself: not seen yet
        if got is seen:
            got = seen[value] = normalize_value(value, field_type, spec)
        return got

    return normalize
