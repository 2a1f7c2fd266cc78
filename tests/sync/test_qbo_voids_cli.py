"""`invoices void --unapply`: a document with money against it is voided anyway, its payments
and credit taken off in the ledger in the same transaction and listed; without the flag the
refusal stands and names the flag. The void then reaches QuickBooks, and nothing is counted
again when QuickBooks unapplies what it held there."""

from __future__ import annotations

from decimal import Decimal

from qbsync.sim.control import SimControlError
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
    application = qbo_id("credit_application", "CA-8001")  # its zero Payment in QuickBooks
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
    # The credit's zero Payment is gone, the credit back on its memo. The payments stay in
    # QuickBooks as the customer's credit (refunded or moved there by a person), so the
    # receivables do not tie here by design.
    assert _gone_from_quickbooks(exported, "Payment", application)


def _gone_from_quickbooks(company: ConnectedCompany, entity: str, qbo: str) -> bool:
    try:
        company.control.get(company.realm_id, entity, qbo)
    except SimControlError as err:  # as QuickBooks answers a deleted object: fault 610
        assert [e["code"] for e in err.body["Fault"]["Error"]] == ["610"], err
        return True
    return False


def _books_tie() -> None:
    result = run("reconcile")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_void_unapply_on_an_applied_credit_note(exported: ConnectedCompany) -> None:
    application = qbo_id("credit_application", "CA-8001")  # its zero Payment in QuickBooks
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
    # The Payment that applied the credit is gone from QuickBooks too: the invoice owes the 30.00
    # again there, as in the ledger, and no Payment of qbsync's is left joining nothing.
    assert _gone_from_quickbooks(exported, "Payment", application)
    invoice = exported.control.get(exported.realm_id, "Invoice", qbo_id("invoice", EXEMPT))
    assert Decimal(str(invoice["Balance"])) == Decimal(
        run_json("invoices", "show", EXEMPT)["data"]["balance"]
    )
    sync()
    assert ledger_rows()[1] == []
    assert run_json("exceptions", "list", "--open")["data"] == []
    _books_tie()
