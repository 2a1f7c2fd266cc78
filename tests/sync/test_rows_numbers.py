"""`numbering: quickbooks`: QuickBooks numbers what qbsync creates, and the number it gave comes
back to the ledger, so that `ledger export invoices` hands it to billing (qbo_number). End to
end against the simulator in-process, its company numbering sales forms itself."""

from __future__ import annotations

import csv
import io

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo


def test_the_number_quickbooks_assigned_reaches_the_ledger_export(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    ctl, realm = connected_company.control, connected_company.realm_id
    ctl.set_preferences(realm, {"SalesFormsPrefs": {"CustomTxnNumbers": False}})
    run_json("config", "set", "companies.acme.numbering", "quickbooks")
    ids = map_demo(connected_company.key)
    # Keyed by hand earlier: QuickBooks continues its sequence from the highest number used.
    ctl.create(
        realm,
        "Invoice",
        {
            "DocNumber": "7000",
            "CustomerRef": {"value": ids[("Customer", "Delta Logistics")]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "10.00",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": ids[("Item", "Managed Services")]}
                    },
                }
            ],
        },
    )
    before = {r["id"]: r for r in run_json("ledger", "export", "invoices")["data"]}
    assert before["INV-1001"]["qbo_number"] is None  # not in QuickBooks yet

    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle

    rows = {r["id"]: r for r in run_json("ledger", "export", "invoices")["data"]}
    assigned = {}
    for invoice_id, entity in (
        ("INV-1001", "Invoice"),
        ("INV-1002", "Invoice"),
        ("INV-1003", "Invoice"),
        ("CN-2001", "CreditMemo"),
    ):
        row = link(connected_company.key, "invoice", invoice_id)
        assert row is not None
        number = ctl.get(realm, entity, row["qbo_id"])["DocNumber"]
        assert number, f"QuickBooks gave {invoice_id} no number"
        assigned[invoice_id] = number
        assert rows[invoice_id]["qbo_number"] == number
        assert rows[invoice_id]["qbo_id"] == row["qbo_id"]
    # QuickBooks' own sequence, not the ledger's numbers (1001, 1002, ...)
    assert sorted(assigned.values()) == ["7001", "7002", "7003", "7004"]
    assert rows["INV-1001"]["number"] == "1001"

    text = run("ledger", "export", "invoices", "--format", "csv").stdout
    parsed = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert parsed["INV-1002"]["qbo_number"] == assigned["INV-1002"]
    # `--since` today hands the numbered documents over again (their number changed).
    today = run_json("status")["data"]["companies"][0]["last_cycle"]["started_at"][:10]
    since = {r["id"] for r in run_json("ledger", "export", "invoices", "--since", today)["data"]}
    assert since >= set(assigned)


def test_with_ledger_numbering_nothing_is_brought_back(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    map_demo(connected_company.key)
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"
    rows = {r["id"]: r for r in run_json("ledger", "export", "invoices")["data"]}
    assert rows["INV-1001"]["qbo_id"] is not None
    assert rows["INV-1001"]["qbo_number"] is None
