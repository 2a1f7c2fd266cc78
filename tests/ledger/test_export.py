from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from qbsync.store.database import Database
from qbsync.sync import links
from tests.fixtures.ledger import SampleLedger
from tests.support import run, run_json


def _qbo_payment(db: Database, id: str, invoice: str, amount: str, updated_at: str) -> None:
    """A payment as the sync engine writes one that was recorded in QuickBooks."""
    db.execute(
        "INSERT INTO ledger_payments (company, id, invoice_id, amount, date, method, reference, "
        "source, qbo_id, qbo_sync_token, created_at, updated_at) "
        "VALUES ('acme', ?, ?, ?, '2026-10-20', 'Check', '5521', 'quickbooks', ?, '0', ?, ?)",
        [id, invoice, amount, id.removeprefix("qbo-"), updated_at, updated_at],
    )
    db.conn.commit()


def test_export_payments_hands_back_only_quickbooks_payments(
    sample_ledger: SampleLedger, ledger_db: Database, tmp_path: Path
) -> None:
    _qbo_payment(ledger_db, "qbo-41", "INV-1003", "771.88", "2026-10-20T09:00:00+00:00")
    _qbo_payment(ledger_db, "qbo-42", "INV-1002", "0.10", "2026-11-02T09:00:00+00:00")
    rows = run_json("ledger", "export", "payments")["data"]
    assert [r["id"] for r in rows] == ["qbo-41", "qbo-42"]  # PAY-1 is local: not handed back
    assert rows[0] == {
        "id": "qbo-41",
        "invoice": "INV-1003",
        "amount": "771.88",
        "date": "2026-10-20",
        "method": "Check",
        "reference": "5521",
        "qbo_id": "41",
        "updated_at": "2026-10-20T09:00:00+00:00",
        "kind": "payment",
        "original_id": None,
        "reason": None,
    }
    since = run_json("ledger", "export", "payments", "--since", "2026-11-01")["data"]
    assert [r["id"] for r in since] == ["qbo-42"]
    text = run("ledger", "export", "payments", "--format", "csv").stdout
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[1]["amount"] == "0.10" and parsed[0]["invoice"] == "INV-1003"
    out = tmp_path / "payments.json"
    written = run_json("ledger", "export", "payments", "--output", str(out))["data"]
    assert written["count"] == 2
    assert json.loads(out.read_text())[0]["amount"] == "771.88"
    bad = run_json("ledger", "export", "payments", "--since", "last week", code=2)
    assert "--since" in bad["error"]["message"]


def test_export_invoices_with_statuses(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    _qbo_payment(ledger_db, "qbo-41", "INV-1003", "771.88", "2026-10-20T09:00:00+00:00")
    links.save(
        ledger_db, "acme", "invoice", "INV-1001", "Invoice", {"Id": "130"}, linked_by="export"
    )
    rows = {r["id"]: r for r in run_json("ledger", "export", "invoices")["data"]}
    assert "INV-1004" not in rows  # drafts never reached QuickBooks
    assert rows["INV-1003"]["status"] == "paid" and rows["INV-1003"]["balance"] == "0.00"
    assert rows["INV-1001"] | {"updated_at": None} == {
        "id": "INV-1001",
        "number": "1001",
        "type": "standard",
        "client": "CL-1",
        "status": "partially_paid",
        "subtotal": "1935.00",
        "discount": "0.00",
        "tax": "11.14",
        "total": "1946.14",
        "paid": "0.00",
        "credited": "150.00",
        "balance": "1796.14",
        "currency": "USD",
        "qbo_id": "130",
        "qbo_number": None,
        "voided_at": None,
        "updated_at": None,
    }
    assert rows["INV-1002"]["status"] == "partially_paid"
    assert rows["CN-2001"]["status"] == "paid" and rows["CN-2001"]["type"] == "credit_note"
    text = run("ledger", "export", "invoices", "--format", "csv").stdout
    assert text.splitlines()[0].startswith("id,number,type,client,status,subtotal")


def test_invoice_show_and_payments_list(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    _qbo_payment(ledger_db, "qbo-41", "INV-1003", "771.88", "2026-10-20T09:00:00+00:00")
    show = run_json("invoices", "show", "INV-1003")["data"]
    assert show["lines"] == [
        {
            "line_no": 1,
            "service_id": "S-MSP",
            "description": None,
            "quantity": "4",
            "unit_price": "150.00",
            "amount": "600.00",
            "tax_region_id": "TR-EX",
            "discount": "0.00",
            "tax": "0.00",
            "total": "600.00",
        },
        {
            "line_no": 2,
            "service_id": "S-HOURS",
            "description": "After-hours call-out",
            "quantity": "1.25",
            "unit_price": "137.50",
            "amount": "171.88",
            "tax_region_id": "TR-EX",
            "discount": "0.00",
            "tax": "0.00",
            "total": "171.88",
        },
    ]
    assert show["payments"] == [
        {
            "id": "qbo-41",
            "amount": "771.88",
            "date": "2026-10-20",
            "source": "quickbooks",
            "qbo_id": "41",
        }
    ]
    assert [(op["kind"], op["state"]) for op in show["ops"]] == [("export_invoice", "pending")]
    assert show["qbo_entity"] is None and "qbo_url" not in show
    missing = run_json("invoices", "show", "INV-404", code=2)["error"]
    assert missing["message"] == "invoice 'INV-404' is not in the ledger of acme"

    listed = run_json("payments", "list")["data"]
    assert [p["id"] for p in listed] == ["qbo-41", "PAY-1"]  # newest first
    assert set(listed[0]) == {
        "id",
        "invoice",
        "amount",
        "date",
        "method",
        "reference",
        "source",
        "qbo_id",
    }
    only = run_json("payments", "list", "--invoice", "INV-1002", "-n", "1")["data"]
    assert [p["id"] for p in only] == ["PAY-1"]
