"""QuickBooks' side of a reconciliation: every invoice, credit memo and payment of the company,
read by paged queries (reads only), with the figures the ledger is held to."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync.money import cents, dec
from qbsync.qbo.client import QboClient

ENTITIES = ("Invoice", "CreditMemo", "Payment")


@dataclass(frozen=True)
class QboFigures:
    total: Decimal
    tax: Decimal
    balance: Decimal
    status: str  # open, partially_paid, paid, void


@dataclass
class QuickBooksSide:
    home_currency: str
    objects: dict[str, list[dict[str, Any]]]  # entity -> every object QuickBooks holds


async def read(client: QboClient, page_size: int = 1000) -> QuickBooksSide:
    """The home currency and every invoice, credit memo and payment, page after page."""
    prefs = await client.preferences()
    home = ((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value") or "USD"
    objects = {
        entity: await client.query_all(entity, order_by="Id", page_size=page_size)
        for entity in ENTITIES
    }
    return QuickBooksSide(str(home), objects)


def _is_void(doc: dict[str, Any]) -> bool:
    """A voided document keeps its lines with every amount at zero and a zero total."""
    lines = [
        line for line in doc.get("Line") or [] if line.get("DetailType") != "SubTotalLineDetail"
    ]
    return (
        bool(lines)
        and dec(doc.get("TotalAmt")) == 0
        and all(dec(line.get("Amount")) == 0 for line in lines)
    )


def status_of(total: Decimal, balance: Decimal) -> str:
    """The status a document has from its total and what is left open of it (the ledger's
    words: open, partially_paid, paid)."""
    if balance == total:
        return "open"
    if balance <= 0:
        return "paid"
    return "partially_paid"


def document_figures(doc: dict[str, Any]) -> QboFigures:
    """Total, tax, balance (for a credit memo: the credit not yet used) and status."""
    total = cents(doc.get("TotalAmt"))
    tax = cents((doc.get("TxnTaxDetail") or {}).get("TotalTax"))
    if "RemainingCredit" in doc:
        balance = cents(doc.get("RemainingCredit"))
    else:
        balance = cents(doc.get("Balance"))
    if _is_void(doc):
        return QboFigures(total, tax, balance, "void")
    return QboFigures(total, tax, balance, status_of(total, balance))


def ref(value: Any) -> str | None:
    return str(value["value"]) if isinstance(value, dict) and value.get("value") else None


def currency(doc: dict[str, Any], home: str) -> str:
    return ref(doc.get("CurrencyRef")) or home


def exchange_rate(obj: dict[str, Any]) -> Decimal | None:
    """Home-currency units per unit of the object's currency, as QuickBooks books it (None when
    it holds none: a company in one currency)."""
    rate = obj.get("ExchangeRate")
    return None if rate in (None, "") else dec(rate)


def in_home(amount: Decimal, obj: dict[str, Any], home: str) -> Decimal | None:
    """An amount of the object's, in the home currency: as it is in the home currency, else at
    the object's ExchangeRate rounded half-up to the cent (None when it carries no rate)."""
    if currency(obj, home) == home:
        return amount
    rate = exchange_rate(obj)
    return None if rate is None else cents(amount * rate)


def home_total(doc: dict[str, Any], home: str) -> Decimal | None:
    """What a document in another currency comes to in the home currency: `HomeTotalAmt` when
    QuickBooks gives it, else `TotalAmt` x `ExchangeRate` to the cent. None for a document in
    the home currency (nothing to convert)."""
    if currency(doc, home) == home:
        return None
    if doc.get("HomeTotalAmt") not in (None, ""):
        return cents(doc["HomeTotalAmt"])
    return in_home(cents(doc.get("TotalAmt")), doc, home)
