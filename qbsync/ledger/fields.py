"""The field types of ledger import records: ids, names, texts, dates, currencies and amounts,
each validated as read (never through float), and the strict base of every record."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from qbsync import money as m

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _ident(value: Any) -> Any:
    # Billing ids are text; an integer id from JSON (or a spreadsheet) is taken as its digits.
    if isinstance(value, str):
        value = value.strip()
        # Printable text holds no control character; the pattern decides for the rest.
        if not value.isprintable() and _CONTROL.search(value):
            raise ValueError("an id cannot hold control characters")
        return value
    if isinstance(value, bool):
        raise ValueError("expected an id (text)")
    if isinstance(value, int):
        return str(value)
    return value


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("cannot hold tabs, newlines or control characters")
    return value


def _iso_date(value: Any) -> Any:
    # Only YYYY-MM-DD: pydantic would also take a Unix timestamp, which no billing file means.
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("expected a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date") from None


def _opt_date(value: Any) -> Any:
    return (
        None
        if value is None or (isinstance(value, str) and not value.strip())
        else _iso_date(value)
    )


def _whole(value: Any) -> Any:
    if isinstance(value, bool | float | Decimal):
        raise ValueError("expected a whole number")
    return value.strip() if isinstance(value, str) else value


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# Lengths before the parse step: pydantic checks them in its core, not in Python per value.
Id = Annotated[str, Field(min_length=1, max_length=100), BeforeValidator(_ident)]
OptId = Annotated[Id | None, BeforeValidator(_blank_is_none)]
Name = Annotated[
    str, BeforeValidator(_strip), Field(min_length=1, max_length=500), AfterValidator(_one_line)
]
OptText = Annotated[Annotated[str, Field(max_length=4000)] | None, BeforeValidator(_blank_is_none)]
# Sent as the invoice's CustomerMemo, which QuickBooks caps at 1000 characters.
Memo = Annotated[Annotated[str, Field(max_length=1000)] | None, BeforeValidator(_blank_is_none)]
Date = Annotated[dt.date, BeforeValidator(_iso_date)]
OptDate = Annotated[dt.date | None, BeforeValidator(_opt_date)]


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"{value!r} is not a currency code (three capital letters, e.g. USD)")
    return value


def _email(value: str) -> str:
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Currency = Annotated[
    Annotated[str, AfterValidator(_currency)] | None,
    BeforeValidator(_blank_is_none),
    BeforeValidator(_strip),
]
Money = Annotated[Decimal, BeforeValidator(m.money)]
Quantity = Annotated[Decimal, BeforeValidator(m.quantity)]
UnitPrice = Annotated[Decimal, BeforeValidator(m.unit_price)]


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


PositiveMoney = Annotated[Money, AfterValidator(_positive)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
