"""The ledger's records: pydantic models for what an import file holds (field-level validation),
and plain dataclasses for what the store hands back (Decimals, no float anywhere).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qbsync import money as m

KINDS = (
    "clients",
    "services",
    "tax_regions",
    "terms",
    "invoices",
    "payments",
    "credit_applications",
)
"""Record kinds in dependency order (a kind refers only to kinds before it)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _ident(value: Any) -> Any:
    # Billing ids are text; an integer id from JSON (or a spreadsheet) is taken as its digits.
    if isinstance(value, bool):
        raise ValueError("expected an id (text)")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        if _CONTROL.search(value):
            raise ValueError("an id cannot hold control characters")
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


Id = Annotated[str, BeforeValidator(_ident), Field(min_length=1, max_length=100)]
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


Email = Annotated[
    Annotated[str, AfterValidator(_email)] | None,
    BeforeValidator(_blank_is_none),
    BeforeValidator(_strip),
]
AddressText = Annotated[
    Annotated[str, Field(max_length=500), AfterValidator(_one_line)] | None,
    BeforeValidator(_blank_is_none),
    BeforeValidator(_strip),
]
ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
ADDRESS_KINDS = ("bill", "ship")


class AddressIn(_Record):
    """A postal address (QuickBooks' BillAddr/ShipAddr: Line1, Line2, City,
    CountrySubDivisionCode, PostalCode, Country)."""

    line1: AddressText = None
    line2: AddressText = None
    city: AddressText = None
    region: AddressText = None
    postal_code: Annotated[
        Annotated[str, Field(max_length=30)] | None,
        BeforeValidator(_blank_is_none),
        BeforeValidator(_ident),
    ] = None
    country: AddressText = None

    @model_validator(mode="after")
    def _not_empty(self) -> AddressIn:
        if all(getattr(self, f) is None for f in ADDRESS_FIELDS):
            raise ValueError("an address needs at least one of " + ", ".join(ADDRESS_FIELDS))
        return self


def _flat_addresses(value: Any) -> Any:
    # A CSV row writes an address as columns `bill_line1`, `bill_city`, ...: gathered here.
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for kind in ADDRESS_KINDS:
        flat = {f: out.pop(f"{kind}_{f}") for f in ADDRESS_FIELDS if f"{kind}_{f}" in out}
        if any(v not in (None, "") for v in flat.values()) and f"{kind}_address" not in out:
            out[f"{kind}_address"] = flat
    return out


def _flag(value: Any) -> Any:
    # A CSV cell or YAML text: blank is false; yes/no, true/false, 1/0.
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in ("true", "yes", "1"):
            return True
        if folded in ("false", "no", "0"):
            return False
        raise ValueError("expected true or false")
    return value


