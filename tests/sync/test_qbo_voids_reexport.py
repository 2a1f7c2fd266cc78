"""Re-export after a QuickBooks-side edit restores every field qbsync sends, the due date
included; when QuickBooks does not take a field back, the drift stays open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import SAMPLE_LISTS, link, map_demo

DATED, TERMED = "INV-8101", "INV-8102"


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    return cycle


def _doc(id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "number": id.split("-")[1],
        "client": "CL-2",
        "date": "2026-10-05",
        "status": "finalized",
        "lines": [
            {"service": "S-HOURS", "quantity": 2, "unit_price": "75.00", "tax_region": "TR-EX"}
        ],
        **extra,
    }


def qbo_id(local_id: str) -> str:
    row = link("acme", "invoice", local_id)
    assert row, local_id
    return str(row["qbo_id"])


def drifts() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_json(
        "exceptions", "list", "--open", "--kind", "drift_changed"
    )["data"]
    return rows


@pytest.fixture
def exported(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> ConnectedCompany:
    """One invoice with its own due date, one whose due date QuickBooks works out from Net 30."""
    path = tmp_path / "ledger.json"
    docs = [_doc(DATED, due_date="2026-11-20"), _doc(TERMED, terms="T-30")]
    path.write_text(json.dumps({"version": 1, **SAMPLE_LISTS, "invoices": docs}), "utf-8")
    run_json("ledger", "import", str(path), "--company", ledger_company)
    map_demo(connected_company.key)
    sync()
    return connected_company


def _edit_due_date(company: ConnectedCompany, local_id: str, due: str) -> str:
    """Edit the due date in QuickBooks as a user would; returns the one it had."""
    ctl, realm = company.control, company.realm_id
    before = str(ctl.get(realm, "Invoice", qbo_id(local_id))["DueDate"])
    ctl.edit_invoice(realm, qbo_id(local_id), {"DueDate": due})
    return before


@pytest.mark.parametrize("local_id", [DATED, TERMED])
def test_reexport_restores_the_due_date(exported: ConnectedCompany, local_id: str) -> None:
    ctl, realm = exported.control, exported.realm_id
    due = _edit_due_date(exported, local_id, "2027-03-01")
    if local_id == DATED:
        assert due == "2026-11-20"
    sync()
    [drift] = drifts()
    assert "due_date" in drift["message"], drift
    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    assert ctl.get(realm, "Invoice", qbo_id(local_id))["DueDate"] == due
    assert drifts() == []
    sync()
    assert drifts() == []


def test_reexport_that_cannot_restore_leaves_the_drift_open(
    exported: ConnectedCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, realm = exported.control, exported.realm_id
    _edit_due_date(exported, DATED, "2027-03-01")
    sync()
    [drift] = drifts()

    # QuickBooks refuses the update: nothing changed there, the drift stays open.
    ctl.inject_fault("/v3/company/*/invoice*", method="POST", status=400, code="6000", count=1)
    refused = run("exceptions", "resolve", str(drift["id"]), "--reexport")
    assert refused.exit_code == 2, (refused.stdout, refused.stderr)
    assert [d["id"] for d in drifts()] == [drift["id"]]
    ctl.clear_faults()

    # QuickBooks takes the update but answers with the due date it already held (a company
    # that keeps the due date it worked out): the drift stays open and says which field.
    company = exported.server.sim.company(realm)
    update = company.update

    def keep_due_date(entity: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return update(entity, {k: v for k, v in body.items() if k != "DueDate"}, **kw)

    monkeypatch.setattr(company, "update", keep_due_date)
    missed = run("exceptions", "resolve", str(drift["id"]), "--reexport")
    assert missed.exit_code == 2, (missed.stdout, missed.stderr)
    assert "due_date: sent 2026-11-20, QuickBooks holds 2027-03-01" in missed.stderr
    assert [d["id"] for d in drifts()] == [drift["id"]]
    assert ctl.get(realm, "Invoice", qbo_id(DATED))["DueDate"] == "2027-03-01"
    sync()
    assert [d["id"] for d in drifts()] == [drift["id"]]

    # Once QuickBooks takes it, the same command resolves it.
    monkeypatch.setattr(company, "update", update)
    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    assert ctl.get(realm, "Invoice", qbo_id(DATED))["DueDate"] == "2026-11-20"
    assert drifts() == []
    assert run_json("exceptions", "list", "--open")["data"] == []
