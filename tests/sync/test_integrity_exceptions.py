"""Exceptions close themselves when their cause is gone: a pushed payment left unapplied in
QuickBooks closes once the accountant applies the rest there; drift about an invoice deleted in
QuickBooks closes once the ledger voids it. End to end: the real CLI and the
simulator in-process acting as the accountant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import link, map_demo


def sync(code: int = 0) -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run", code=code)["data"]["cycles"][0]
    return cycle


def open_exceptions(kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = run_json("exceptions", "list", "--open", "--kind", kind)["data"]
    return found


@pytest.fixture
def synced(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    map_demo(connected_company.key)
    assert sync()["result"] == "succeeded"
    return connected_company


def test_unapplied_pushed_payment_closes_once_applied_in_quickbooks(
    synced: ConnectedCompany,
) -> None:
    ctl, realm = synced.control, synced.realm_id
    inv = link(synced.key, "invoice", "INV-1003")
    assert inv
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    customer = doc["CustomerRef"]["value"]
    # QuickBooks already took all but 100.00; the ledger pushes 300.00 before it has read that.
    ctl.record_payment(
        realm, customer, str(Decimal(str(doc["Balance"])) - 100), invoice_id=inv["qbo_id"]
    )
    run_json(
        "payments", "record", "--invoice", "INV-1003", "--amount", "300.00",
        "--date", "2026-11-02", "--method", "check", "--id", "PAY-BIG",
    )  # fmt: skip
    ctl.inject_fault("/v3/company/*/cdc*", method="GET", status=503, count=20)
    sync(code=1)  # inbound cannot read; the push goes out
    ctl.clear_faults()
    pay = link(synced.key, "payment", "PAY-BIG")
    assert pay
    [unapplied] = open_exceptions("pushed_payment_unapplied")
    assert unapplied["subject_id"] == "PAY-BIG" and "200.00" in unapplied["message"]
    sync()
    assert len(open_exceptions("pushed_payment_unapplied")) == 1  # still unapplied: stays open

    # The accountant applies the 200.00 in QuickBooks, to another invoice of Cedar Clinic.
    other = ctl.create(
        realm,
        "Invoice",
        {
            "CustomerRef": {"value": customer},
            "Line": [
                {
                    "Amount": "200.00",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {
                            "value": doc["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
                        },
                        "Qty": 1,
                        "UnitPrice": "200.00",
                    },
                }
            ],
        },
    )
    payment = ctl.get(realm, "Payment", pay["qbo_id"])
    ctl.edit_payment(
        realm,
        pay["qbo_id"],
        {
            "Line": [
                *payment["Line"],
                {"Amount": "200.00", "LinkedTxn": [{"TxnId": other["Id"], "TxnType": "Invoice"}]},
            ]
        },
    )
    assert Decimal(str(ctl.get(realm, "Payment", pay["qbo_id"])["UnappliedAmt"])) == 0
    sync()
    assert open_exceptions("pushed_payment_unapplied") == []
    [closed] = [
        e
        for e in run_json("exceptions", "list", "--kind", "pushed_payment_unapplied")["data"]
        if e["id"] == unapplied["id"]
    ]
    assert closed["status"] == "resolved" and closed["resolution"] == "auto", closed


def test_drift_for_a_deleted_invoice_closes_once_the_ledger_voids_it(
    synced: ConnectedCompany,
) -> None:
    ctl, realm = synced.control, synced.realm_id
    inv = link(synced.key, "invoice", "INV-1003")
    assert inv
    ctl.delete_invoice(realm, inv["qbo_id"])
    sync()
    [drift] = open_exceptions("drift_voided_or_deleted")
    assert drift["subject_id"] == "INV-1003" and "deleted" in drift["message"]
    sync()
    assert len(open_exceptions("drift_voided_or_deleted")) == 1  # the ledger still counts it

    # The billing side voids it in the ledger (not through the exception): the cause is gone.
    run_json(
        "invoices", "void", "INV-1003", "--reason", "deleted in QuickBooks by the accountant", "-y"
    )
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    assert open_exceptions("drift_voided_or_deleted") == []
    [closed] = [
        e
        for e in run_json("exceptions", "list", "--kind", "drift_voided_or_deleted")["data"]
        if e["id"] == drift["id"]
    ]
    assert closed["status"] == "resolved" and closed["resolution"] == "auto", closed
    assert run_json("invoices", "show", "INV-1003")["data"]["status"] == "void"
