"""Money: Decimal end to end, stored as decimal text, never through float.

Two ways in. The billing system's files are read strictly (`to_decimal`, `money`, `quantity`,
`unit_price`): a float or a third decimal place on an amount is an error to report. QuickBooks'
JSON is read leniently (`dec`, `cents`): its numbers arrive as floats and are taken at their
shortest repr. Money has at most 2 decimal places; quantities and unit prices at most 4 (a unit
price of 0.0125 per minute is real in billing; the line amount is rounded to the cent).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MONEY_PLACES = 2
RATE_PLACES = 4
EXCHANGE_PLACES = 8
MAX_ABS = Decimal("1000000000000")  # no billing amount reaches a trillion; catches typos
_NOTHING, _NO_CENTS = Decimal(0), Decimal("0.00")
# 1, 0.1, ... 0.00000001: the places a number may have (MONEY_, RATE_ and EXCHANGE_PLACES)
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(EXCHANGE_PLACES + 1)}


# Reading what QuickBooks sent (and the store's own decimal text) ----------------------------


def dec(value: Any) -> Decimal:
    """A Decimal from text, int, Decimal, or a float QBO sent (via its shortest repr)."""
    if value.__class__ is Decimal:  # first: most values are (a sum, a product)
        return value
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
    """Rounded to the cent, half-up (as invoices are printed)."""
    return dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


# Reading the billing system's files: exact or refused ----------------------------------------


def to_decimal(value: Any, places: int) -> Decimal:
    """Read a number without ever passing through float. Accepts Decimal, int and text; a float
    (or a bool) is refused, so a caller cannot smuggle binary rounding in."""
    if isinstance(value, str):  # first: files hold text
        text = value.strip()
        if "_" in text:  # Decimal() would accept 1_000; a billing export never means that
            raise ValueError(f"{value!r} is not a number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    elif isinstance(value, bool | float):
        raise ValueError("expected an exact decimal number (write it as text, e.g. '10.50')")
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        raise ValueError("expected a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if abs(number) >= MAX_ABS:
        raise ValueError(f"{value} is out of range")
    if number != number.quantize(_QUANTA[places], rounding=ROUND_HALF_UP):
        raise ValueError(f"{value} has more than {places} decimal places")
    return number


# The text nearly every amount in a billing file is written as: digits, and (group 1) a point
# with up to 4 places, below MAX_ABS. Such text needs none of to_decimal's checks, and when it
# already has the places a reader gives (150.00 as money or a price, 4 as a quantity) it is
# that reader's answer as it stands: the fast path of an import's most called functions, a
# third of their time. Anything else (a sign, spaces, an exponent) goes the whole way.
_PLAIN = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?").fullmatch


def money(value: Any) -> Decimal:
    """An amount of money: at most 2 decimal places, normalized to exactly 2 (10.5 -> 10.50)."""
    if value.__class__ is str and (plain := _PLAIN(value)) and len(plain[1] or "") <= 3:
        return Decimal(value) if len(plain[1] or "") == 3 else Decimal(value).quantize(CENT)
    return (to_decimal(value, MONEY_PLACES) + 0).quantize(CENT)  # + 0 turns -0 into 0


def quantity(value: Any) -> Decimal:
    """A quantity: at most 4 decimal places, trailing zeros trimmed (12, 7.5, 0.125)."""
    if value.__class__ is str and (plain := _PLAIN(value)):
        return Decimal(value) if not plain[1] else normalize(Decimal(value), 0)
    return normalize(to_decimal(value, RATE_PLACES), 0)


def unit_price(value: Any) -> Decimal:
    """A unit price: at most 4 decimal places, shown with at least 2 (150.00, 0.0125)."""
    if value.__class__ is str and (plain := _PLAIN(value)):
        return Decimal(value) if len(plain[1] or "") == 3 else normalize(Decimal(value), 2)
    return normalize(to_decimal(value, RATE_PLACES), 2)


def normalize(number: Decimal, min_places: int) -> Decimal:
    """One value, one text: 1.5000 and 1.5 both become 1.50 (min_places 2) or 1.5 (0)."""
    number = number + 0  # -0 becomes 0
    shortest = number.quantize(_QUANTA[min_places])
    # Exact at min_places (10 -> 10, 1.5000 -> 1.50): that text; more places hold digits
    # (0.0125): those, without trailing zeros.
    return shortest if shortest == number else number.normalize()


def percent(value: Any) -> Decimal:
    """A rate in percent (8.875, 20): at most 4 decimal places, from 0 to 100."""
    number = normalize(to_decimal(value, RATE_PLACES), 0)
    if not 0 <= number <= 100:
        raise ValueError(f"{value} is not a percentage from 0 to 100")
    return number


def exchange_rate(value: Any) -> Decimal:
    """Units of the home currency for one unit of the document's: above 0, at most 8 decimal
    places (QuickBooks' ExchangeRate carries more than a cent's precision)."""
    number = normalize(to_decimal(value, EXCHANGE_PLACES), 0)
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` (to the cent) over `weights` in proportion, each share rounded half-up and
    the last non-zero weight taking what rounding left, so the shares sum to `total` exactly."""
    whole = sum(weights, _NOTHING)
    if whole == 0 or total == 0:  # nothing to split (most invoices carry no discount)
        return [_NO_CENTS] * len(weights)
    if len(weights) == 1:  # one line takes it all (a region's tax on its only line)
        return [total - _NO_CENTS]
    shares = [cents(total * w / whole) for w in weights]
    last = max(i for i, w in enumerate(weights) if w != 0)
    shares[last] = total - sum((s for i, s in enumerate(shares) if i != last), _NO_CENTS)
    return shares


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """quantity x unit price, rounded to the cent half-up (as invoices are printed)."""
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


# Writing ------------------------------------------------------------------------------------


def text(value: Decimal) -> str:
    """The stored form: plain decimal text, never exponent notation."""
    # str() is plain for every amount with places (12.50, 0.00) and takes a third of format()'s
    # time, which an import calls some 25 times per invoice; exponent forms (1E+2, 1E-7) are
    # written out by format().
    written = str(value)
    return written if "E" not in written and "e" not in written else format(value, "f")


def number_text(value: Any) -> str:
    """Canonical text for a quantity or price: no exponent, no trailing zeros (7.50 -> 7.5,
    12.00 -> 12)."""
    trimmed = text(dec(value).normalize())
    return "0" if trimmed == "-0" else trimmed


def to_json_number(value: Any) -> float | int:
    """For a QBO request body: JSON has no decimal type, so send the shortest exact repr.
    Every amount passed here is already rounded to the cent (or to 4 dp for unit prices)."""
    d = dec(value)
    return int(d) if d == d.to_integral_value() else float(text(d))