class ClientIn(_Record):
    """A billing client: the QuickBooks customer it becomes. `parent` makes it a sub-customer
    (a job) of another client; `currency` is fixed once the customer exists in QuickBooks."""

    id: Id
    name: Name
    email: Email = None
    cc_email: Email = None
    phone: Annotated[
        Annotated[str, Field(max_length=30), AfterValidator(_one_line)] | None,
        BeforeValidator(_blank_is_none),
        BeforeValidator(_ident),
    ] = None
    currency: Currency = None
    terms: OptId = None
    tax_region: OptId = None
    tax_exempt: Annotated[bool, BeforeValidator(_flag)] = False
    parent: OptId = None
    bill_address: AddressIn | None = None
    ship_address: AddressIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, value: Any) -> Any:
        return _flat_addresses(value)

    @field_validator("parent")
    @classmethod
    def _not_own_parent(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("id"):
            raise ValueError("a client cannot be its own parent")
        return value


class ServiceIn(_Record):
    id: Id
    name: Name


Percent = Annotated[Decimal, BeforeValidator(m.percent)]
ExchangeRate = Annotated[Decimal, BeforeValidator(m.exchange_rate)]


class TaxComponentIn(_Record):
    """One rate of a combined tax region (a state's and a city's, GST and QST)."""

    name: Name
    rate: Percent


class TaxRegionIn(_Record):
    id: Id
    name: Name
    rate: Annotated[Percent | None, BeforeValidator(_blank_is_none)] = None
    components: Annotated[list[TaxComponentIn], Field(min_length=1, max_length=10)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> TaxRegionIn:
        if self.rate is not None and self.components is not None:
            raise ValueError("give a rate or components, not both")
        if self.components is not None:
            names = [c.name for c in self.components]
            if len(set(names)) != len(names):
                raise ValueError("components: each component needs its own name")
        return self

    def rates(self) -> list[tuple[str, Decimal]] | None:
        """(name, rate in percent) per rate, or None when the region has no rate."""
        if self.components is not None:
            return [(c.name, c.rate) for c in self.components]
        return None if self.rate is None else [(self.name, self.rate)]


class TermsIn(_Record):
    id: Id
    name: Name
    due_days: Annotated[int, BeforeValidator(_whole), Field(ge=0, le=3650)]


class LineIn(_Record):
    service: Id
    description: OptText = None
    quantity: Annotated[Quantity, AfterValidator(_positive)]
    unit_price: UnitPrice  # may be negative: a discount line
    tax_region: OptId = None
    service_date: OptDate = None
    # The tax the billing system computed for this line (optional; see docs/ledger.md).
    tax_amount: Annotated[Money | None, BeforeValidator(_blank_is_none)] = None


class DiscountLineIn(_Record):
    """A discount on the invoice: an amount, or a percent of the sum of its item lines.
    `taxable` (default true): the discount is taken before tax, so tax is computed on the
    discounted amounts; false: tax is computed on the full amounts."""

    kind: Literal["discount"]
    description: OptText = None
    amount: Annotated[PositiveMoney | None, BeforeValidator(_blank_is_none)] = None
    percent: Annotated[
        Annotated[Percent, AfterValidator(_positive)] | None, BeforeValidator(_blank_is_none)
    ] = None
    taxable: Annotated[bool, BeforeValidator(lambda v: True if v in (None, "") else v)] = True

    @model_validator(mode="after")
    def _amount_or_percent(self) -> DiscountLineIn:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("a discount line gives an amount or a percent (one of them)")
        return self


def _line_kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return "discount" if kind == "discount" else "item"


def _item_kind(value: Any) -> Any:
    # `kind: item` may be written out; an item line's model has no such field.
    if isinstance(value, dict) and value.get("kind") in ("item", "", None) and "kind" in value:
        return {k: v for k, v in value.items() if k != "kind"}
    return value


AnyLine = Annotated[
    Annotated[LineIn, BeforeValidator(_item_kind), Tag("item")]
    | Annotated[DiscountLineIn, Tag("discount")],
    Discriminator(_line_kind),
]
LINE_TAGS = ("item", "discount")


class InvoiceIn(_Record):
    id: Id
    number: Annotated[
        str, BeforeValidator(_ident), Field(min_length=1, max_length=21)
    ]  # QuickBooks DocNumber: at most 21 characters
    client: Id
    date: Date
    due_date: OptDate = None
    terms: OptId = None
    status: Literal["draft", "finalized", "void"]
    type: Annotated[
        Literal["standard", "credit_note"], BeforeValidator(lambda v: v or "standard")
    ] = "standard"
    currency: Currency = None
    memo: Memo = None
    # QuickBooks takes at most 750 lines on a taxable invoice.
    lines: Annotated[list[AnyLine], Field(min_length=1, max_length=750)]
    # Prices as written exclude tax (default) or include it.
    amounts: Annotated[
        Literal["exclusive", "inclusive"], BeforeValidator(lambda v: v or "exclusive")
    ] = "exclusive"
    # The invoice's tax as the billing system computed it (optional; must equal the sum of the
    # lines' tax_amount when both are given).
    tax_total: Annotated[Money | None, BeforeValidator(_blank_is_none)] = None
    exchange_rate: Annotated[ExchangeRate | None, BeforeValidator(_blank_is_none)] = None

    @property
    def items(self) -> list[LineIn]:
        return [line for line in self.lines if isinstance(line, LineIn)]

    @field_validator("due_date")
    @classmethod
    def _due_after_date(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        issued = info.data.get("date")
        if value is not None and issued is not None and value < issued:
            raise ValueError(f"{value} is before the invoice date {issued}")
        return value


class PaymentIn(_Record):
    id: Id
    invoice: Id
    amount: PositiveMoney
    date: Date
    # For a payment in a foreign currency: what it came to in the home currency (optional).
    home_amount: Annotated[PositiveMoney | None, BeforeValidator(_blank_is_none)] = None
    method: Annotated[
        Annotated[str, Field(max_length=100), AfterValidator(_one_line)] | None,
        BeforeValidator(_blank_is_none),
    ] = None
    reference: Annotated[
        Annotated[str, Field(max_length=21)] | None,
        BeforeValidator(_blank_is_none),
        BeforeValidator(_ident),
    ] = None  # QuickBooks PaymentRefNum: at most 21 characters


class CreditApplicationIn(_Record):
    id: Id
    credit_note: Id
    invoice: Id
    amount: PositiveMoney
    date: Date


RECORD_MODELS: dict[str, type[_Record]] = {
    "clients": ClientIn,
    "services": ServiceIn,
    "tax_regions": TaxRegionIn,
    "terms": TermsIn,
    "invoices": InvoiceIn,
    "payments": PaymentIn,
    "credit_applications": CreditApplicationIn,
}


# What the store hands back -------------------------------------------------------------------


class InvoiceStatus(StrEnum):
    """Where an invoice stands, ledger-side, against its total including tax. A credit note is
    `paid` once fully applied."""

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    VOID = "void"


@dataclass(frozen=True)
class InvoiceLine:
    line_no: int
    service_id: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_region_id: str | None
    service_date: dt.date | None
    discount: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Invoice:
    company: str
    id: str
    number: str
    client_id: str
    type: Literal["standard", "credit_note"]
    status: Literal["draft", "finalized", "void"]
    date: dt.date
    due_date: dt.date | None
    terms_id: str | None
    currency: str | None
    memo: str | None
    subtotal: Decimal
    content_hash: str
    finalized_at: str | None
    voided_at: str | None
    void_reason: str | None
    created_at: str
    updated_at: str
    lines: list[InvoiceLine] = field(default_factory=list)
    discount: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    amounts: Literal["exclusive", "inclusive"] = "exclusive"
    exchange_rate: Decimal | None = None
    home_total: Decimal | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.type == "credit_note"


@dataclass(frozen=True)
class Payment:
    company: str
    id: str
    invoice_id: str
    amount: Decimal
    date: dt.date
    method: str | None
    reference: str | None
    source: Literal["local", "quickbooks"]
    qbo_id: str | None
    qbo_sync_token: str | None
    created_at: str
    updated_at: str
