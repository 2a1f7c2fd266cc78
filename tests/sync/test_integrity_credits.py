"""Credits are credits: a QuickBooks Payment that only moves credit (a credit memo line, no
cash), whether the accountant applies the credit or QuickBooks' AutoApplyCredit does, becomes a
credit application in the ledger, never a payment, and `ledger export payments` never lists it
as money received. End to end: the real CLI and the simulator in-process as a QuickBooks user."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import SAMPLE_LISTS, link, map_demo, store_query


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    return cycle


def _doc(id: str, amount: str, kind: str = "standard") -> dict[str, Any]:
    return {
        "id": id,
        "number": id,
        "type": kind,
        "client": "CL-1",
        "date": "2026-10-05",
        "status": "finalized",
        "lines": [
            {"service": "S-HOURS", "quantity": 1, "unit_price": amount, "tax_region": "TR-EX"}
        ],
    }


def _import(path: Path, company: str, docs: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"version": 1, **SAMPLE_LISTS, "invoices": docs}), "utf-8")
    run_json("ledger", "import", str(path), "--company", company)


def qbo_payment_rows() -> list[dict[str, Any]]:
    return store_query("SELECT * FROM ledger_payments WHERE source = 'quickbooks'")


def applications(invoice: str) -> list[tuple[str, str]]:
    return [
        (r["credit_note_id"], r["amount"])
        for r in store_query(
            "SELECT credit_note_id, amount FROM ledger_credit_applications WHERE invoice_id = ? "
            "ORDER BY credit_note_id",
            [invoice],
        )
    ]


def exported_payments() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_json("ledger", "export", "payments")["data"]
    return rows


def settled(invoice: str) -> tuple[Decimal, Decimal, Decimal]:
    """(paid, credited, balance) of the invoice, as `ledger export invoices` hands them over."""
    [row] = [r for r in run_json("ledger", "export", "invoices")["data"] if r["id"] == invoice]
    return Decimal(row["paid"]), Decimal(row["credited"]), Decimal(row["balance"])


def qbo_id(company: ConnectedCompany, local_id: str) -> str:
    row = link(company.key, "invoice", local_id)
    assert row, local_id
    return str(row["qbo_id"])


@pytest.fixture
def exported(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> ConnectedCompany:
    """An invoice of 200.00 and an unapplied credit note of 30.00 for one client, exported,
    AutoApplyCredit off (so the credit stays open in QuickBooks)."""
    connected_company.control.set_preferences(
        connected_company.realm_id, {"SalesFormsPrefs": {"AutoApplyCredit": False}}
    )
    _import(
        tmp_path / "ledger.json",
        ledger_company,
        [_doc("INV-7001", "200.00"), _doc("CN-7001", "30.00", "credit_note")],
    )
    map_demo(connected_company.key)
    sync()
    return connected_company


def test_credit_applied_in_quickbooks_is_a_credit_application(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    invoice, memo = qbo_id(exported, "INV-7001"), qbo_id(exported, "CN-7001")
    customer = ctl.get(realm, "Invoice", invoice)["CustomerRef"]["value"]
    moved = ctl.record_payment(realm, customer, "0", invoice_id=invoice, credit_memo_ids=[memo])
    assert Decimal(str(moved["TotalAmt"])) == 0
    sync()
    assert qbo_payment_rows() == []
    assert applications("INV-7001") == [("CN-7001", "30.00")]
    assert settled("INV-7001") == (Decimal("0"), Decimal("30.00"), Decimal("170.00"))
    assert exported_payments() == []
    # Read again: counted once.
    sync()
    assert applications("INV-7001") == [("CN-7001", "30.00")]
    # Deleted in QuickBooks: the credit is open again in the ledger.
    ctl.delete_payment(realm, moved["Id"])
    sync()
    assert applications("INV-7001") == []
    assert settled("INV-7001") == (Decimal("0"), Decimal("0"), Decimal("200.00"))


def test_cash_and_credit_in_one_payment_are_counted_apart(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    invoice, memo = qbo_id(exported, "INV-7001"), qbo_id(exported, "CN-7001")
    customer = ctl.get(realm, "Invoice", invoice)["CustomerRef"]["value"]
    ctl.record_payment(realm, customer, "50.00", invoice_id=invoice, credit_memo_ids=[memo])
    sync()
    assert [(r["invoice_id"], r["amount"]) for r in qbo_payment_rows()] == [("INV-7001", "50.00")]
    assert applications("INV-7001") == [("CN-7001", "30.00")]
    assert [(r["invoice"], r["amount"]) for r in exported_payments()] == [("INV-7001", "50.00")]
    assert settled("INV-7001") == (Decimal("50.00"), Decimal("30.00"), Decimal("120.00"))


def test_auto_applied_credit_is_never_money_received(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> None:
    ctl, realm = connected_company.control, connected_company.realm_id
    ctl.set_preferences(realm, {"SalesFormsPrefs": {"AutoApplyCredit": True}})
    _import(tmp_path / "notes.json", ledger_company, [_doc("CN-7002", "40.00", "credit_note")])
    map_demo(connected_company.key)
    sync()
    # The invoice follows; QuickBooks spends the open credit on it by itself.
    _import(tmp_path / "invoices.json", ledger_company, [_doc("INV-7002", "100.00")])
    sync()
    sync()  # the application QuickBooks made is read back
    memo = qbo_id(connected_company, "CN-7002")
    spent = Decimal(str(ctl.get(realm, "CreditMemo", memo)["RemainingCredit"]))
    assert spent == 0
    assert qbo_payment_rows() == []
    assert applications("INV-7002") == [("CN-7002", "40.00")]
    assert exported_payments() == []
    assert settled("INV-7002") == (Decimal("0"), Decimal("40.00"), Decimal("60.00"))


def test_credit_memo_the_ledger_does_not_know_is_never_counted_as_cash(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    invoice = qbo_id(exported, "INV-7001")
    doc = ctl.get(realm, "Invoice", invoice)
    customer = doc["CustomerRef"]["value"]
    item = doc["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    # Keyed into QuickBooks by hand: the ledger has no credit note for it.
    memo = ctl.create(
        realm,
        "CreditMemo",
        {
            "CustomerRef": {"value": customer},
            "Line": [
                {
                    "Amount": "25.00",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item},
                        "Qty": 1,
                        "UnitPrice": "25.00",
                    },
                }
            ],
        },
    )
    moved = ctl.record_payment(
        realm, customer, "0", invoice_id=invoice, credit_memo_ids=[memo["Id"]]
    )
    sync()
    assert qbo_payment_rows() == []
    assert applications("INV-7001") == []
    assert exported_payments() == []
    [held] = run_json("exceptions", "list", "--open", "--kind", "qbo_payment_unknown_invoice")[
        "data"
    ]
    assert held["qbo_id"] == moved["Id"] and f"credit memo {memo['Id']}" in held["message"], held
