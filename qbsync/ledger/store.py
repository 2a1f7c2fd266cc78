"""Ledger writes and reads. Every change that QuickBooks must hear about queues its outbound op
in the same transaction (DESIGN.md rule 2): finalizing, voiding, a local payment, a credit
application.

Used by `qbsync ledger import`, the payment and invoice commands, and the sync engine.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from qbsync.errors import InputError, NotFoundError
from qbsync.ledger.balances import amount_due as amount_due
from qbsync.ledger.balances import balance_of as balance_of
from qbsync.ledger.balances import invoice_balance as invoice_balance
from qbsync.ledger.balances import invoice_status as invoice_status
from qbsync.ledger.balances import settled as settled
from qbsync.ledger.balances import status_of as status_of
from qbsync.ledger.content import content_hash, rows_content
from qbsync.ledger.queries import LIST_TABLES, invoice_lines
from qbsync.ledger.rules import (
    Document,
    NoPayment,
    only_finalized_takes_payments,
    payment_refusal,
    payment_row,
    replay,
    void_op,
    void_refusal,
)
from qbsync.outbox import OpKind, SubjectType, enqueue, enqueue_many
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso

if TYPE_CHECKING:  # the ledger's models load pydantic: only the functions that build them do
    from qbsync.ledger.changes import Plan, Rows
    from qbsync.ledger.models import Invoice, Payment


def _upsert(db: Database, table: str, company: str, row: dict[str, Any], now: str) -> None:
    columns = ["company", *row]
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "id")
    db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}, created_at, updated_at) "
        f"VALUES ({', '.join('?' for _ in columns)}, ?, ?) "
        f"ON CONFLICT (company, id) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
        [company, *row.values(), now, now],
    )


def apply_plan(db: Database, plan: Plan) -> None:
    """Write a validated import plan (or one chunk of it) and queue its ops, in one
    transaction: rows of a kind go in one executemany each."""
    company = plan.company
    now = utc_now_iso()
    with transaction(db):
        for kind, table in LIST_TABLES.items():
            for row in plan.kinds[kind].added + plan.kinds[kind].updated:
                _upsert(db, table, company, row, now)
        invoices = plan.kinds["invoices"]
        for row in (*invoices.added, *invoices.updated):
            if row["id"] in plan.lines:  # the content written: its hash is the one stored
                row["content_hash"] = _written_hash(
                    row, plan.lines[row["id"]], plan.discounts[row["id"]]
                )
        columns = ", ".join(_INVOICE_COLUMNS)
        marks = ", ".join("?" for _ in _INVOICE_COLUMNS)
        db.conn.executemany(
            f"INSERT INTO ledger_invoices (company, {columns}, finalized_at, voided_at, "
            f"created_at, updated_at) VALUES (?, {marks}, ?, ?, ?, ?)",
            [
                (
                    company,
                    *_invoice_values(row),
                    now if row["status"] == "finalized" else None,
                    now if row["status"] == "void" else None,
                    now,
                    now,
                )
                for row in invoices.added
            ],
        )
        sets = ", ".join(f"{c} = ?" for c in _INVOICE_COLUMNS[1:])
        db.conn.executemany(
            f"UPDATE ledger_invoices SET {sets}, "
            "finalized_at = CASE WHEN ? = 'finalized' THEN ? ELSE finalized_at END, "
            "voided_at = CASE WHEN ? = 'void' THEN ? ELSE voided_at END, updated_at = ? "
            "WHERE company = ? AND id = ?",
            [
                (
                    *_invoice_values(row)[1:],
                    row["status"],
                    now,
                    row["status"],
                    now,
                    now,
                    company,
                    row["id"],
                )
                for row in invoices.updated
            ],
        )
        # A new invoice has no rows to replace; an updated one whose rows were planned has.
        added = {row["id"] for row in invoices.added}
        replaced = [[company, iid] for iid in plan.lines if iid not in added]
        for table, names, by_invoice in (
            ("ledger_invoice_lines", LINE_COLUMNS, plan.lines),
            ("ledger_invoice_discounts", DISCOUNT_COLUMNS, plan.discounts),
            ("ledger_invoice_taxes", TAX_COLUMNS, plan.taxes),
        ):
            db.conn.executemany(
                f"DELETE FROM {table} WHERE company = ? AND invoice_id = ?", replaced
            )
            db.conn.executemany(
                f"INSERT INTO {table} (company, {', '.join(names)}) "
                f"VALUES (?, {', '.join('?' for _ in names)})",
                [row for rows in by_invoice.values() for row in rows],
            )
        for row in plan.kinds["payments"].added:
            _insert_payment(db, company, row, now)
        for row in plan.kinds["credit_applications"].added:
            db.execute(
                "INSERT INTO ledger_credit_applications (company, id, credit_note_id, "
                "invoice_id, amount, date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [company, *row.values(), now],
            )
        enqueue_many(db, company, plan.ops)


_INVOICE_COLUMNS = (
    "id",
    "number",
    "client_id",
    "type",
    "status",
    "date",
    "due_date",
    "terms_id",
    "currency",
    "memo",
    "subtotal",
    "content_hash",
    "discount",
    "tax",
    "total",
    "amounts",
    "tax_total",
    "exchange_rate",
    "home_total",
)
_invoice_values = operator.itemgetter(*_INVOICE_COLUMNS)  # a planned row's values, in order

# The columns of an invoice's rows, in the order rows.invoice_rows gives their values (after
# the company).
LINE_COLUMNS = (
    "invoice_id",
    "line_no",
    "service_id",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "tax_region_id",
    "service_date",
    "tax_amount",
    "discount",
    "tax",
    "total",
)
DISCOUNT_COLUMNS = (
    "invoice_id",
    "line_no",
    "description",
    "amount",
    "percent",
    "taxable",
    "discount",
)
TAX_COLUMNS = ("invoice_id", "tax_region_id", "name", "rate", "base", "amount")


_LINE_KEYS = ("company", *LINE_COLUMNS)
_DISCOUNT_KEYS = ("company", *DISCOUNT_COLUMNS)


def _written_hash(row: dict[str, Any], lines: Rows, discounts: Rows) -> str:
    """The content hash of an invoice as its planned rows hold it (content.py)."""
    return content_hash(
        rows_content(
            row,
            [dict(zip(_LINE_KEYS, line, strict=True)) for line in lines],
            [dict(zip(_DISCOUNT_KEYS, line, strict=True)) for line in discounts],
        )
    )


def _insert_payment(db: Database, company: str, row: dict[str, Any], now: str) -> None:
    db.execute(
        "INSERT INTO ledger_payments (company, id, invoice_id, amount, date, method, reference, "
        "home_amount, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'local', ?, ?)",
        [
            company,
            row["id"],
            row["invoice_id"],
            row["amount"],
            row["date"],
            row["method"],
            row["reference"],
            row["home_amount"],
            now,
            now,
        ],
    )


# Reads ---------------------------------------------------------------------------------------


def _one(db: Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _document(db: Database, company: str, id: str) -> Document | None:
    """What the rules need of an invoice or credit note, or None when there is none."""
    row = _one(
        db,
        "SELECT type, status, client_id FROM ledger_invoices WHERE company = ? AND id = ?",
        [company, id],
    )
    return Document(row["type"], row["status"], row["client_id"]) if row else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def get_invoice(db: Database, company: str, id: str) -> Invoice:
    """An invoice or credit note with its lines; NotFoundError when there is none."""
    from qbsync.ledger.models import Invoice, InvoiceLine

    row = _one(db, "SELECT * FROM ledger_invoices WHERE company = ? AND id = ?", [company, id])
    if row is None:
        raise NotFoundError(f"no invoice {id!r} in the ledger of {company}")
    lines = [
        InvoiceLine(
            line_no=r["line_no"],
            service_id=r["service_id"],
            description=r["description"],
            quantity=Decimal(r["quantity"]),
            unit_price=Decimal(r["unit_price"]),
            amount=Decimal(r["amount"]),
            tax_region_id=r["tax_region_id"],
            service_date=_date(r["service_date"]),
            discount=Decimal(r["discount"]),
            tax=Decimal(r["tax"]),
            total=Decimal(r["total"]),
        )
        for r in invoice_lines(db, company, id)
    ]
    return Invoice(
        company=company,
        id=row["id"],
        number=row["number"],
        client_id=row["client_id"],
        type=row["type"],
        status=row["status"],
        date=dt.date.fromisoformat(row["date"]),
        due_date=_date(row["due_date"]),
        terms_id=row["terms_id"],
        currency=row["currency"],
        memo=row["memo"],
        subtotal=Decimal(row["subtotal"]),
        content_hash=row["content_hash"],
        finalized_at=row["finalized_at"],
        voided_at=row["voided_at"],
        void_reason=row["void_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=lines,
        discount=Decimal(row["discount"]),
        tax=Decimal(row["tax"]),
        total=Decimal(row["total"]),
        amounts=row["amounts"],
        exchange_rate=_opt_decimal(row["exchange_rate"]),
        home_total=_opt_decimal(row["home_total"]),
    )


def _opt_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def get_payment(db: Database, company: str, id: str) -> Payment:
    from qbsync.ledger.models import Payment

    row = _one(db, "SELECT * FROM ledger_payments WHERE company = ? AND id = ?", [company, id])
    if row is None:
        raise NotFoundError(f"no payment {id!r} in the ledger of {company}")
    return Payment(
        company=company,
        id=row["id"],
        invoice_id=row["invoice_id"],
        amount=Decimal(row["amount"]),
        date=dt.date.fromisoformat(row["date"]),
        method=row["method"],
        reference=row["reference"],
        source=row["source"],
        qbo_id=row["qbo_id"],
        qbo_sync_token=row["qbo_sync_token"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# Changes from commands and the sync engine ---------------------------------------------------


def record_local_payment(
    db: Database,
    company: str,
    *,
    id: str,
    invoice_id: str,
    amount: Decimal,
    date: dt.date | str,
    method: str | None = None,
    reference: str | None = None,
    home_amount: Decimal | str | None = None,
) -> bool:
    """Record a payment taken outside QuickBooks (stripe, check, ...) and queue PUSH_PAYMENT in
    the same transaction. `home_amount`: a foreign-currency payment in the home currency.
    Recording the identical payment again is a no-op (returns False: nothing recorded or
    queued); the same id with different details is an InputError (payments are immutable)."""
    from pydantic import ValidationError

    from qbsync.ledger.models import PaymentIn

    try:
        pay = PaymentIn.model_validate(
            {
                "id": id,
                "invoice": invoice_id,
                "amount": amount,
                "date": date,
                "method": method,
                "reference": reference,
                "home_amount": home_amount,
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise InputError(f"payment {id}: {field}: {msg}") from None
    row = payment_row(pay)
    with transaction(db):
        old = _one(
            db, "SELECT * FROM ledger_payments WHERE company = ? AND id = ?", [company, pay.id]
        )
        if old is not None:
            again = replay(old, row)
            if again.identical:
                return False
            raise InputError(
                f"payment {pay.id} is already recorded"
                + (
                    f" with a different {again.changed[0]}"
                    if again.changed
                    else " (from QuickBooks)"
                ),
                "payments cannot change; record a new one under a new id",
            )
        invoice = _document(db, company, pay.invoice)
        refusal = payment_refusal(invoice)
        if refusal is NoPayment.UNKNOWN:
            raise NotFoundError(f"no invoice {pay.invoice!r} in the ledger of {company}")
        if refusal is NoPayment.CREDIT_NOTE:
            raise InputError(f"{pay.invoice} is a credit note; it takes no payments")
        if refusal is NoPayment.NOT_FINALIZED:
            assert invoice is not None
            raise InputError(only_finalized_takes_payments(pay.invoice, invoice.status))
        _insert_payment(db, company, row, utc_now_iso())
        enqueue(db, company, OpKind.PUSH_PAYMENT, SubjectType.PAYMENT, pay.id)
    return True


def void_invoice(db: Database, company: str, invoice_id: str, reason: str | None) -> None:
    """Void an invoice or credit note, queueing in the same transaction the op rules.void_op
    names (a finalized one is voided in QuickBooks, a finalized credit note deleted there; a
    draft is just marked void). Voiding a void document again is a no-op."""
    with transaction(db):
        doc = _document(db, company, invoice_id)
        if doc is None:
            raise NotFoundError(f"no invoice {invoice_id!r} in the ledger of {company}")
        if doc.status == "void":
            return
        refusal = void_refusal(doc.type, invoice_id, *settled(db, company, invoice_id))
        if refusal is not None:
            raise InputError(refusal)
        now = utc_now_iso()
        db.execute(
            "UPDATE ledger_invoices SET status = 'void', voided_at = ?, void_reason = ?, "
            "updated_at = ? WHERE company = ? AND id = ?",
            [now, reason, now, company, invoice_id],
        )
        op = void_op(doc.type, doc.status)
        if op is not None:
            enqueue(db, company, op, SubjectType.INVOICE, invoice_id)


def client_currencies(db: Database, company: str, other_than: str) -> list[str]:
    """The currencies the company's clients are billed in, other than `other_than` (doctor holds
    them against QuickBooks' multi-currency setting)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT currency FROM ledger_clients WHERE company = ? AND currency IS NOT "
            "NULL AND currency != ? ORDER BY 1",
            [company, other_than],
        )
    ]
