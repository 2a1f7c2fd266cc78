from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from qbsync import outbox
from qbsync.errors import InputError, NotFoundError
from qbsync.ledger import store as ledger_store
from qbsync.ledger.importer import import_files
from qbsync.ledger.store import (
    get_payment,
    invoice_balance,
    invoice_status,
    record_local_payment,
    void_invoice,
)
from qbsync.store.database import Database
from tests.fixtures.ledger import SampleLedger
from tests.ledger.util import fingerprint
from tests.support import run_json


def _ops(db: Database) -> list[tuple[str, str]]:
    return [(r["kind"], r["subject_id"]) for r in db.query("SELECT * FROM outbox ORDER BY id")]


def test_record_local_payment_queues_push_and_is_idempotent(
    sample_ledger: SampleLedger, ledger_db: Database
) -> None:
    record_local_payment(
        ledger_db,
        "acme",
        id="PAY-7",
        invoice_id="INV-1003",
        amount=Decimal("771.88"),
        date="2026-10-30",
        method="check",
        reference="1099",
    )
    assert ("push_payment", "PAY-7") in _ops(ledger_db)
    assert invoice_status(ledger_db, "acme", "INV-1003") == "paid"
    assert invoice_balance(ledger_db, "acme", "INV-1003") == Decimal("0.00")
    payment = get_payment(ledger_db, "acme", "PAY-7")
    assert payment.amount == Decimal("771.88") and payment.source == "local"
    before = fingerprint(ledger_db)
    record_local_payment(
        ledger_db,
        "acme",
        id="PAY-7",
        invoice_id="INV-1003",
        amount=Decimal("771.88"),
        date="2026-10-30",
        method="check",
        reference="1099",
    )
    assert fingerprint(ledger_db) == before
    with pytest.raises(InputError, match="different amount"):
        record_local_payment(
            ledger_db,
            "acme",
            id="PAY-7",
            invoice_id="INV-1003",
            amount=Decimal("1.00"),
            date="2026-10-30",
            method="check",
            reference="1099",
        )


@pytest.mark.parametrize(
    ("invoice", "amount", "error", "match"),
    [
        ("INV-1004", "10.00", InputError, "draft"),
        ("CN-2001", "10.00", InputError, "credit note"),
        ("INV-9", "10.00", NotFoundError, "no invoice"),
        ("INV-1001", "10.001", InputError, "more than 2 decimal places"),
        ("INV-1001", "0", InputError, "greater than 0"),
    ],
)
def test_record_local_payment_validates(
    sample_ledger: SampleLedger,
    ledger_db: Database,
    invoice: str,
    amount: str,
    error: type,
    match: str,
) -> None:
    before = fingerprint(ledger_db)
    with pytest.raises(error, match=match):
        record_local_payment(
            ledger_db,
            "acme",
            id="PAY-X",
            invoice_id=invoice,
            amount=Decimal(amount),
            date="2026-10-30",
        )
    assert fingerprint(ledger_db) == before


def test_void_invoice(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    void_invoice(ledger_db, "acme", "INV-1003", "billed twice")
    void_invoice(ledger_db, "acme", "INV-1004", "draft dropped")
    void_invoice(ledger_db, "acme", "INV-1003", "again")  # already void: no-op
    ops = _ops(ledger_db)
    assert ops.count(("void_invoice", "INV-1003")) == 1
    assert not any(subject == "INV-1004" for _, subject in ops)
    assert invoice_status(ledger_db, "acme", "INV-1003") == "void"
    row = next(ledger_db.query("SELECT void_reason FROM ledger_invoices WHERE id = 'INV-1003'"))
    assert row["void_reason"] == "billed twice"


def test_void_refused_while_money_is_against_the_document(
    sample_ledger: SampleLedger, ledger_db: Database
) -> None:
    """A paid invoice, a credited invoice and an applied credit note stay as they are: voiding
    them would leave the payment dangling or the credit counted twice."""
    before = fingerprint(ledger_db)
    for doc, said in (
        ("INV-1002", "invoice INV-1002 has 500.00 paid against it"),
        ("INV-1001", "invoice INV-1001 has 150.00 credited against it"),
        ("CN-2001", "credit note CN-2001 has 150.00 applied to invoices"),
    ):
        with pytest.raises(InputError, match=said):
            void_invoice(ledger_db, "acme", doc, "refused")
    error = run_json("invoices", "void", "INV-1002", "--reason", "refused", "-y", code=2)["error"]
    assert "refund or move the payments" in error["message"]
    assert fingerprint(ledger_db) == before


def _fail_after_enqueue(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str = "enqueue"
) -> None:
    """Make the op write succeed, then fail: everything in the transaction must roll back."""
    real = getattr(outbox, name)

    def enqueue_then_fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)
        raise RuntimeError("injected failure after the ledger write")

    monkeypatch.setattr(module, name, enqueue_then_fail)


def test_failure_after_write_rolls_back_payment_and_op(
    sample_ledger: SampleLedger, ledger_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fingerprint(ledger_db)
    _fail_after_enqueue(monkeypatch, ledger_store)
    with pytest.raises(RuntimeError, match="injected"):
        record_local_payment(
            ledger_db,
            "acme",
            id="PAY-8",
            invoice_id="INV-1003",
            amount=Decimal("1.00"),
            date="2026-10-30",
        )
    with pytest.raises(RuntimeError, match="injected"):
        void_invoice(ledger_db, "acme", "INV-1003", "oops")
    assert fingerprint(ledger_db) == before
    assert not ledger_db.conn.in_transaction


def test_failure_during_import_rolls_back_finalize_and_op(
    sample_ledger: SampleLedger,
    ledger_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    text = sample_ledger.path.read_text().replace("status: draft", "status: finalized")
    path = tmp_path / "ledger.yaml"
    path.write_text(text)
    before = fingerprint(ledger_db)
    _fail_after_enqueue(monkeypatch, ledger_store, "enqueue_many")
    with pytest.raises(RuntimeError, match="injected"):
        import_files(ledger_db, "acme", [path])
    assert fingerprint(ledger_db) == before
    monkeypatch.undo()
    import_files(ledger_db, "acme", [path])
    assert ("export_invoice", "INV-1004") in _ops(ledger_db)


def test_a_callers_transaction_decides(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    before = fingerprint(ledger_db)
    ledger_db.conn.execute("BEGIN")
    void_invoice(ledger_db, "acme", "INV-1003", "inside a caller's transaction")
    ledger_db.conn.rollback()
    assert fingerprint(ledger_db) == before


def test_enqueue_many_queues_an_op_once(ledger_db: Database) -> None:
    # Like enqueue(): a pending op of the same kind and subject is not queued again, whether
    # it was queued before or earlier in the same batch.
    export = (outbox.OpKind.EXPORT_INVOICE, outbox.SubjectType.INVOICE, "INV-9")
    void = (outbox.OpKind.VOID_INVOICE, outbox.SubjectType.INVOICE, "INV-9")
    outbox.enqueue(ledger_db, "acme", *export)
    outbox.enqueue_many(ledger_db, "acme", [export, void, void])
    rows = ledger_db.execute(
        "SELECT kind, subject_id, state FROM outbox WHERE company = 'acme' ORDER BY id"
    ).fetchall()
    assert rows == [
        ("export_invoice", "INV-9", "pending"),
        ("void_invoice", "INV-9", "pending"),
    ]
