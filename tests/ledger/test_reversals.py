"""Taking money off a document: `invoices void --unapply` (void_unapplying) and the reversals
of what QuickBooks voided or deleted, through the ledger's door. A foreign-currency invoice
with a discount and tax, a payment with its home amount, and a credit note."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from qbsync.errors import InputError
from qbsync.ledger import quickbooks
from qbsync.ledger.reversals import Reversed, less, on_document, void_unapplying
from qbsync.ledger.store import invoice_balance, invoice_status, void_invoice
from qbsync.store.database import Database
from tests.support import run_json

LISTS = {
    "clients": [{"id": "CL-C", "name": "Maple Clinic", "currency": "CAD"}],
    "services": [{"id": "S-1", "name": "Consulting"}],
    "tax_regions": [{"id": "TR-ON", "name": "Ontario HST", "rate": "13"}],
    "terms": [],
}


def _doc(id: str, kind: str = "standard", price: str = "200.00") -> dict[str, object]:
    lines: list[dict[str, object]] = [
        {"service": "S-1", "quantity": 2, "unit_price": price, "tax_region": "TR-ON"}
    ]
    if kind == "standard":
        lines.append({"kind": "discount", "percent": "10"})
    return {
        "id": id,
        "number": id,
        "client": "CL-C",
        "type": kind,
        "currency": "CAD",
        "exchange_rate": "0.73",
        "date": "2026-10-05",
        "status": "finalized",
        "lines": lines,
    }


@pytest.fixture
def cad(ledger_company: str, tmp_path: Path) -> str:
    """INV-C1: 2 x 200.00 CAD less 10%, 13% HST = 406.80; paid 100.00 (73.00 home); 50.00 of
    credit note CN-C1 (2 x 25.00 + HST = 56.50) applied to it."""
    data = {
        "version": 1,
        **LISTS,
        "invoices": [_doc("INV-C1"), _doc("CN-C1", "credit_note", "25.00")],
        "payments": [
            {
                "id": "PAY-C1",
                "invoice": "INV-C1",
                "amount": "100.00",
                "home_amount": "73.00",
                "date": "2026-10-06",
            }
        ],
        "credit_applications": [
            {
                "id": "CA-C1",
                "credit_note": "CN-C1",
                "invoice": "INV-C1",
                "amount": "50.00",
                "date": "2026-10-06",
            }
        ],
    }
    path = tmp_path / "cad.json"
    path.write_text(json.dumps(data), "utf-8")
    run_json("ledger", "import", str(path), "--company", ledger_company)
    return ledger_company


def _ops(db: Database) -> list[tuple[str, str, str]]:
    return [
        (r["kind"], r["subject_id"], r["state"])
        for r in db.query("SELECT kind, subject_id, state FROM outbox ORDER BY id")
    ]


def test_void_is_refused_while_money_is_applied(cad: str, ledger_db: Database) -> None:
    assert invoice_balance(ledger_db, cad, "INV-C1") == Decimal("256.80")
    with pytest.raises(InputError, match=r"100\.00 paid and 50\.00 credited"):
        void_invoice(ledger_db, cad, "INV-C1", "wrong client")


def test_void_unapplying_takes_the_money_off_and_voids_in_one_go(
    cad: str, ledger_db: Database
) -> None:
    taken = void_unapplying(ledger_db, cad, "INV-C1", "wrong client")
    assert [(p["id"], p["amount"], p["home_amount"]) for p in taken.payments] == [
        ("PAY-C1", "100.00", "73.00")
    ]
    assert [(c["id"], c["amount"]) for c in taken.credits] == [("CA-C1", "50.00")]
    assert taken.total == Decimal("150.00")
    assert "payment PAY-C1 of 100.00 on invoice INV-C1" in taken.describe()
    assert invoice_status(ledger_db, cad, "INV-C1") == "void"
    assert on_document(ledger_db, cad, "INV-C1") == Reversed()
    [reason] = [
        r[0]
        for r in ledger_db.execute("SELECT void_reason FROM ledger_invoices WHERE id = 'INV-C1'")
    ]
    assert reason.startswith("wrong client; unapplied first: payment PAY-C1 of 100.00"), reason
    # The credit is the credit note's again; the pushes that had not gone are cancelled, the
    # void is queued.
    assert invoice_balance(ledger_db, cad, "CN-C1") == Decimal("56.50")
    ops = _ops(ledger_db)
    assert ("push_payment", "PAY-C1", "cancelled") in ops
    assert ("apply_credit", "CA-C1", "cancelled") in ops
    assert ("void_invoice", "INV-C1", "pending") in ops
    # Voiding a void document again takes nothing off and queues nothing.
    again = void_unapplying(ledger_db, cad, "INV-C1", "again")
    assert not again and _ops(ledger_db) == ops


def test_void_unapplying_a_credit_note_gives_the_invoice_its_balance_back(
    cad: str, ledger_db: Database
) -> None:
    taken = void_unapplying(ledger_db, cad, "CN-C1", "issued twice")
    assert taken.payments == [] and [c["id"] for c in taken.credits] == ["CA-C1"]
    assert invoice_balance(ledger_db, cad, "INV-C1") == Decimal("306.80")
    assert ("delete_credit_memo", "CN-C1", "pending") in _ops(ledger_db)


def test_accepting_a_quickbooks_void_takes_the_dangling_money_off(
    cad: str, ledger_db: Database
) -> None:
    taken = quickbooks.accept_void(ledger_db, cad, "INV-C1")
    assert taken.total == Decimal("150.00")
    assert invoice_status(ledger_db, cad, "INV-C1") == "void"
    assert on_document(ledger_db, cad, "INV-C1") == Reversed()


def test_a_credit_note_deleted_in_quickbooks_reverses_its_credit_once(
    cad: str, ledger_db: Database
) -> None:
    first = quickbooks.reverse_credit_note(ledger_db, cad, "CN-C1")
    assert [(c["id"], c["amount"]) for c in first.credits] == [("CA-C1", "50.00")]
    assert not quickbooks.reverse_credit_note(ledger_db, cad, "CN-C1")
    assert invoice_balance(ledger_db, cad, "INV-C1") == Decimal("306.80")


def test_less_names_what_went_and_what_went_down() -> None:
    before = Reversed(
        [
            {"id": "a", "invoice_id": "I1", "amount": "60.00"},
            {"id": "b", "invoice_id": "I2", "amount": "40.00"},
        ],
        [{"id": "c", "credit_note_id": "N", "invoice_id": "I1", "amount": "30.00"}],
    )
    after = Reversed([{"id": "b", "invoice_id": "I2", "amount": "15.50"}], [])
    gone = less(before, after)
    assert [(p["id"], p["amount"]) for p in gone.payments] == [("a", "60.00"), ("b", "24.50")]
    assert [(c["id"], c["amount"]) for c in gone.credits] == [("c", "30.00")]
    assert gone.total == Decimal("114.50")
    assert not less(after, after)
