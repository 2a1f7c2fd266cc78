"""Money: Decimal end to end, compared and stored to the cent, never through float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def dec(value: Any) -> Decimal:
    """A Decimal from text, int, Decimal, or a float QBO sent (via its shortest repr)."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def cents(value: Any) -> Decimal:
    return dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def number_text(value: Any) -> str:
    """Canonical text for a quantity or price: no exponent, no trailing zeros."""
    d = dec(value).normalize()
    text = format(d, "f")
    return "0" if text in ("-0", "") else text


def to_json_number(value: Any) -> float | int:
    """For a QBO request body: JSON has no decimal type, so send the shortest exact repr.
    Every amount passed here is already rounded to the cent (or to 4 dp for unit prices)."""
    d = dec(value)
    return int(d) if d == d.to_integral_value() else float(format(d, "f"))
