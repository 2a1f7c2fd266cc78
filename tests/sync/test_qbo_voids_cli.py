"""`invoices void --unapply`: a document with money against it is voided anyway, its payments
and credit taken off in the ledger in the same transaction and listed; without the flag the
refusal stands and names the flag. The void then reaches QuickBooks, and nothing is counted
again when QuickBooks unapplies what it held there."""

from __future__ import annotations

from decimal import Decimal

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import store_query
from tests.sync.test_qbo_voids import (
    EXEMPT,
    NOTE,
    TAXED,
    _customer,
    exported,
    ledger_rows,
    paid,
    qbo_id,
    sync,
)

__all__ = ["exported"]  # the fixture


def test_void_refused_without_the_flag_names_it(exported: ConnectedCompany) -> None:
    result = run("invoices", "void", EXEMPT, "--reason", "billing error", "-y")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "50.00 paid and 30.00 credited" in result.stderr, result.stderr
    assert "--unapply" in result.stderr, result.stderr
    assert run_json("invoices", "show", EXEMPT)["data"]["status"] == "finalized"


def test_void_unapply_takes_the_money_off_then_voids_everywhere(
    exported: ConnectedCompany,
) -> None:
    ctl, realm = exported.control, exported.realm_id
    pay = ctl.record_payment(
        realm, _customer(exported), "20.00", invoice_id=qbo_id("invoice", EXEMPT)
    )
    sync()
    assert paid(EXEMPT) == Decimal("70.00")

    out = run_json("invoices", "void", EXEMPT, "--reason", "billing error", "--unapply", "-y")[
        "data"
    ]
    assert out["status"] == "void"
    taken = out["unapplied"]
    assert taken["total"] == "100.00"
    assert sorted((p["id"], p["amount"]) for p in taken["payments"]) == [
        ("PAY-8001", "50.00"),
        (f"qbo-{pay['Id']}-{qbo_id('invoice', EXEMPT)}", "20.00"),
    ]
    assert [(c["id"], c["amount"]) for c in taken["credits"]] == [("CA-8001", "30.00")]
    assert "PAY-8001 of 50.00" in out["unapplied_text"]
    payments, credits = ledger_rows()
    assert payments == [] and credits == []

    sync()
    doc = ctl.get(realm, "Invoice", qbo_id("invoice", EXEMPT))
    assert Decimal(str(doc["TotalAmt"])) == 0 and (doc.get("PrivateNote") or "").startswith(
        "Voided"
    )
    # QuickBooks unapplied both payments: nothing comes back into the ledger, nothing is raised.
    sync()
    assert ledger_rows() == ([], [])
    assert run_json("exceptions", "list", "--open")["data"] == []
    assert paid(TAXED) == 0


def test_void_unapply_on_an_applied_credit_note(exported: ConnectedCompany) -> None:
    out = run_json("invoices", "void", NOTE, "--reason", "issued twice", "--unapply", "-y")["data"]
    assert [(c["id"], c["invoice_id"]) for c in out["unapplied"]["credits"]] == [
        ("CA-8001", EXEMPT)
    ]
    assert out["unapplied"]["payments"] == []
    assert ledger_rows()[1] == []
    sync()
    row = store_query(
        "SELECT state FROM qbo_links WHERE local_type = 'invoice' AND local_id = ?", [NOTE]
    )
    assert row == [{"state": "deleted"}]
    sync()
    assert ledger_rows()[1] == []
    assert run_json("exceptions", "list", "--open")["data"] == []
