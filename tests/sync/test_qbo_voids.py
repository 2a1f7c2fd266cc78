"""Voids and deletes made in QuickBooks reverse the ledger's effect, never silently, never twice:
a payment voided or deleted there (recorded from QuickBooks or pushed by qbsync), an invoice
voided while paid, an applied credit memo deleted. End to end: the real CLI, the simulator
in-process acting as a QuickBooks user; a taxed invoice, an exempt one and credit notes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import SAMPLE_LISTS, link, map_demo, store_query

TAXED, EXEMPT, NOTE, OTHER_NOTE = "INV-8001", "INV-8002", "CN-8001", "CN-8002"


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    return cycle


def _doc(id: str, amount: str, kind: str = "standard", region: str = "TR-EX") -> dict[str, Any]:
    return {
        "id": id,
        "number": id.split("-")[1],
        "type": kind,
        "client": "CL-1",
        "date": "2026-10-05",
        "status": "finalized",
        "lines": [
            {"service": "S-HOURS", "quantity": 1, "unit_price": amount, "tax_region": region}
        ],
    }


def invoice(local_id: str) -> dict[str, Any]:
    data: dict[str, Any] = run_json("invoices", "show", local_id)["data"]
    return data


def paid(local_id: str) -> Decimal:
    """Money received on it (credit apart), as `ledger export invoices` hands it over."""
    return Decimal(exported_row(local_id)["paid"])


def total(local_id: str) -> Decimal:
    return Decimal(exported_row(local_id)["total"])


def exported_row(local_id: str) -> dict[str, Any]:
    [row] = [r for r in run_json("ledger", "export", "invoices")["data"] if r["id"] == local_id]
    return row


def qbo_id(local_type: str, local_id: str) -> str:
    row = link("acme", local_type, local_id)
    assert row, local_id
    return str(row["qbo_id"])


def open_exceptions(kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_json("exceptions", "list", "--open", "--kind", kind)["data"]
    return rows


def ledger_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        store_query("SELECT id, invoice_id, amount, source FROM ledger_payments ORDER BY id"),
        store_query(
            "SELECT id, credit_note_id, invoice_id, amount FROM ledger_credit_applications "
            "ORDER BY id"
        ),
    )


@pytest.fixture
def exported(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> ConnectedCompany:
    """A taxed invoice of 100.00 + tax, an exempt one of 200.00 with a local payment of 50.00
    and 30.00 of credit note CN-8001 applied, a second credit note of 40.00 unapplied; all in
    QuickBooks (AutoApplyCredit off)."""
    assert connected_company.key == "acme"
    connected_company.control.set_preferences(
        connected_company.realm_id, {"SalesFormsPrefs": {"AutoApplyCredit": False}}
    )
    ledger = {
        "version": 1,
        **SAMPLE_LISTS,
        "tax_regions": [
            {"id": "TR-HC", "name": "Harbor County", "rate": "8.25"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
        "invoices": [
            _doc(TAXED, "100.00", region="TR-HC"),
            _doc(EXEMPT, "200.00"),
            _doc(NOTE, "30.00", "credit_note"),
            _doc(OTHER_NOTE, "40.00", "credit_note"),
        ],
        "payments": [
            {"id": "PAY-8001", "invoice": EXEMPT, "amount": "50.00", "date": "2026-10-06"}
        ],
        "credit_applications": [
            {
                "id": "CA-8001",
                "credit_note": NOTE,
                "invoice": EXEMPT,
                "amount": "30.00",
                "date": "2026-10-06",
            }
        ],
    }
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger), "utf-8")
    run_json("ledger", "import", str(path), "--company", ledger_company)
    map_demo(connected_company.key)
    sync()
    assert qbo_id("payment", "PAY-8001") and qbo_id("credit_application", "CA-8001")
    return connected_company


def _customer(company: ConnectedCompany) -> str:
    doc = company.control.get(company.realm_id, "Invoice", qbo_id("invoice", TAXED))
    return str(doc["CustomerRef"]["value"])


def test_quickbooks_payment_voided_reverses_its_settlement_once(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    owed = total(TAXED)
    assert owed == Decimal("108.25")  # 8.25% tax
    pay = ctl.record_payment(
        realm, _customer(exported), "60.00", invoice_id=qbo_id("invoice", TAXED), ref_num="CHK-9"
    )
    sync()
    assert paid(TAXED) == Decimal("60.00")
    assert exported_row(TAXED)["status"] == "partially_paid"

    ctl.void_payment(realm, pay["Id"])
    sync()
    row = exported_row(TAXED)
    assert (Decimal(row["paid"]), Decimal(row["balance"]), row["status"]) == (
        Decimal("0"),
        owed,
        "open",
    )
    [raised] = open_exceptions("qbo_void_reversed")
    assert raised["qbo_id"] == pay["Id"] and raised["subject_type"] == "qbo_payment"
    assert "CHK-9" in raised["message"] and "voided" in raised["message"], raised
    assert "60.00 on invoice 8001" in raised["message"], raised
    before = ledger_rows()

    # Never twice: the next runs change nothing and raise nothing again.
    sync()
    sync()
    assert ledger_rows() == before
    [again] = open_exceptions("qbo_void_reversed")
    assert again["occurrences"] == 1 and again["id"] == raised["id"]

    # Settled again (a new payment for the whole balance): the reversal closes by itself.
    ctl.record_payment(realm, _customer(exported), str(owed), invoice_id=qbo_id("invoice", TAXED))
    sync()
    assert open_exceptions("qbo_void_reversed") == []


def test_split_quickbooks_payment_deleted_reverses_each_line(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    pay = ctl.create(
        realm,
        "Payment",
        {
            "CustomerRef": {"value": _customer(exported)},
            "TotalAmt": "100.00",
            "Line": [
                {
                    "Amount": "60.00",
                    "LinkedTxn": [{"TxnId": qbo_id("invoice", TAXED), "TxnType": "Invoice"}],
                },
                {
                    "Amount": "40.00",
                    "LinkedTxn": [{"TxnId": qbo_id("invoice", EXEMPT), "TxnType": "Invoice"}],
                },
            ],
        },
    )
    sync()
    assert paid(EXEMPT) == Decimal("90.00")  # 50.00 local + 40.00
    ctl.delete_payment(realm, pay["Id"])
    sync()
    assert paid(TAXED) == 0
    assert paid(EXEMPT) == Decimal("50.00")  # the ledger's own stays
    assert exported_row(EXEMPT)["status"] == "partially_paid"
    [raised] = open_exceptions("qbo_void_reversed")
    assert "deleted" in raised["message"] and "100.00 in all" in raised["message"], raised
    assert "60.00 on invoice 8001" in raised["message"]
    assert "40.00 on invoice 8002" in raised["message"]
    sync()
    assert open_exceptions("qbo_void_reversed")[0]["occurrences"] == 1


@pytest.mark.parametrize("how", ["voided", "deleted"])
def test_pushed_local_payment_voided_in_quickbooks_is_reversed(
    exported: ConnectedCompany, how: str
) -> None:
    ctl, realm = exported.control, exported.realm_id
    assert exported_row(EXEMPT)["status"] == "partially_paid"
    if how == "voided":
        ctl.void_payment(realm, qbo_id("payment", "PAY-8001"))
    else:
        ctl.delete_payment(realm, qbo_id("payment", "PAY-8001"))
    sync()
    payments, _ = ledger_rows()
    assert payments == []
    row = exported_row(EXEMPT)
    assert (Decimal(row["paid"]), Decimal(row["credited"]), Decimal(row["balance"])) == (
        Decimal("0"),
        Decimal("30.00"),
        Decimal("170.00"),
    )
    assert row["status"] == "partially_paid"  # the credit still stands
    [raised] = open_exceptions("qbo_void_reversed")
    assert "PAY-8001" in raised["message"] and "50.00" in raised["message"], raised
    assert how in raised["message"], raised
    sync()
    assert open_exceptions("qbo_void_reversed")[0]["occurrences"] == 1


def test_pushed_credit_application_deleted_in_quickbooks_is_reversed(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    ctl.delete_payment(realm, qbo_id("credit_application", "CA-8001"))
    sync()
    assert ledger_rows()[1] == []
    row = exported_row(EXEMPT)
    assert (Decimal(row["credited"]), Decimal(row["balance"])) == (Decimal("0"), Decimal("150.00"))
    [raised] = open_exceptions("qbo_void_reversed")
    assert raised["message"].startswith("credit application CA-8001 (QuickBooks payment")
    assert "credit CA-8001 of 30.00 from credit note 8001 on invoice 8002" in raised["message"]
    sync()
    assert open_exceptions("qbo_void_reversed")[0]["occurrences"] == 1


def test_invoice_voided_in_quickbooks_while_paid_counts_nothing_twice(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    customer = _customer(exported)
    pay = ctl.record_payment(
        realm, customer, "60.00", invoice_id=qbo_id("invoice", EXEMPT), ref_num="CHK-60"
    )
    sync()
    assert paid(EXEMPT) == Decimal("110.00")

    ctl.void_invoice(realm, qbo_id("invoice", EXEMPT))
    sync()
    [drift] = open_exceptions("drift_voided_or_deleted")
    message = drift["message"]
    assert "voided" in message and "140.00 was settled on it" in message, message
    assert "PAY-8001 of 50.00" in message and "dangles" in message, message
    assert "CA-8001" in message, message
    assert f"qbo-{pay['Id']}" in message, message  # the QuickBooks payment, followed
    # QuickBooks unapplied its own payment: the ledger no longer counts it on the invoice.
    payments, _ = ledger_rows()
    assert [(p["id"], p["amount"]) for p in payments] == [("PAY-8001", "50.00")]
    [reversed_] = open_exceptions("qbo_void_reversed")
    assert reversed_["qbo_id"] == pay["Id"] and "invoice 8002" in reversed_["message"]

    # The accountant applies the money QuickBooks holds unapplied to the other invoice:
    # counted once, there.
    live = ctl.get(realm, "Payment", pay["Id"])
    ctl.edit_payment(
        realm,
        pay["Id"],
        {
            "SyncToken": live["SyncToken"],
            "Line": [
                {
                    "Amount": "60.00",
                    "LinkedTxn": [{"TxnId": qbo_id("invoice", TAXED), "TxnType": "Invoice"}],
                }
            ],
        },
    )
    sync()
    assert paid(TAXED) == Decimal("60.00")
    assert paid(EXEMPT) == Decimal("50.00")

    # Accepting the void takes off what still dangled, and names it.
    run_json("exceptions", "resolve", str(drift["id"]), "--accept")
    assert invoice(EXEMPT)["status"] == "void"
    payments, credits = ledger_rows()
    assert [p["invoice_id"] for p in payments] == [TAXED]
    assert credits == []
    sync()
    assert open_exceptions("drift_voided_or_deleted") == []
    # Nothing owed because of the reversal any more: the invoice is void in the ledger.
    assert open_exceptions("qbo_void_reversed") == []


def test_applied_credit_memo_deleted_in_quickbooks_reverses_the_credit(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    # The second credit note applied by the accountant in QuickBooks.
    ctl.record_payment(
        realm,
        _customer(exported),
        "0",
        invoice_id=qbo_id("invoice", TAXED),
        credit_memo_ids=[qbo_id("invoice", OTHER_NOTE)],
    )
    sync()
    _, credits = ledger_rows()
    assert sorted((c["credit_note_id"], c["invoice_id"], c["amount"]) for c in credits) == [
        (NOTE, EXEMPT, "30.00"),
        (OTHER_NOTE, TAXED, "40.00"),
    ]

    ctl.delete_credit_memo(realm, qbo_id("invoice", NOTE))
    ctl.delete_credit_memo(realm, qbo_id("invoice", OTHER_NOTE))
    sync()
    _, credits = ledger_rows()
    assert credits == []
    assert Decimal(exported_row(EXEMPT)["credited"]) == 0
    assert Decimal(exported_row(TAXED)["credited"]) == 0
    raised = {r["subject_id"]: r for r in open_exceptions("qbo_void_reversed")}
    assert set(raised) == {NOTE, OTHER_NOTE}
    assert "of 30.00 from credit note 8001 on invoice 8002" in raised[NOTE]["message"]
    assert "of 40.00 from credit note 8002 on invoice 8001" in raised[OTHER_NOTE]["message"]
    drift = {r["subject_id"]: r for r in open_exceptions("drift_voided_or_deleted")}
    assert "reversed the credit it had applied (30.00)" in drift[NOTE]["message"]
    sync()
    assert all(r["occurrences"] == 1 for r in open_exceptions("qbo_void_reversed"))
    assert ledger_rows()[1] == []

    # Voided in the ledger as well: both sides agree, the exceptions close themselves.
    run_json("invoices", "void", NOTE, "--reason", "deleted in QuickBooks", "-y")
    sync()
    assert [r["subject_id"] for r in open_exceptions("qbo_void_reversed")] == [OTHER_NOTE]


def test_payment_held_for_an_unknown_invoice_then_voided_settles_nothing(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    customer = _customer(exported)
    item = ctl.get(realm, "Invoice", qbo_id("invoice", TAXED))["Line"][0]["SalesItemLineDetail"][
        "ItemRef"
    ]["value"]
    # An invoice keyed into QuickBooks by hand: the ledger does not know it.
    theirs = ctl.create(
        realm,
        "Invoice",
        {
            "CustomerRef": {"value": customer},
            "Line": [
                {
                    "Amount": "80.00",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": 80},
                }
            ],
        },
    )
    pay = ctl.record_payment(realm, customer, "80.00", invoice_id=theirs["Id"])
    sync()
    [held] = open_exceptions("qbo_payment_unknown_invoice")
    assert held["qbo_id"] == pay["Id"]
    ctl.void_payment(realm, pay["Id"])
    sync()
    # Void: nothing to hold, nothing was counted, nothing to reverse.
    assert open_exceptions("qbo_payment_unknown_invoice") == []
    assert open_exceptions("qbo_void_reversed") == []
    assert [p["source"] for p in ledger_rows()[0]] == ["local"]
