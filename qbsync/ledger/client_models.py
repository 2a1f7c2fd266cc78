"""The client record of an import file: contact details, addresses (nested, or as CSV columns
`bill_line1`, `ship_city`, ...), terms, tax region and exemption, and a parent client (a
sub-customer, or job, in QuickBooks)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qbsync.ledger.addresses import ADDRESS_FIELDS, ADDRESS_KINDS
from qbsync.ledger.fields import (
    Currency,
    Id,
    Name,
    OptId,
    _blank_is_none,
    _email,
    _ident,
    _one_line,
    _Record,
    _strip,
)

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
