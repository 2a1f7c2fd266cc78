"""Payments made in QuickBooks, counted once: a payment split over several invoices settles each
by its own line (with or without an unapplied remainder), edits that move money between the
invoices and deletes are followed exactly. End to end: the real CLI, the simulator in-process
acting as a QuickBooks user, a generated ledger of one-line exempt invoices."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import generated_ledger, link, map_demo, store_query

# Generated invoices 5001 and 5005 both bill CL-1 (clients go round by four).
FIRST, SECOND = "INV-5001", "INV-5005"


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    return cycle


def paid(invoice: str) -> Decimal:
    return Decimal(run_json("invoices", "show", invoice)["data"]["paid"])


def qbo_rows(qbo_id: str) -> list[tuple[str, str]]:
    return [
        (r["invoice_id"], r["amount"])
        for r in store_query(
            "SELECT invoice_id, amount FROM ledger_payments WHERE source = 'quickbooks' "
            "AND qbo_id = ? ORDER BY invoice_id",
            [qbo_id],
        )
    ]


def lines(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"Amount": amount, "LinkedTxn": [{"TxnId": qbo_id, "TxnType": "Invoice"}]}
        for qbo_id, amount in pairs
    ]


@pytest.fixture
def exported(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> ConnectedCompany:
    generated_ledger(tmp_path / "ledger.json", 8)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", ledger_company)
    map_demo(connected_company.key)
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    return connected_company


def _qbo_invoice(company: ConnectedCompany, local_id: str) -> tuple[str, str]:
    """(QuickBooks invoice id, its customer id)."""
    row = link(company.key, "invoice", local_id)
    assert row
    doc = company.control.get(company.realm_id, "Invoice", row["qbo_id"])
    return row["qbo_id"], doc["CustomerRef"]["value"]


def test_split_payment_settles_each_invoice_and_sync_keeps_running(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    first, customer = _qbo_invoice(exported, FIRST)
    second, other = _qbo_invoice(exported, SECOND)
    assert customer == other
    payment = ctl.create(
        realm,
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": "100.00",
            "Line": lines((first, "60.00"), (second, "40.00")),
        },
    )
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    assert qbo_rows(payment["Id"]) == [(FIRST, "60.00"), (SECOND, "40.00")]
    assert (paid(FIRST), paid(SECOND)) == (Decimal("60.00"), Decimal("40.00"))
    # Every later cycle runs, and counts nothing again.
    again = sync()
    assert again["result"] == "succeeded", again
    assert again["stats"]["payments_applied"] == 0
    assert (paid(FIRST), paid(SECOND)) == (Decimal("60.00"), Decimal("40.00"))


def test_split_payment_with_unapplied_remainder(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    first, customer = _qbo_invoice(exported, FIRST)
    second, _ = _qbo_invoice(exported, SECOND)
    payment = ctl.create(
        realm,
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": "125.00",
            "Line": lines((first, "60.00"), (second, "40.00")),
        },
    )
    assert Decimal(str(ctl.get(realm, "Payment", payment["Id"])["UnappliedAmt"])) == Decimal(
        "25.00"
    )
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    # The 25.00 QuickBooks holds unapplied settles no invoice in the ledger.
    assert qbo_rows(payment["Id"]) == [(FIRST, "60.00"), (SECOND, "40.00")]
    assert sync()["result"] == "succeeded"


def test_edit_moving_money_between_invoices_and_delete_are_followed(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    first, customer = _qbo_invoice(exported, FIRST)
    second, _ = _qbo_invoice(exported, SECOND)
    payment = ctl.create(
        realm,
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": "100.00",
            "Line": lines((first, "60.00"), (second, "40.00")),
        },
    )
    assert sync()["result"] == "succeeded"

    # The accountant moves 30.00 from the first invoice to the second.
    ctl.edit_payment(
        realm,
        payment["Id"],
        {"TotalAmt": "100.00", "Line": lines((first, "30.00"), (second, "70.00"))},
    )
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    assert qbo_rows(payment["Id"]) == [(FIRST, "30.00"), (SECOND, "70.00")]
    assert (paid(FIRST), paid(SECOND)) == (Decimal("30.00"), Decimal("70.00"))

    # Then all of it onto the second invoice: the first invoice's row goes.
    ctl.edit_payment(
        realm, payment["Id"], {"TotalAmt": "100.00", "Line": lines((second, "100.00"))}
    )
    assert sync()["result"] == "succeeded"
    assert qbo_rows(payment["Id"]) == [(SECOND, "100.00")]
    assert (paid(FIRST), paid(SECOND)) == (Decimal("0"), Decimal("100.00"))

    ctl.delete_payment(realm, payment["Id"])
    assert sync()["result"] == "succeeded"
    assert qbo_rows(payment["Id"]) == []
    assert (paid(FIRST), paid(SECOND)) == (Decimal("0"), Decimal("0"))


def test_split_payment_voided_in_quickbooks_settles_nothing(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    first, customer = _qbo_invoice(exported, FIRST)
    second, _ = _qbo_invoice(exported, SECOND)
    payment = ctl.create(
        realm,
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": "100.00",
            "Line": lines((first, "60.00"), (second, "40.00")),
        },
    )
    assert sync()["result"] == "succeeded"
    ctl.void_payment(realm, payment["Id"])
    assert sync()["result"] == "succeeded"
    assert qbo_rows(payment["Id"]) == []
    assert (paid(FIRST), paid(SECOND)) == (Decimal("0"), Decimal("0"))
    exported_rows = run_json("ledger", "export", "payments")["data"]
    assert [r for r in exported_rows if r["qbo_id"] == payment["Id"]] == []
