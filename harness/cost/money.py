"""Money and quantities as exact decimals: read from a file within bounds, rounded only for display.

Every number a pricing file, a price file, ``runs.yaml`` or ``--what-if`` gives the cost step is read here,
from its text (never through a binary float), and bounded where it is read: a price, a quantity, an amount or
a percentage past its bound, or with more than :data:`MAX_PLACES` decimal places, stops with one line naming
the file, the line, the key and the bound (exit 2). The bounds are far beyond any real bill; they keep every
figure the cost step forms from them (rows, totals, months, break-even) finite and printable. Display rounding
(:func:`rounded`, :func:`usd`, :func:`pct`) works for any finite figure, however large.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessInputError

if TYPE_CHECKING:  # an annotation only: the cost command's module loads without yaml and pydantic
    from harness.files import YamlDoc

MAX_PRICE = Decimal(10) ** 6  # USD per unit: per 1K tokens, per hour, per item, per ticket
MAX_QUANTITY = Decimal(10) ** 12  # a factor, a volume, a divisor, a count of tickets
MAX_AMOUNT = Decimal(10) ** 12  # USD: a fixed or a stated amount, and every row's computed amount
MAX_PERCENT = Decimal(1000)  # a percentage row, or a stated ratio
MAX_PLACES = 12  # decimal places of any number (0.000000000001 is the finest)


class Where:
    """Line numbers of the keys of a YAML file (from :class:`harness.files.YamlDoc`), for error messages."""

    def __init__(self, doc: YamlDoc) -> None:
        self.path = doc.path
        self.doc = doc

    def line(self, *keys) -> int | None:
        return self.doc.lines.get(tuple(keys))

    def error(self, problem: str, keys: tuple, field: str) -> HarnessInputError:
        return HarnessInputError(problem, path=self.path, line=self.line(*keys), field=field)


def shown(value: Any) -> str:
    """``value`` as an error message quotes it: a 4,000-digit number is shortened, never printed whole."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:24]}... ({len(str(value)):,} characters)"


def exact(value: Any, most: Decimal, *, allow_negative: bool = False) -> Decimal | str:
    """``value`` as an exact Decimal within ``-most .. most`` (``0 .. most`` unless ``allow_negative``) and
    :data:`MAX_PLACES` decimal places, or the problem in words (the callers name the file and key)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return f"not a number: {shown(value)}"
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return f"not a number: {shown(value)}"
    if not d.is_finite():
        return f"not a finite number: {shown(value)}"
    if d < 0 and not allow_negative:
        return f"negative: {shown(value)}"
    if abs(d) > most:
        return f"{shown(value)} is out of range: at most {most:,}" + ("" if not allow_negative else " either way")
    if -d.as_tuple().exponent > MAX_PLACES:
        return f"{shown(value)} has more than {MAX_PLACES} decimal places"
    return d


def money(value: Any, where: Where, keys: tuple, field: str, most: Decimal = MAX_AMOUNT,
          allow_negative: bool = False) -> Decimal:
    """A number from the file as an exact Decimal within its bound ``most`` (see :func:`exact`); exit 2 naming
    the file, the line and the key otherwise."""
    if value is None:
        raise where.error("missing", keys, field)
    d = exact(value, most, allow_negative=allow_negative)
    if isinstance(d, str):
        raise where.error(d, keys, field)
    return d


def rounded(value: Decimal, places: str = "0.01", rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to ``places`` (``"0.01"``: cents) with as many digits as it needs (in Decimal's usual
    28-digit context, rounding a figure past 10^26 to cents is an error)."""
    q = Decimal(places)
    digits = max(value.adjusted(), 0) - q.as_tuple().exponent + 2
    return value.quantize(q, rounding=rounding, context=Context(prec=max(28, digits)))


def usd(v: Decimal | None, places: str = "0.01") -> str:
    """``$1,234.57``, ``-$0.04``; ``-`` for no figure."""
    if v is None:
        return "-"
    q = rounded(v, places)
    return f"-${-q:,}" if q < 0 else f"${q:,}"


def pct(v: Decimal | None) -> str:
    """A share as a signed percentage, ``+19.5%``; ``-`` for no figure."""
    return "-" if v is None else f"{v * 100:+.1f}%"
