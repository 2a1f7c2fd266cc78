"""The ledger's records: pydantic models for what an import file holds (field-level validation),
and plain dataclasses for what the store hands back (Decimals, no float anywhere).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qbsync import money as m
from qbsync.ledger.balances import InvoiceStatus as InvoiceStatus
from qbsync.ledger.changes import KINDS as KINDS
from qbsync.ledger.client_models import ADDRESS_FIELDS as ADDRESS_FIELDS
from qbsync.ledger.client_models import AddressIn as AddressIn
from qbsync.ledger.client_models import ClientIn as ClientIn
from qbsync.ledger.fields import Currency as Currency
from qbsync.ledger.fields import (
    Date,
    Id,
    Memo,
    Money,
    Name,
    OptDate,
    OptId,
    OptText,
    PositiveMoney,
    Quantity,
    UnitPrice,
    _blank_is_none,
    _ident,
    _one_line,
    _positive,
    _Record,
    _whole,
)


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
