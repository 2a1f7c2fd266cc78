"""Per-company switches and fallbacks, end to end against the simulator: credit memos and
payment push held while off (their ops wait, then go); payment pull off skips payments
recorded in QuickBooks; a fallback item and tax code export an invoice whose service and region
have no mapping, each use a fallback_used warning in the exception list; online payment
flags on invoices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.customers_helpers import map_item
from tests.sync.helpers import link, map_demo, set_config, sim_docs, store_query


def _sync() -> dict[str, Any]:
    return run_json("sync", "run")["data"]["cycles"][0]


def _open(kind: str) -> list[dict[str, Any]]:
    return run_json("exceptions", "list", "--open", "--kind", kind)["data"]


def test_switches_hold_credit_memos_and_payment_push_until_on(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    key = connected_company.key
    map_demo(key)
    set_config(f"companies.{key}.credit_memos", "false")
    set_config(f"companies.{key}.payment_push", "false")
    assert _sync()["result"] == "succeeded"
    assert sim_docs(connected_company.server, "CreditMemo") == []
    assert sim_docs(connected_company.server, "Payment") == []
    held = store_query("SELECT kind, state FROM outbox WHERE state != 'done' ORDER BY kind")
    assert {r["kind"] for r in held} == {"apply_credit", "export_credit_memo", "push_payment"}
    assert link(key, "invoice", "INV-1001") is not None  # invoices went

    set_config(f"companies.{key}.credit_memos", "true")
    set_config(f"companies.{key}.payment_push", "true")
    assert _sync()["result"] == "succeeded"
    assert len(sim_docs(connected_company.server, "CreditMemo")) == 1
    assert sim_docs(connected_company.server, "Payment") != []
    assert store_query("SELECT id FROM outbox WHERE state != 'done'") == []


def test_payment_pull_off_skips_quickbooks_payments(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    company = connected_company
    map_demo(company.key)
    assert _sync()["result"] == "succeeded"
    set_config(f"companies.{company.key}.payment_pull", "false")
    row = link(company.key, "invoice", "INV-1003")
    assert row is not None
    inv = company.control.get(company.realm_id, "Invoice", row["qbo_id"])
    company.control.create(
        company.realm_id,
        "Payment",
        {
            "CustomerRef": {"value": inv["CustomerRef"]["value"]},
            "TotalAmt": "100.00",
            "Line": [
                {"Amount": "100.00", "LinkedTxn": [{"TxnId": row["qbo_id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    cycle = _sync()
    assert cycle["stats"]["payments_applied"] == 0
    assert store_query("SELECT id FROM ledger_payments WHERE source = 'quickbooks'") == []


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_fallback_item_and_tax_code_are_used_and_always_visible(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    item = map_item(company)
    ledger = {
        "version": 1,
        "clients": [{"id": "C-US", "name": "Hudson Bakery", "currency": "USD"}],
        "services": [{"id": "S-NEW", "name": "Brand new service"}],
        "tax_regions": [{"id": "TR-NEW", "name": "New region", "rate": "4"}],
        "invoices": [
            {
                "id": "D-9501",
                "number": "9501",
                "client": "C-US",
                "date": "2026-11-02",
                "status": "finalized",
                "lines": [
                    {
                        "service": "S-NEW",
                        "quantity": "2",
                        "unit_price": "50.00",
                        "tax_region": "TR-NEW",
                    }
                ],
            }
        ],
    }
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", company.key)
    set_config(f"companies.{company.key}.customers.create", "auto")
    set_config(f"companies.{company.key}.online_card_payment", "true")
    set_config(f"companies.{company.key}.online_ach_payment", "true")

    _sync()  # no fallback set: the export waits, named
    assert link(company.key, "invoice", "D-9501") is None
    assert any("S-NEW" in e["message"] for e in _open("export_failing"))
    assert _open("fallback_used") == []

    set_config(f"companies.{company.key}.fallback_item", item)
    set_config(f"companies.{company.key}.fallback_tax_code", "NON")
    [failing] = _open("export_failing")
    run_json("exceptions", "resolve", str(failing["id"]), "--retry")
    cycle = _sync()
    assert cycle["result"] == "succeeded", cycle
    row = link(company.key, "invoice", "D-9501")
    assert row is not None
    sent = company.control.get(company.realm_id, "Invoice", row["qbo_id"])
    [line] = [x for x in sent["Line"] if x.get("DetailType") == "SalesItemLineDetail"]
    assert line["SalesItemLineDetail"]["ItemRef"]["value"] == item
    assert sent["AllowOnlineCreditCardPayment"] is True
    assert sent["AllowOnlineACHPayment"] is True
    [warning] = _open("fallback_used")
    assert "service 'S-NEW'" in warning["message"] and f"sent as {item}" in warning["message"]
    assert "tax region 'TR-NEW'" in warning["message"]
