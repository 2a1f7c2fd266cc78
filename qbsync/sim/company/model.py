"""What a simulated company is made of: QBO's entity names, the fields the server owns, and
the small value helpers that every part of the company uses.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from qbsync.sim.faults import QBOError
from qbsync.sim.values import to_decimal

NAME_LISTS = (
    "Customer",
    "Vendor",
    "Employee",
    "Item",
    "Account",
    "TaxCode",
    "TaxRate",
    "Term",
    "Class",
    "Department",
    "PaymentMethod",
)
TXNS = ("Invoice", "CreditMemo", "Payment")
SINGLETONS = ("CompanyInfo", "Preferences")
ENTITIES = NAME_LISTS + TXNS + SINGLETONS
BY_LOWER = {e.lower(): e for e in ENTITIES}
READ_ONLY_LISTS = ("TaxCode", "TaxRate")
PEOPLE = ("Customer", "Vendor", "Employee")

# Sent by clients, owned by the server.
SERVER_FIELDS = {"Id", "SyncToken", "MetaData", "domain", "sparse", "time", "status"}
TXN_COMPUTED = {
    "TotalAmt",
    "Balance",
    "HomeBalance",
    "HomeTotalAmt",
    "LinkedTxn",
    "RemainingCredit",
    "UnappliedAmt",
}
ACCOUNT_CLASSES = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
}
DEPOSIT_TYPES = {"Bank", "Other Current Asset"}
ITEM_TYPES = {"Service", "NonInventory", "Inventory", "Group", "Category"}
USD = {"value": "USD", "name": "United States Dollar"}
ZERO = Decimal("0")


def dec(value: Any, default: Decimal = ZERO) -> Decimal:
    v = to_decimal(value)
    return default if v is None else v


def ref_id(ref: Any) -> str | None:
    if isinstance(ref, dict):
        v = ref.get("value")
        return None if v in (None, "") else str(v)
    if isinstance(ref, (str, int)) and ref != "":
        return str(ref)
    return None


def blank(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {}


def deep_merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = v


def check_len(obj: dict[str, Any], field: str, maximum: int) -> None:
    v = obj.get(field)
    if isinstance(v, str) and len(v) > maximum:
        raise QBOError("2050", element=field, max=maximum, length=len(v))


def date_field(obj: dict[str, Any], field: str, default: date | None) -> date | None:
    """Normalise a date field to YYYY-MM-DD; a blank one takes `default` (or goes, if None)."""
    v = obj.get(field)
    if blank(v):
        if default is None:
            obj.pop(field, None)
            return None
        obj[field] = default.isoformat()
        return default
    try:
        d = date.fromisoformat(str(v)[:10])
    except ValueError:
        raise QBOError("2010", element=field, detail=f"Invalid date {v!r} for {field}") from None
    obj[field] = d.isoformat()
    return d
