"""Taking money off a document: the payments and credit applications the ledger counts against
it, read, described and removed, whoever asks (QuickBooks voided or deleted what they came from,
or a person voids the document with `invoices void --unapply`).

A removal returns what it removed (`Reversed`), so that the caller can show it, record it in an
exception, or hand it on: nothing leaves the ledger without being named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qbsync import money as m
from qbsync import outbox
from qbsync.ledger.store import void_invoice
from qbsync.outbox import OpKind, SubjectType
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso

_PAYMENT_COLUMNS = "id, invoice_id, amount, home_amount, date, method, reference, source, qbo_id"
_CREDIT_COLUMNS = "id, credit_note_id, invoice_id, amount, date, qbo_id"


@dataclass
class Reversed:
    """Ledger rows taken off (or about to be): payments and credit applications, each as the
    ledger held it (amounts as decimal text)."""

    payments: list[dict[str, Any]] = field(default_factory=list)
    credits: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.payments or self.credits)

    @property
    def total(self) -> Decimal:
        """Money and credit together."""
        return sum((m.dec(r["amount"]) for r in [*self.payments, *self.credits]), Decimal("0.00"))

    def describe(self, name: dict[str, str] | None = None) -> str:
        """One line: "payment P-1 of 60.00 on invoice 5001; credit CA-1 of 30.00 from
        credit note 2001 on invoice 5001". `name`: ledger id -> the number a person knows it by."""
        name = name or {}
        parts = [
            f"payment {r['id']} of {m.text(m.dec(r['amount']))} on invoice "
            f"{name.get(r['invoice_id'], r['invoice_id'])}"
            for r in self.payments
        ]
        parts += [
            f"credit {r['id']} of {m.text(m.dec(r['amount']))} from credit note "
            f"{name.get(r['credit_note_id'], r['credit_note_id'])} on invoice "
            f"{name.get(r['invoice_id'], r['invoice_id'])}"
            for r in self.credits
        ]
        return "; ".join(parts)

    def as_data(self) -> dict[str, Any]:
        return {"payments": self.payments, "credits": self.credits, "total": m.text(self.total)}


def numbers(db: Database, company: str, rows: Reversed) -> dict[str, str]:
    """Ledger id -> the number a person knows it by, for the documents `rows` names."""
    ids = {r["invoice_id"] for r in [*rows.payments, *rows.credits]}
    ids |= {r["credit_note_id"] for r in rows.credits}
    out = {}
    for doc_id in ids:
        row = db.execute(
            "SELECT number FROM ledger_invoices WHERE company = ? AND id = ?", [company, doc_id]
        ).fetchone()
        out[doc_id] = str(row[0]) if row else doc_id
    return out


