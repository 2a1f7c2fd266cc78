"""The receivables on both sides of a reconcile: what customers owe, per currency (never
added across currencies), and in the home currency, each document at its own rate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync.money import cents
from qbsync.reconcile import quickbooks_side as qb
from qbsync.reconcile.ledger_side import LedgerSide


@dataclass
class Receivables:
    """What customers owe on each side: per currency (never added across currencies), and in
    the home currency, each document at its own rate (None when a side cannot say: the ledger
    holds no rate for an open document in another currency)."""

    home_currency: str
    by_currency: dict[str, tuple[Decimal, Decimal]]  # currency -> (ledger, QuickBooks)
    home_ledger: Decimal | None
    home_quickbooks: Decimal | None

    @property
    def tie(self) -> bool:
        if any(mine != theirs for mine, theirs in self.by_currency.values()):
            return False
        if self.home_ledger is None or self.home_quickbooks is None:
            return True  # nothing to hold the other side to
        return self.home_ledger == self.home_quickbooks

    def summary(self) -> dict[str, Any]:
        mine, theirs = self.home_ledger, self.home_quickbooks
        return {
            "home_currency": self.home_currency,
            # In the home currency (in a company whose documents are all in it: their sum).
            "ar_ledger": mine,
            "ar_quickbooks": theirs,
            "ar_difference": None if mine is None or theirs is None else mine - theirs,
            "receivables": {
                code: {"ledger": a, "quickbooks": b, "difference": a - b}
                for code, (a, b) in sorted(self.by_currency.items())
            },
        }


class _Sums:
    """Amounts added per currency, and in the home currency while every amount converts."""

    def __init__(self, home: str) -> None:
        self.home = home
        self.by_currency: dict[str, Decimal] = {home: Decimal("0.00")}
        self.in_home: Decimal | None = Decimal("0.00")

    def add(self, currency: str, amount: Decimal, rate: Decimal | None) -> None:
        self.by_currency[currency] = self.by_currency.get(currency, Decimal("0.00")) + amount
        if self.in_home is None or amount == 0:
            return
        if currency == self.home:
            self.in_home += amount
        elif rate is None:
            self.in_home = None  # an open amount at no known rate: the home figure is unknown
        else:
            self.in_home += cents(amount * rate)


def receivables(ledger: LedgerSide, quickbooks: qb.QuickBooksSide) -> Receivables:
    """What customers owe on each side: open invoices less credit not yet used (and, in
    QuickBooks, less payments left unapplied), per currency, and in the home currency (each
    document's balance at its own rate, rounded half-up to the cent)."""
    home = quickbooks.home_currency
    mine = _Sums(home)
    for doc in ledger.documents:
        sign = -1 if doc.entity == "CreditMemo" else 1
        mine.add(doc.currency, sign * doc.figures.balance, doc.figures.exchange_rate)
    theirs = _Sums(home)
    for entity, sign in (("Invoice", 1), ("CreditMemo", -1)):
        for obj in quickbooks.objects.get(entity, []):
            balance = qb.document_figures(obj).balance
            theirs.add(qb.currency(obj, home), sign * balance, qb.exchange_rate(obj))
    for obj in quickbooks.objects.get("Payment", []):
        unapplied = cents(obj.get("UnappliedAmt"))
        theirs.add(qb.currency(obj, home), -unapplied, qb.exchange_rate(obj))
    codes = sorted(set(mine.by_currency) | set(theirs.by_currency))
    zero = Decimal("0.00")
    by_currency = {
        code: (mine.by_currency.get(code, zero), theirs.by_currency.get(code, zero))
        for code in codes
    }
    return Receivables(home, by_currency, mine.in_home, theirs.in_home)
