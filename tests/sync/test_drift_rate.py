"""An exchange rate edited in QuickBooks is drift, like any edit of money: what a document in
another currency comes to in the home currency depends on it. The ledger's rate is kept until
the billing system changes it: `--accept` is refused, `--reexport` sends the ledger's back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run, run_json
from tests.sync.helpers import link, store_execute, store_query
from tests.sync.test_payload_tax import doc, export, item

LEDGER = {
    "clients": [{"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"}],
    "tax_regions": [{"id": "TR-NY", "name": "NY State", "rate": "4"}],
    "invoices": [
        # EUR 99.98 at 4 % = 4.00: 103.98, at 1.1 USD: 114.38
        doc(
            "7601",
            "C-EU",
            [item("S-SUP", "2", "49.99", "TR-NY")],
            currency="EUR",
            exchange_rate="1.1",
        )
    ],
}


def _drift() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = run_json(
        "exceptions", "list", "--open", "--kind", "drift_changed"
    )["data"]
    return found


def _cycle() -> None:
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle


def _exported(company: ConnectedCompany, tmp_path: Path) -> str:
    export(tmp_path, company, LEDGER, {"C-EU": "Berlin Robotics GmbH"}, {"TR-NY": "NY State"})
    linked = link(company.key, "invoice", "D-7601")
    assert linked, "the invoice was not exported"
    return str(linked["qbo_id"])


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_rate_edited_in_quickbooks_is_drift_that_cannot_be_accepted(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    qbo_id = _exported(company, tmp_path)
    company.control.edit(company.realm_id, "Invoice", qbo_id, {"ExchangeRate": "1.5"})
    _cycle()
    [drift] = _drift()
    assert "exchange_rate: 1.1 -> 1.5" in drift["message"]

    refused = run("exceptions", "resolve", str(drift["id"]), "--accept", "--json")
    assert refused.exit_code == 2, refused.stdout
    assert "exchange rate 1.5 there, 1.1 in the ledger" in refused.stdout
    assert [d["id"] for d in _drift()] == [drift["id"]]

    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    _cycle()
    held = company.control.get(company.realm_id, "Invoice", qbo_id)
    assert str(held["ExchangeRate"]) in ("1.1", "1.10")
    assert _drift() == []


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_baseline_stored_before_rates_were_compared_is_completed_not_taken_for_drift(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    qbo_id = _exported(company, tmp_path)
    [row] = store_query("SELECT baseline FROM qbo_links WHERE local_id = 'D-7601'")
    old = json.loads(row["baseline"])
    del old["exchange_rate"]  # as stored by an earlier qbsync
    store_execute("UPDATE qbo_links SET baseline = ? WHERE local_id = 'D-7601'", [json.dumps(old)])
    # An edit that is not of the content (a private note): no drift, and the rate is taken in.
    company.control.edit(company.realm_id, "Invoice", qbo_id, {"PrivateNote": "checked"})
    _cycle()
    assert _drift() == []
    [row] = store_query("SELECT baseline FROM qbo_links WHERE local_id = 'D-7601'")
    assert json.loads(row["baseline"])["exchange_rate"] == "1.1"
    # From then on a rate edit is drift.
    company.control.edit(company.realm_id, "Invoice", qbo_id, {"ExchangeRate": "1.2"})
    _cycle()
    [drift] = _drift()
    assert "exchange_rate: 1.1 -> 1.2" in drift["message"]
