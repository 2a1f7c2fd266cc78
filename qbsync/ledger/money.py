"""Exact amounts: Decimal in Python, decimal text in SQLite, never float.

Money has at most 2 decimal places; quantities and unit prices at most 4 (a unit price of
0.0125 per minute is real in billing; the line amount is rounded to the cent).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MONEY_PLACES = 2
RATE_PLACES = 4
MAX_ABS = Decimal("1000000000000")  # no billing amount reaches a trillion; catches typos


def to_decimal(value: Any, places: int) -> Decimal:
    """Read a number without ever passing through float. Accepts Decimal, int and text; a float
    (or a bool) is refused, so a caller cannot smuggle binary rounding in."""
    if isinstance(value, bool | float):
        raise ValueError("expected an exact decimal number (write it as text, e.g. '10.50')")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if "_" in text:  # Decimal() would accept 1_000; a billing export never means that
            raise ValueError(f"{value!r} is not a number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError("expected a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if abs(number) >= MAX_ABS:
        raise ValueError(f"{value} is out of range")
    if number != number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        raise ValueError(f"{value} has more than {places} decimal places")
    return number


def money(value: Any) -> Decimal:
    """An amount of money: at most 2 decimal places, normalized to exactly 2 (10.5 -> 10.50)."""
    return (to_decimal(value, MONEY_PLACES) + 0).quantize(CENT)  # + 0 turns -0 into 0


def quantity(value: Any) -> Decimal:
    """A quantity: at most 4 decimal places, trailing zeros trimmed (12, 7.5, 0.125)."""
    return normalize(to_decimal(value, RATE_PLACES), 0)


def unit_price(value: Any) -> Decimal:
    """A unit price: at most 4 decimal places, shown with at least 2 (150.00, 0.0125)."""
    return normalize(to_decimal(value, RATE_PLACES), 2)


def normalize(number: Decimal, min_places: int) -> Decimal:
    """One value, one text: 1.5000 and 1.5 both become 1.50 (min_places 2) or 1.5 (0)."""
    number = number + 0  # -0 becomes 0
    trimmed = number.normalize()
    if -trimmed.as_tuple().exponent < min_places:  # type: ignore[operator]
        return number.quantize(Decimal(1).scaleb(-min_places))
    return trimmed


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """quantity x unit price, rounded to the cent half-up (as invoices are printed)."""
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def text(value: Decimal) -> str:
    """The stored form: plain decimal text, never exponent notation."""
    return format(value, "f")
