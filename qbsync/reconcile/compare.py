"""The comparison: each ledger document and payment against the QuickBooks object it is linked
to, field by field to the cent; what only one side holds; the receivables on both sides.

Outcomes of a row:
- `tied`: both sides hold it, and every compared field agrees;
- `differs`: both sides hold it, and `differences` names the fields that do not agree;
- `not_linked`: a QuickBooks document with the number of a ledger document not linked to it;
- `only_in_quickbooks`: QuickBooks holds it, qbsync does not know it (not linked, no number
  match, never seen);
- `lost_in_quickbooks`: linked, but QuickBooks no longer holds it (deleted there);
- `not_in_quickbooks`: the ledger holds it, it never reached QuickBooks.

A document in another currency than the home one is also held to what it comes to in the home
currency (`home_total`), and a payment to its home amount, wherever the ledger holds that
figure: the two books can agree on 1008.80 EUR and still book it at different rates.

Receivables are given per currency, never added across currencies; the home-currency figure
converts each open document at its own rate, and is known only when every side can say it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qbsync.money import cents
from qbsync.reconcile import quickbooks_side as qb
from qbsync.reconcile.ledger_side import LedgerDocument, LedgerPayment, LedgerSide
from qbsync.reconcile.receivables import Receivables, receivables

FIELDS = ("total", "tax", "balance", "status", "customer", "currency")
# Compared where the ledger holds the figure; their columns come after `note` (added later).
HOME_FIELDS = ("home_total",)
KIND = {"Invoice": "invoice", "CreditMemo": "credit_memo", "Payment": "payment"}
BOTH_SIDES = ("tied", "differs", "not_linked")


@dataclass
class Row:
    kind: str
    outcome: str
    ledger_id: str | None = None
    number: str | None = None
    qbo_id: str | None = None
    differences: list[str] = field(default_factory=list)
    ledger: dict[str, Any] = field(default_factory=dict)
    quickbooks: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "outcome": self.outcome,
            "ledger_id": self.ledger_id,
            "number": self.number,
            "qbo_id": self.qbo_id,
            "differences": list(self.differences),
        }
        for name in FIELDS:
            out[f"ledger_{name}"] = self.ledger.get(name)
            out[f"qbo_{name}"] = self.quickbooks.get(name)
        out["note"] = "; ".join(self.notes) or None
        for name in HOME_FIELDS:
            out[f"ledger_{name}"] = self.ledger.get(name)
            out[f"qbo_{name}"] = self.quickbooks.get(name)
        return out


@dataclass
class Report:
    company: str
    rows: list[Row]
    receivables: Receivables

    @property
    def ties(self) -> bool:
        return all(r.outcome == "tied" for r in self.rows) and self.receivables.tie

    def summary(self) -> dict[str, Any]:
        count = {o: sum(1 for r in self.rows if r.outcome == o) for o in _OUTCOMES}
        return {
            "compared": sum(count[o] for o in BOTH_SIDES),
            "tied": count["tied"],
            "differing": count["differs"] + count["not_linked"],
            "missing_in_quickbooks": count["lost_in_quickbooks"] + count["not_in_quickbooks"],
            "missing_in_ledger": count["only_in_quickbooks"],
            **{f"outcome_{o}": n for o, n in count.items()},
            **self.receivables.summary(),
            "ties": self.ties,
        }


_OUTCOMES = (
    "tied",
    "differs",
    "not_linked",
    "only_in_quickbooks",
    "lost_in_quickbooks",
    "not_in_quickbooks",
)


def _ledger_values(doc: LedgerDocument, home: str) -> dict[str, Any]:
    f = doc.figures
    return {
        "total": f.total,
        "tax": f.tax,
        "balance": f.balance,
        "status": f.status,
        "customer": doc.customer,
        "currency": doc.currency,
        "home_total": None if doc.currency == home else f.home_total,
    }


def _qbo_values(obj: dict[str, Any], home: str) -> dict[str, Any]:
    f = qb.document_figures(obj)
    return {
        "total": f.total,
        "tax": f.tax,
        "balance": f.balance,
        "status": f.status,
        "customer": qb.ref(obj.get("CustomerRef")),
        "currency": qb.currency(obj, home),
        "home_total": None if f.status == "void" else qb.home_total(obj, home),
    }


def _rate_text(rate: Decimal | None) -> str:
    return "no rate" if rate is None else f"{rate.normalize():f}"


def _home_differs(
    row: Row, what: str, ledger_rate: Decimal | None, qbo_rate: Decimal | None
) -> None:
    """The home-currency figure, where the ledger holds one and QuickBooks can say it: a
    difference is named with both figures and the rates behind them."""
    mine, theirs = row.ledger.get("home_total"), row.quickbooks.get("home_total")
    if mine is None or theirs is None or mine == theirs:
        return
    row.differences.append("home_total")
    at = f" ({row.ledger['total']} at {_rate_text(ledger_rate)})" if ledger_rate else ""
    row.notes.append(
        f"{what} {mine} in the ledger{at}, {theirs} in QuickBooks "
        f"({row.quickbooks['total']} at {_rate_text(qbo_rate)})"
    )


def _document_row(doc: LedgerDocument, obj: dict[str, Any], home: str, outcome: str) -> Row:
    row = Row(
        kind=KIND[doc.entity],
        outcome=outcome,
        ledger_id=doc.id,
        number=doc.number,
        qbo_id=str(obj["Id"]),
        ledger=_ledger_values(doc, home),
        quickbooks=_qbo_values(obj, home),
    )
    for name in FIELDS:
        mine, theirs = row.ledger[name], row.quickbooks[name]
        if mine != theirs:
            row.differences.append(name)
    _home_differs(row, "home total", doc.figures.exchange_rate, qb.exchange_rate(obj))
    if outcome == "tied" and row.differences:
        row.outcome = "differs"
    if outcome == "not_linked":
        row.notes.append("same number in QuickBooks, not linked to the ledger's document")
    return row


def _documents(ledger: LedgerSide, quickbooks: qb.QuickBooksSide) -> list[Row]:
    """A row for every document either side holds."""
    home = quickbooks.home_currency
    by_id = {
        (entity, str(obj["Id"])): obj
        for entity in ("Invoice", "CreditMemo")
        for obj in quickbooks.objects.get(entity, [])
    }
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    unlinked: dict[tuple[str, str], LedgerDocument] = {}
    for doc in ledger.documents:
        link = doc.link
        if link is None:
            unlinked[(doc.entity, doc.number)] = doc
            continue
        key = (link.qbo_entity, link.qbo_id)
        obj = by_id.get(key)
        if obj is not None:
            seen.add(key)
            rows.append(_document_row(doc, obj, home, "tied"))
            continue
        row = Row(
            kind=KIND[doc.entity],
            outcome="lost_in_quickbooks",
            ledger_id=doc.id,
            number=doc.number,
            qbo_id=link.qbo_id,
            ledger=_ledger_values(doc, home),
        )
        if doc.figures.status == "void":
            row.outcome = "tied"
            row.notes.append("void in the ledger, no longer in QuickBooks")
        else:
            row.notes.append("linked, but QuickBooks no longer holds it (deleted there)")
        rows.append(row)
    for (entity, qbo_id), obj in sorted(by_id.items(), key=lambda kv: (kv[0][0], int_or(kv[0][1]))):
        if (entity, qbo_id) in seen:
            continue
        match = unlinked.pop((entity, str(obj.get("DocNumber") or "")), None)
        if match is not None and match.figures.status != "void":
            rows.append(_document_row(match, obj, home, "not_linked"))
            continue
        rows.append(
            Row(
                kind=KIND[entity],
                outcome="only_in_quickbooks",
                number=obj.get("DocNumber"),
                qbo_id=qbo_id,
                quickbooks=_qbo_values(obj, home),
                notes=["QuickBooks holds it; qbsync does not know it (keyed there by hand?)"],
            )
        )
    for doc in unlinked.values():
        if doc.figures.status == "void":
            continue
        rows.append(
            Row(
                kind=KIND[doc.entity],
                outcome="not_in_quickbooks",
                ledger_id=doc.id,
                number=doc.number,
                ledger=_ledger_values(doc, home),
                notes=["finalized in the ledger, not in QuickBooks (not exported yet?)"],
            )
        )
    return rows


def _payment_values(pay: LedgerPayment) -> dict[str, Any]:
    return {
        "total": pay.amount,
        "customer": pay.customer,
        "currency": pay.currency,
        "home_total": pay.home_amount,
    }


def _qbo_payment_values(
    obj: dict[str, Any], home: str, pay: LedgerPayment | None = None
) -> dict[str, Any]:
    """A QuickBooks payment's amount, customer and currency, and what it came to in the home
    currency: `TotalAmt` x `ExchangeRate` to the cent (no rate: a company in one currency, where
    it is the amount). For a payment QuickBooks recorded over several invoices, the ledger keeps
    each invoice's part at that rate, each rounded to the cent: QuickBooks' rate is held to the
    same lines, so that rounding per line is not taken for a difference."""
    total = cents(obj.get("TotalAmt"))
    cur = qb.currency(obj, home)
    values: dict[str, Any] = {
        "total": total,
        "customer": qb.ref(obj.get("CustomerRef")),
        "currency": cur,
        "home_total": None,
    }
    wanted = pay is not None and pay.home_amount is not None
    if cur == home and not wanted:
        return values
    rate = qb.exchange_rate(obj)
    if rate is None:
        rate = Decimal(1) if cur == home else None
    if rate is None:
        return values
    if pay is not None and pay.kind == "quickbooks" and len(pay.lines) > 1:
        values["home_total"] = sum((cents(line * rate) for line in pay.lines), Decimal("0.00"))
    else:
        values["home_total"] = cents(total * rate)
    return values


def _payments(ledger: LedgerSide, quickbooks: qb.QuickBooksSide) -> list[Row]:
    home = quickbooks.home_currency
    by_id = {str(obj["Id"]): obj for obj in quickbooks.objects.get("Payment", [])}
    rows: list[Row] = []
    accounted: set[str] = set()
    for pay in ledger.payments:
        row = Row(kind="payment", outcome="tied", ledger_id=pay.id, ledger=_payment_values(pay))
        if pay.kind == "credit_application":
            row.kind = "credit_application"
        row.qbo_id = pay.qbo_id
        obj = by_id.get(pay.qbo_id) if pay.qbo_id else None
        if pay.qbo_id is None:
            row.outcome = "not_in_quickbooks"
            row.notes.append("recorded in the ledger, not in QuickBooks (not pushed yet?)")
        elif obj is None:
            row.outcome = "lost_in_quickbooks"
            row.notes.append("QuickBooks no longer holds it (deleted there)")
        else:
            accounted.add(pay.qbo_id)
            row.number = obj.get("PaymentRefNum")
            row.quickbooks = _qbo_payment_values(obj, home, pay)
            for name in ("total", "customer", "currency"):
                if row.ledger[name] is None and name != "total":
                    continue  # the ledger holds no invoice of it to say
                if row.ledger[name] != row.quickbooks[name]:
                    row.differences.append(name)
            _home_differs(row, "home amount", None, qb.exchange_rate(obj) or Decimal(1))
            if row.differences:
                row.outcome = "differs"
            if pay.state in ("waiting", "rejected"):
                row.notes.append(f"held by the sync engine ({pay.state}); see `exceptions list`")
        rows.append(row)
    for qbo_id, obj in sorted(by_id.items(), key=lambda kv: int_or(kv[0])):
        if qbo_id in accounted:
            continue
        rows.append(
            Row(
                kind="payment",
                outcome="only_in_quickbooks",
                number=obj.get("PaymentRefNum"),
                qbo_id=qbo_id,
                quickbooks=_qbo_payment_values(obj, home),
                notes=["recorded in QuickBooks, not in the ledger (not synced yet?)"],
            )
        )
    return rows


def int_or(value: str) -> tuple[int, str]:
    """QuickBooks Ids sort as numbers."""
    return (int(value), "") if value.isdigit() else (0, value)


def compare(company: str, ledger: LedgerSide, quickbooks: qb.QuickBooksSide) -> Report:
    rows = _documents(ledger, quickbooks) + _payments(ledger, quickbooks)
    return Report(company, rows, receivables(ledger, quickbooks))
