"""The mapping kinds: what each maps, which QuickBooks list names resolve against, and what a
by-id mapping may hold without asking QuickBooks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qbsync.errors import InputError


@dataclass(frozen=True)
class Kind:
    name: str
    what: str  # for messages: "service", "tax region", ...
    entity: str  # the QuickBooks entity names resolve against
    local_ids: tuple[str, ...] = ()  # a closed set of local ids (accounts, defaults)
    pseudo_ids: tuple[str, ...] = ()  # ids valid as they are (US tax codes TAX and NON)
    ledger_table: str | None = None  # where the local ids come from, when from the ledger


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("items", "service", "Item", ledger_table="ledger_services"),
        Kind(
            "tax_codes",
            "tax region",
            "TaxCode",
            pseudo_ids=("TAX", "NON"),
            ledger_table="ledger_tax_regions",
        ),
        Kind("terms", "payment terms", "Term", ledger_table="ledger_terms"),
        Kind("customers", "client", "Customer", ledger_table="ledger_clients"),
        Kind("payment_methods", "payment method", "PaymentMethod"),
        Kind("accounts", "account", "Account", local_ids=("deposit", "discount")),
        Kind("defaults", "default", "Class", local_ids=("class", "department")),
    )
}
KIND_ORDER = tuple(KINDS)

# The deposit account must be one QuickBooks can deposit into.
DEPOSIT_ACCOUNT_TYPES = ("Bank", "Other Current Asset")
# The discount account (DiscountLineDetail.DiscountAccountRef) must be an income or expense
# account: QuickBooks' own default is an Income account of sub-type DiscountsRefundsGiven.
DISCOUNT_ACCOUNT_TYPES = ("Income", "Other Income", "Expense", "Other Expense")
# Items that cannot stand on an invoice line.
UNUSABLE_ITEM_TYPES = ("Category",)

_QBO_ID = re.compile(r"^[0-9]{1,20}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InputError(
            f"unknown mapping kind {name!r} (kinds: {', '.join(KIND_ORDER)})"
        ) from None


def entity_for(kind_name: str, local_id: str) -> str:
    """The QuickBooks entity a mapping's name resolves against."""
    if kind_name == "defaults":
        return "Class" if local_id == "class" else "Department"
    return KINDS[kind_name].entity


def check_local_id(kind_name: str, local_id: object) -> str:
    """A local id as the kind allows it; ValueError says why not."""
    if not isinstance(local_id, str) or not local_id.strip():
        raise ValueError("a local id must be non-empty text")
    local_id = local_id.strip()
    if len(local_id) > 100 or _CONTROL.search(local_id):
        raise ValueError("a local id is at most 100 characters, without control characters")
    allowed = KINDS[kind_name].local_ids
    if allowed and local_id not in allowed:
        raise ValueError(f"{kind_name} maps only {', '.join(allowed)}, not {local_id!r}")
    return local_id


def check_qbo_id(kind_name: str, value: object) -> str:
    """A QuickBooks id as written: digits (QuickBooks ids are numeric strings), or for tax
    codes the US pseudo-codes TAX and NON. No lookup: this works without a connection."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('expected a QuickBooks id (text such as "12")')
    text = str(value).strip()
    spec = KINDS[kind_name]
    if text.upper() in spec.pseudo_ids:
        return text.upper()
    if not _QBO_ID.match(text):
        extra = f" or {' / '.join(spec.pseudo_ids)}" if spec.pseudo_ids else ""
        raise ValueError(
            f"{text!r} is not a QuickBooks id (digits{extra}); to map by name use qbo_name"
        )
    return text


def looks_like_id(kind_name: str, value: str) -> bool:
    try:
        check_qbo_id(kind_name, value)
    except ValueError:
        return False
    return True
