"""Inbound windows at their limits: more than 1000 changes in one change-feed window (split,
never skipped), and a cursor older than the change feed reaches back (queries instead)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from qbsync.timeutil import parse_iso
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import (
    generated_ledger,
    link,
    map_demo,
    store_execute,
    store_query,
)


def sync() -> dict[str, Any]:
    data: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    return data


@pytest.fixture
def synced(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    map_demo(connected_company.key)
    assert sync()["result"] == "succeeded"
    return connected_company


def cdc_calls(company: ConnectedCompany) -> int:
    return int(company.control.counts(company.realm_id)["endpoints"].get("cdc", 0))


def changed_at(obj: dict[str, Any]) -> dt.datetime:
    return parse_iso(obj["MetaData"]["LastUpdatedTime"])


def first_read(company: ConnectedCompany, endpoint: str) -> dt.datetime:
    """When the cycle first read QuickBooks (the simulator logs each request's time)."""
    return min(
        parse_iso(e["at"]) for e in company.control.request_log() if e["endpoint"] == endpoint
    )


def assert_cursor_rule(
    before: str, cycle: dict[str, Any], last_change: dt.datetime, read_at: dt.datetime
) -> None:
    """DESIGN.md rule 1, at the precision the cursor is stored (seconds): it never moves back,
    never past the time the cycle started reading, and it covers the changes made before that
    read (which the caller checks were applied). Within one second these may all be equal, so
    every comparison is inclusive."""
    cursor = parse_iso(cycle["cursor_after"])
    assert parse_iso(before) <= last_change <= cursor <= read_at, (before, cycle, last_change)


@pytest.mark.slow
def test_2500_changes_in_one_window_are_all_applied(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> None:
    company = connected_company
    sim, realm = company.server.sim, company.realm_id
    generated_ledger(tmp_path / "ledger.json", 250)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", ledger_company)
    map_demo(company.key)
    assert sync()["stats"]["exported"] == 250
    invoices = store_query(
        "SELECT local_id, qbo_id FROM qbo_links WHERE local_type = 'invoice' ORDER BY local_id"
    )
    # 2,500 payments made in QuickBooks, ten on each invoice (the simulator slows down with
    # thousands of payments on a single invoice), all inside one change-feed window.
    made: dict[str, str] = {}
    last_change = dt.datetime.min.replace(tzinfo=dt.UTC)
    for _ in range(10):
        for row in invoices:
            doc = sim.get(realm, "Invoice", row["qbo_id"])
            pay = sim.record_payment(
                realm, doc["CustomerRef"]["value"], "0.01", invoice_id=row["qbo_id"]
            )
            made[pay["Id"]] = row["local_id"]
            last_change = max(last_change, changed_at(pay))
    assert len(made) == 2500
    before = run_json("sync", "status")["data"]["cursor_after"]
    company.control.clear_request_log()
    calls = cdc_calls(company)
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    assert cdc_calls(company) - calls >= 3  # capped at 1000 per answer: the window was split
    assert cycle["stats"]["payments_applied"] == 2500
    assert cycle["stats"]["inbound_changes"] >= 2500 + 250  # the invoices' balances moved too
    applied = store_query(
        "SELECT qbo_id, invoice_id, amount FROM ledger_payments WHERE source = 'quickbooks'"
    )
    assert len(applied) == 2500
    assert {r["qbo_id"]: r["invoice_id"] for r in applied} == made
    assert {r["amount"] for r in applied} == {"0.01"}
    paid = run_json("invoices", "show", "INV-5001")["data"]["paid"]
    assert paid == "0.10"
    assert_cursor_rule(before, cycle, last_change, first_read(company, "cdc"))
    # The next cycle re-reads the overlap and counts nothing twice.
    again = sync()
    assert again["stats"]["payments_applied"] == 0
    assert len(store_query("SELECT id FROM ledger_payments WHERE source = 'quickbooks'")) == 2500


def test_a_cursor_older_than_30_days_falls_back_to_queries(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31)).replace(microsecond=0)
    store_execute("UPDATE sync_cursors SET cursor = ?", [old.isoformat()])
    inv = link(synced.key, "invoice", "INV-1003")
    assert inv
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    pay = ctl.record_payment(realm, doc["CustomerRef"]["value"], "75.00", invoice_id=inv["qbo_id"])
    ctl.clear_request_log()
    cycle = sync()
    assert cycle["result"] == "succeeded", cycle
    assert parse_iso(cycle["cursor_before"]) == old
    log = ctl.request_log()
    endpoints = [e["endpoint"] for e in log]
    assert "cdc" not in endpoints
    queries = [e["query"] for e in log if e["endpoint"] == "query"]
    # Changes by LastUpdatedTime; then the ids QuickBooks holds, to find deletions.
    by_time = [q for q in queries if "LastUpdatedTime" in q]
    assert by_time and all("WHERE" not in q for q in queries if q not in by_time)
    assert cycle["stats"]["payments_applied"] == 1
    show = run_json("invoices", "show", "INV-1003")["data"]
    assert [(p["amount"], p["source"]) for p in show["payments"]] == [("75.00", "quickbooks")]
    assert_cursor_rule(old.isoformat(), cycle, changed_at(pay), first_read(synced, "query"))
    # Back on the change feed from there.
    ctl.clear_request_log()
    sync()
    assert [e["endpoint"] for e in ctl.request_log()] == ["cdc"]
