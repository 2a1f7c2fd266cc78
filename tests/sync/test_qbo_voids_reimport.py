"""What the ledger took off stays off: a billing file imported again after a reversal (a pushed
payment voided in QuickBooks, a credit application deleted there, a void with --unapply) does
not take the rows back, nor push them to QuickBooks again."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import sim_docs
from tests.sync.test_qbo_voids import EXEMPT, exported, exported_row, ledger_rows, qbo_id, sync

__all__ = ["exported"]  # the fixture


def reimport(tmp_path: Path) -> dict[str, dict[str, int]]:
    """The fixture's billing file, imported again unchanged: the counts per kind."""
    out = run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", "acme")
    counts: dict[str, dict[str, int]] = out["data"]["counts"]
    return counts


def test_a_payment_voided_in_quickbooks_is_not_taken_back_by_the_next_import(
    exported: ConnectedCompany, tmp_path: Path
) -> None:
    ctl, realm = exported.control, exported.realm_id
    ctl.void_payment(realm, qbo_id("payment", "PAY-8001"))
    ctl.delete_payment(realm, qbo_id("credit_application", "CA-8001"))
    sync()
    assert ledger_rows() == ([], [])
    payments_before = len(sim_docs(exported.server, "Payment"))

    counts = reimport(tmp_path)
    assert counts["payments"] == {"added": 0, "updated": 0, "unchanged": 0, "reversed": 1}
    assert counts["credit_applications"]["reversed"] == 1
    assert ledger_rows() == ([], [])
    sync()
    assert len(sim_docs(exported.server, "Payment")) == payments_before  # nothing pushed again
    assert Decimal(exported_row(EXEMPT)["balance"]) == Decimal("200.00")


def test_a_void_with_unapply_survives_the_next_import(
    exported: ConnectedCompany, tmp_path: Path
) -> None:
    run_json("invoices", "void", EXEMPT, "--reason", "billing error", "--unapply", "-y")
    # The billing system voids it too, and its file still lists PAY-8001 and CA-8001 on it.
    path = tmp_path / "ledger.json"
    ledger = json.loads(path.read_text("utf-8"))
    for doc in ledger["invoices"]:
        if doc["id"] == EXEMPT:
            doc["status"] = "void"
    path.write_text(json.dumps(ledger), "utf-8")
    counts = reimport(tmp_path)
    assert counts["payments"]["reversed"] == 1 and counts["credit_applications"]["reversed"] == 1
    assert ledger_rows() == ([], [])
    assert run_json("invoices", "show", EXEMPT)["data"]["status"] == "void"