def _rows(db: Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def on_document(db: Database, company: str, doc_id: str) -> Reversed:
    """What the ledger counts against an invoice (its payments, the credit applied to it) or a
    credit note (the credit applied from it)."""
    return Reversed(
        _rows(
            db,
            f"SELECT {_PAYMENT_COLUMNS} FROM ledger_payments WHERE company = ? AND invoice_id = ? "
            "ORDER BY id",
            [company, doc_id],
        ),
        _rows(
            db,
            f"SELECT {_CREDIT_COLUMNS} FROM ledger_credit_applications WHERE company = ? AND "
            "(invoice_id = ? OR credit_note_id = ?) ORDER BY id",
            [company, doc_id, doc_id],
        ),
    )


def from_credit_note(db: Database, company: str, credit_note_id: str) -> Reversed:
    """The credit a credit note has applied to invoices."""
    return Reversed(
        [],
        _rows(
            db,
            f"SELECT {_CREDIT_COLUMNS} FROM ledger_credit_applications WHERE company = ? AND "
            "credit_note_id = ? ORDER BY id",
            [company, credit_note_id],
        ),
    )


def of_qbo_payment(
    db: Database, company: str, qbo_id: str, credit_ids: list[str] | None = None
) -> Reversed:
    """What a QuickBooks Payment settles in the ledger: its rows (recorded from QuickBooks, or a
    local payment pushed as it), the credit it moved, and the ledger's own credit applications
    pushed as it (`credit_ids`)."""
    ids = list(credit_ids or [])
    marks = ", ".join("?" for _ in ids) or "NULL"
    return Reversed(
        _rows(
            db,
            f"SELECT {_PAYMENT_COLUMNS} FROM ledger_payments WHERE company = ? AND qbo_id = ? "
            "ORDER BY id",
            [company, qbo_id],
        ),
        _rows(
            db,
            f"SELECT {_CREDIT_COLUMNS} FROM ledger_credit_applications WHERE company = ? AND "
            f"(qbo_id = ? OR id IN ({marks})) ORDER BY id",
            [company, qbo_id, *ids],
        ),
    )


def less(before: Reversed, after: Reversed) -> Reversed:
    """What `before` held that `after` no longer does: rows gone, and the part of a row whose
    amount went down (by id)."""

    def gone(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
        now = {r["id"]: m.dec(r["amount"]) for r in new}
        out = []
        for row in old:
            cut = m.dec(row["amount"]) - now.get(row["id"], Decimal(0))
            if m.cents(cut) > 0:
                out.append({**row, "amount": m.text(m.cents(cut))})
        return out

    return Reversed(gone(before.payments, after.payments), gone(before.credits, after.credits))


def remove(db: Database, company: str, rows: Reversed, reason: str) -> None:
    """Take these rows out of the ledger (in the caller's transaction, or one of their own); a
    push of one of them that has not gone yet is cancelled with it. Each id is remembered with
    `reason`, so that an import listing it again does not take it back."""
    now = utc_now_iso()
    with transaction(db):
        for kind, table, subject, taken in (
            ("payment", "ledger_payments", SubjectType.PAYMENT, rows.payments),
            (
                "credit_application",
                "ledger_credit_applications",
                SubjectType.CREDIT_APPLICATION,
                rows.credits,
            ),
        ):
            for row in taken:
                db.execute(
                    f"DELETE FROM {table} WHERE company = ? AND id = ?", [company, row["id"]]
                )
                outbox.cancel_waiting(db, company, subject, row["id"])
                db.execute(
                    "INSERT OR REPLACE INTO ledger_reversed (company, kind, id, reason, "
                    "reversed_at) VALUES (?, ?, ?, ?, ?)",
                    [company, kind, row["id"], reason, now],
                )


def void_unapplying(db: Database, company: str, invoice_id: str, reason: str | None) -> Reversed:
    """Void a document that has money against it: first take off its payments and the credit
    applied to it (or, for a credit note, the credit applied from it), then void it, all in one
    transaction; the void's reason keeps what was taken off. Returns what was taken off.
    QuickBooks hears of the void as from any other (a payment already pushed stays there, as
    the customer's credit once the invoice is void); a credit application of the ledger's own
    is deleted there first (its zero Payment), so that the credit is back on its memo."""
    with transaction(db):
        taken = on_document(db, company, invoice_id)
        doc = db.execute(
            "SELECT status FROM ledger_invoices WHERE company = ? AND id = ?",
            [company, invoice_id],
        ).fetchone()
        if doc is not None and doc[0] != "void":
            remove(db, company, taken, f"unapplied when {invoice_id} was voided")
            for row in taken.credits:
                if row["qbo_id"] is None:  # the ledger's own: QuickBooks holds it if pushed
                    outbox.enqueue(
                        db,
                        company,
                        OpKind.UNAPPLY_CREDIT,
                        SubjectType.CREDIT_APPLICATION,
                        row["id"],
                    )
        else:
            taken = Reversed()
        if taken:
            # Kept with the void: what it took off, as the command showed it.
            note = f"unapplied first: {taken.describe(numbers(db, company, taken))}"
            reason = f"{reason}; {note}" if reason else note
        void_invoice(db, company, invoice_id, reason)
    return taken
