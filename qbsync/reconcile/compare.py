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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qbsync.money import cents
from qbsync.reconcile import quickbooks_side as qb
from qbsync.reconcile.ledger_side import LedgerDocument, LedgerPayment, LedgerSide

FIELDS = ("total", "tax", "balance", "status", "customer", "currency")
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
        return out


@dataclass
class Report:
    company: str
    rows: list[Row]
    ar_ledger: Decimal
    ar_quickbooks: Decimal

    @property
    def ties(self) -> bool:
        return all(r.outcome == "tied" for r in self.rows) and self.ar_ledger == self.ar_quickbooks

    def summary(self) -> dict[str, Any]:
        count = {o: sum(1 for r in self.rows if r.outcome == o) for o in _OUTCOMES}
        return {
            "compared": sum(count[o] for o in BOTH_SIDES),
            "tied": count["tied"],
            "differing": count["differs"] + count["not_linked"],
            "missing_in_quickbooks": count["lost_in_quickbooks"] + count["not_in_quickbooks"],
            "missing_in_ledger": count["only_in_quickbooks"],
            **{f"outcome_{o}": n for o, n in count.items()},
            "ar_ledger": self.ar_ledger,
            "ar_quickbooks": self.ar_quickbooks,
            "ar_difference": self.ar_ledger - self.ar_quickbooks,
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


def _ledger_values(doc: LedgerDocument) -> dict[str, Any]:
    f = doc.figures
    return {
        "total": f.total,
        "tax": f.tax,
        "balance": f.balance,
        "status": f.status,
        "customer": doc.customer,
        "currency": doc.currency,
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
    }


def _document_row(doc: LedgerDocument, obj: dict[str, Any], home: str, outcome: str) -> Row:
    row = Row(
        kind=KIND[doc.entity],
        outcome=outcome,
        ledger_id=doc.id,
        number=doc.number,
        qbo_id=str(obj["Id"]),
        ledger=_ledger_values(doc),
        quickbooks=_qbo_values(obj, home),
    )
    for name in FIELDS:
        mine, theirs = row.ledger[name], row.quickbooks[name]
        if mine != theirs:
            row.differences.append(name)
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
            ledger=_ledger_values(doc),
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
                ledger=_ledger_values(doc),
                notes=["finalized in the ledger, not in QuickBooks (not exported yet?)"],
            )
        )
    return rows


def _payment_values(pay: LedgerPayment) -> dict[str, Any]:
    return {"total": pay.amount, "customer": pay.customer, "currency": pay.currency}


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
            row.quickbooks = {
                "total": cents(obj.get("TotalAmt")),
                "customer": qb.ref(obj.get("CustomerRef")),
                "currency": qb.currency(obj, home),
            }
            for name in ("total", "customer", "currency"):
                if row.ledger[name] is None and name != "total":
                    continue  # the ledger holds no invoice of it to say
                if row.ledger[name] != row.quickbooks[name]:
                    row.differences.append(name)
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
                quickbooks={
                    "total": cents(obj.get("TotalAmt")),
                    "customer": qb.ref(obj.get("CustomerRef")),
                    "currency": qb.currency(obj, home),
                },
                notes=["recorded in QuickBooks, not in the ledger (not synced yet?)"],
            )
        )
    return rows


def int_or(value: str) -> tuple[int, str]:
    """QuickBooks Ids sort as numbers."""
    return (int(value), "") if value.isdigit() else (0, value)


def receivables(ledger: LedgerSide, quickbooks: qb.QuickBooksSide) -> tuple[Decimal, Decimal]:
    """What customers owe on each side: open invoices less credit not yet used (and, in
    QuickBooks, less payments left unapplied)."""
    mine = Decimal("0.00")
    for doc in ledger.documents:
        sign = -1 if doc.entity == "CreditMemo" else 1
        mine += sign * doc.figures.balance
    theirs = Decimal("0.00")
    for entity, sign in (("Invoice", 1), ("CreditMemo", -1)):
        for obj in quickbooks.objects.get(entity, []):
            theirs += sign * qb.document_figures(obj).balance
    for obj in quickbooks.objects.get("Payment", []):
        theirs -= cents(obj.get("UnappliedAmt"))
    return mine, theirs


def compare(company: str, ledger: LedgerSide, quickbooks: qb.QuickBooksSide) -> Report:
    rows = _documents(ledger, quickbooks) + _payments(ledger, quickbooks)
    ar_ledger, ar_quickbooks = receivables(ledger, quickbooks)
    return Report(company, rows, ar_ledger, ar_quickbooks)
