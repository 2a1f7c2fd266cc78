"""Names resolved against a connected company's live lists (the simulator, in-process)."""

from __future__ import annotations

from typing import Any

from qbsync.mappings.live import open_source
from qbsync.mappings.store import list_mappings
from qbsync.store.database import Database
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SAMPLE_LEDGER, SAMPLE_MAPPINGS, SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json


def _ids_by_name(ws: Workspace, company: str, entity: str) -> dict[str, str]:
    records: list[dict[str, Any]] = open_source(ws, company)(entity, False)
    return {
        str(r.get("FullyQualifiedName") or r.get("Name") or r.get("DisplayName")): r["Id"]
        for r in records
    }


def test_demo_mappings_resolve_against_the_simulator(
    connected_company: ConnectedCompany, ledger_db: Database
) -> None:
    out = run_json("mappings", "import", str(SAMPLE_MAPPINGS))["data"]
    assert len(out["added"]) == 18 and out["written"]
    with Workspace() as ws:
        items = _ids_by_name(ws, "acme", "Item")
        accounts = {
            r["Name"]: (r["Id"], r["AccountType"])
            for r in open_source(ws, "acme")("Account", False)
        }
    got = {(m.kind, m.local_id): (m.qbo_id, m.qbo_name) for m in list_mappings(ledger_db, "acme")}
    assert got[("items", "S-HW")] == (items["Hardware Setup"], "Hardware Setup")
    assert got[("accounts", "deposit")] == (accounts["Checking"][0], "Checking")
    with Workspace() as ws:
        tax_codes = _ids_by_name(ws, "acme", "TaxCode")
    assert got[("tax_codes", "TR-HC")] == (tax_codes["Harbor County"], "Harbor County")
    assert got[("tax_codes", "TR-EX")] == ("NON", None)
    again = run_json("mappings", "import", str(SAMPLE_MAPPINGS))["data"]
    assert not again["written"] and again["unchanged"] == 18

    run_json("ledger", "import", str(SAMPLE_LEDGER))
    assert run_json("mappings", "check")["data"]["missing"] == []


def test_unknown_and_inactive_names_against_the_simulator(
    connected_company: ConnectedCompany,
) -> None:
    wrong = run_json("mappings", "set", "customers", "CL-9", "Acme Dentl", code=2)["error"]
    assert "no QuickBooks Customer named 'Acme Dentl'" in wrong["message"]
    assert "closest: 'Acme Dental'" in wrong["message"]
    inactive = run_json("mappings", "set", "customers", "CL-9", "Evergreen Realty", code=2)
    assert "is inactive" in inactive["error"]["message"]


def test_sample_ledger_and_connected_company_combine(
    sample_ledger: SampleLedger, connected_company: ConnectedCompany
) -> None:
    run_json("mappings", "import", str(SAMPLE_MAPPINGS))
    assert run_json("mappings", "check", "--company", connected_company.key)["data"] == {
        "company": "acme",
        "missing": [],
        "notes": [],
    }
