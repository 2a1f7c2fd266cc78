"""What `ledger export payments` hands to billing, kept (qbsync/ledger/handover.py): rows that
never change, reversals written once, and payments recorded before the store kept them counted
as handed over already."""

from __future__ import annotations

from decimal import Decimal

from qbsync.ledger import handover
from qbsync.store.database import Database
from qbsync.store.db import apply_migrations, configure

STEP = "0026_ledger_handover_and_marks"
NOW = "2026-11-01T09:00:00+00:00"


def _ledger(db: Database) -> None:
    db.execute(
        "INSERT INTO ledger_clients (company, id, name, created_at, updated_at) "
        "VALUES ('acme', 'CL-1', 'Acme', ?, ?)",
        [NOW, NOW],
    )
    for invoice_id in ("INV-1", "INV-2"):
        db.execute(
            "INSERT INTO ledger_invoices (company, id, number, client_id, status, date, subtotal, "
            "content_hash, created_at, updated_at) VALUES ('acme', ?, ?, 'CL-1', 'finalized', "
            "'2026-10-01', '500.00', 'x', ?, ?)",
            [invoice_id, invoice_id, NOW, NOW],
        )


def _pay(db: Database, row_id: str, invoice_id: str, amount: str, qbo_id: str) -> None:
    db.execute(
        "INSERT INTO ledger_payments (company, id, invoice_id, amount, date, source, qbo_id, "
        "created_at, updated_at) VALUES ('acme', ?, ?, ?, '2026-10-20', 'quickbooks', ?, ?, ?)",
        [row_id, invoice_id, amount, qbo_id, NOW, NOW],
    )


def _rows(db: Database) -> list[tuple[str, str, str, str | None]]:
    return [
        (r["id"], r["kind"], r["amount"], r["reason"]) for r in handover.handed_rows(db, "acme", "")
    ]


def test_payments_recorded_before_the_step_count_as_handed_over() -> None:
    db = configure(Database(memory=True))
    apply_migrations(db, stop_before=STEP)
    _ledger(db)
    _pay(db, "qbo-41", "INV-1", "120.50", "41")
    db.execute(
        "INSERT INTO ledger_payments (company, id, invoice_id, amount, date, source, "
        "created_at, updated_at) VALUES ('acme', 'PAY-1', 'INV-1', '5.00', '2026-10-20', "
        "'local', ?, ?)",
        [NOW, NOW],
    )
    apply_migrations(db)
    assert _rows(db) == [("qbo-41", "payment", "120.50", None)]  # local payments are not

    # Deleted in QuickBooks before any export after the upgrade: billing may hold it, so it is
    # reversed.
    db.execute("DELETE FROM ledger_payments WHERE id = 'qbo-41'")
    assert handover.hand_over(db, "acme", lambda qbo_id: "deleted") == 1
    assert _rows(db)[-1] == ("qbo-41#2", "reversal", "-120.50", "deleted")
    assert handover.hand_over(db, "acme", lambda qbo_id: "deleted") == 0  # once


def test_rows_of_a_payment_add_up_to_what_quickbooks_holds() -> None:
    db = configure(Database(memory=True))
    apply_migrations(db)
    _ledger(db)
    _pay(db, "qbo-7-1", "INV-1", "300.00", "7")
    reasons = {"7": "reduced"}
    assert handover.hand_over(db, "acme", reasons.__getitem__) == 1

    def change(amount: str | None, invoice_id: str = "INV-1") -> None:
        if amount is None:
            db.execute("DELETE FROM ledger_payments WHERE id = 'qbo-7-1'")
        else:
            db.execute(
                "UPDATE ledger_payments SET amount = ?, invoice_id = ? WHERE id = 'qbo-7-1'",
                [amount, invoice_id],
            )
        handover.hand_over(db, "acme", reasons.__getitem__)
        held = Decimal(0) if amount is None else Decimal(amount)
        total = sum(Decimal(r["amount"]) for r in handover.handed_rows(db, "acme", ""))
        assert total == held

    change("280.01")  # reduced
    change("280.01")  # unchanged: nothing
    change("299.99")  # more money on the line
    change("299.99", "INV-2")  # the line now settles another invoice
    reasons["7"] = "voided"
    change(None)
    assert _rows(db) == [
        ("qbo-7-1", "payment", "300.00", None),
        ("qbo-7-1#2", "reversal", "-19.99", "reduced"),
        ("qbo-7-1#3", "payment", "19.98", "increased"),
        ("qbo-7-1#4", "reversal", "-299.99", "reduced"),
        ("qbo-7-1#5", "payment", "299.99", "moved"),
        ("qbo-7-1#6", "reversal", "-299.99", "voided"),
    ]
    invoices = [r["invoice_id"] for r in handover.handed_rows(db, "acme", "")]
    assert invoices == ["INV-1", "INV-1", "INV-1", "INV-1", "INV-2", "INV-2"]


def test_a_foreign_currency_payment_is_handed_over_and_reversed_in_both_currencies() -> None:
    db = configure(Database(memory=True))
    apply_migrations(db)
    _ledger(db)
    _pay(db, "qbo-9-1", "INV-2", "103.98", "9")
    db.execute("UPDATE ledger_payments SET home_amount = '116.81' WHERE id = 'qbo-9-1'")
    handover.hand_over(db, "acme", lambda qbo_id: "reduced")

    # QuickBooks reduces the line to 50.00 EUR (at the same rate 1.1234: 56.17 at home).
    db.execute(
        "UPDATE ledger_payments SET amount = '50.00', home_amount = '56.17' WHERE id = 'qbo-9-1'"
    )
    handover.hand_over(db, "acme", lambda qbo_id: "reduced")
    # Then deletes it.
    db.execute("DELETE FROM ledger_payments WHERE id = 'qbo-9-1'")
    handover.hand_over(db, "acme", lambda qbo_id: "deleted")

    rows = [
        (r["kind"], r["amount"], r["home_amount"], r["reason"])
        for r in handover.handed_rows(db, "acme", "")
    ]
    assert rows == [
        ("payment", "103.98", "116.81", None),
        ("reversal", "-53.98", "-60.64", "reduced"),
        ("reversal", "-50.00", "-56.17", "deleted"),
    ]
    assert sum(Decimal(r[2]) for r in rows) == Decimal("0.00")
