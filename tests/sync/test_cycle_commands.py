"""Cron and the daemon on one company, and the cycle's commands: retry, cancel, status,
history, --dry-run, --all."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany, connect_realm
from tests.support import run, run_json
from tests.sync.helpers import (
    generated_ledger,
    map_demo,
    set_config,
    sim_docs,
    start_cli,
    store_query,
    wait_for_cycle,
)


def sync(*extra: str) -> dict[str, Any]:
    data: dict[str, Any] = run_json("sync", "run", *extra)["data"]["cycles"][0]
    return data


def cycle_row(cycle_id: int) -> dict[str, Any]:
    [row] = store_query("SELECT * FROM sync_cycles WHERE id = ?", [cycle_id])
    return row


@pytest.fixture
def slow_export(file_company: ConnectedCompany, tmp_path: Path) -> ConnectedCompany:
    """300 invoices queued, and a simulator slow enough that exporting them takes seconds."""
    generated_ledger(tmp_path / "ledger.json", 300)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", file_company.key)
    map_demo(file_company.key)
    file_company.control.set_latency(per_request_ms=20, per_batch_item_ms=25)
    return file_company


@pytest.mark.slow
@pytest.mark.e2e
def test_cron_and_the_daemon_on_one_company(slow_export: ConnectedCompany) -> None:
    daemon = start_cli("daemon", "--interval", "1h", "--quiet")
    try:
        cycle_id = wait_for_cycle(daemon)
        cron = run("sync", "run", "--json")
        assert cron.exit_code == 75, cron.stdout
        error = json.loads(cron.stdout)["error"]
        assert f"pid {daemon.pid}" in error["message"] and "daemon" in error["message"]
        assert cycle_row(cycle_id)["result"] == "running"
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        out, err = daemon.communicate()
    assert daemon.returncode == 0, (out, err)
    row = cycle_row(cycle_id)
    assert row["result"] in ("succeeded", "cancelled") and row["finished_at"], row
    assert store_query("SELECT id FROM outbox WHERE state = 'in_progress'") == []
    exported = len(sim_docs(slow_export.server, "Invoice"))
    # The lock is free again: cron's next run takes it and finishes the work.
    slow_export.control.set_latency(0, 0)
    assert sync()["result"] == "succeeded"
    assert len(sim_docs(slow_export.server, "Invoice")) == 300 >= exported


@pytest.mark.slow
@pytest.mark.e2e
def test_sync_cancel_stops_a_running_cycle_at_an_op_boundary(
    slow_export: ConnectedCompany,
) -> None:
    proc = start_cli("sync", "run", "--json")
    try:
        cycle_id = wait_for_cycle(proc)
        time.sleep(0.3)
        asked = run_json("sync", "cancel", str(cycle_id))["data"]
        assert asked["cancel_requested"] is True
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = json.loads(out)["data"]["cycles"][0]
    assert data["result"] == "cancelled", (out, err)
    row = cycle_row(cycle_id)
    assert row["result"] == "cancelled" and row["finished_at"]
    exported = len(sim_docs(slow_export.server, "Invoice"))
    assert 0 <= exported < 300
    states = {r["state"] for r in store_query("SELECT state FROM outbox")}
    assert "in_progress" not in states and "pending" in states
    linked = store_query("SELECT COUNT(*) AS n FROM qbo_links WHERE local_type = 'invoice'")
    assert linked[0]["n"] == exported  # every op sent before the stop was recorded
    again = run("sync", "cancel", str(cycle_id), "--json")
    assert again.exit_code == 2 and "not running" in again.stdout


@pytest.fixture
def mapped(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    map_demo(connected_company.key)
    return connected_company


def export_ops() -> dict[str, dict[str, Any]]:
    rows = store_query(
        "SELECT * FROM outbox WHERE kind IN ('export_invoice', 'export_credit_memo')"
    )
    return {r["subject_id"]: r for r in rows}


def test_sync_retry_op_cycle_and_errored(mapped: ConnectedCompany) -> None:
    set_config("sync.attempt_cap", "1")
    ctl = mapped.control
    ctl.inject_fault("/v3/company/*/batch", method="POST", status=400, code="6000")
    first = sync()
    ops = export_ops()
    assert {o["state"] for o in ops.values()} == {"errored"}
    one = ops["INV-1001"]["id"]

    assert run_json("sync", "retry", str(one))["data"]["requeued"] == 1
    assert export_ops()["INV-1001"]["state"] == "pending"
    assert export_ops()["INV-1001"]["attempts"] == 0
    second = sync()
    assert export_ops()["INV-1001"]["state"] == "errored"
    assert run_json("sync", "retry", "--cycle", str(second["cycle_id"]))["data"]["requeued"] == 1
    # The first cycle's three exports (sent, errored), and the payment push and the credit
    # application that failed there before being sent (their invoices were not in QuickBooks).
    assert run_json("sync", "retry", "--cycle", str(first["cycle_id"]))["data"]["requeued"] == 5
    held = store_query(
        "SELECT kind, state FROM outbox WHERE kind IN ('push_payment', 'apply_credit')"
    )
    assert sorted((o["kind"], o["state"]) for o in held) == [
        ("apply_credit", "pending"),
        ("push_payment", "pending"),
    ]
    assert {o["state"] for o in export_ops().values()} == {"pending"}
    sync()
    assert {o["state"] for o in export_ops().values()} == {"errored"}
    missing = run("sync", "retry", "999999", "--json")
    assert missing.exit_code == 2

    ctl.clear_faults()
    assert run_json("sync", "retry", "--errored")["data"]["requeued"] == 4
    sync()
    assert {o["state"] for o in export_ops().values()} == {"done"}
    assert sorted(d["DocNumber"] for d in sim_docs(mapped.server, "Invoice")) == [
        "1001",
        "1002",
        "1003",
    ]
    assert run("sync", "retry", "--json").exit_code == 2  # exactly one of OP, --cycle, --errored
    # A cycle that does not exist is said so, as `sync status 999` does, not "0 requeued".
    missing = run_json("sync", "retry", "--cycle", "999", code=2)["error"]
    assert missing["message"] == "no cycle 999 of acme"


def test_dry_run_sends_nothing_and_keeps_the_cursor(mapped: ConnectedCompany) -> None:
    ctl = mapped.control
    ctl.clear_request_log()
    dry = sync("--dry-run")
    assert dry["result"] == "succeeded"
    sent = [(e["method"], e["endpoint"]) for e in ctl.request_log()]
    assert sent and all(method == "GET" for method, _ in sent), sent
    assert {b["create"] for b in dry["stats"]["would_send"] if "create" in b} >= {
        "Invoice",
        "CreditMemo",
    }
    assert store_query("SELECT * FROM sync_cursors") == []
    assert sim_docs(mapped.server, "Invoice") == []
    assert {o["state"] for o in export_ops().values()} == {"pending"}
    real = sync()
    assert real["stats"]["exported"] == 4
    cursor = store_query("SELECT cursor FROM sync_cursors")[0]["cursor"]
    ctl.record_payment(
        mapped.realm_id,
        sim_docs(mapped.server, "Invoice")[0]["CustomerRef"]["value"],
        "10.00",
        invoice_id=sim_docs(mapped.server, "Invoice")[0]["Id"],
    )
    again = sync("--dry-run")
    assert again["stats"]["payments_applied"] == 1  # decided, then rolled back
    assert store_query("SELECT cursor FROM sync_cursors")[0]["cursor"] == cursor
    assert store_query("SELECT * FROM ledger_payments WHERE source = 'quickbooks'") == []


def test_status_history_and_all_companies(mapped: ConnectedCompany) -> None:
    ctl = mapped.control
    realm2 = ctl.add_company("Second Co", seed="demo")
    connect_realm(mapped.server, "beta", realm2)
    run_json("companies", "use", "acme")
    out = run_json("sync", "run", "--all")["data"]["cycles"]
    assert [(c["company"], c["result"]) for c in out] == [
        ("acme", "succeeded"),
        ("beta", "succeeded"),
    ]
    assert ctl.counts(realm2)["endpoints"].get("cdc", 0) >= 1
    assert ctl.counts(mapped.realm_id)["endpoints"].get("batch", 0) >= 1
    assert ctl.counts(realm2)["endpoints"].get("batch", 0) == 0  # beta's ledger is empty

    status = run_json("sync", "status")["data"]
    assert status["company"] == "acme" and status["result"] == "succeeded"
    assert status["id"] == out[0]["cycle_id"] and status["cursor_after"]
    beta = run_json("sync", "status", "--company", "beta")["data"]
    assert beta["id"] == out[1]["cycle_id"]
    one = run_json("sync", "status", str(out[0]["cycle_id"]))["data"]
    assert one["ops_processed"] == out[0]["stats"]["ops_processed"]
    sync()
    history = run_json("sync", "history")["data"]
    assert [h["company"] for h in history] == ["acme", "acme"]
    assert history[0]["id"] > history[1]["id"]
    assert all(h["result"] == "succeeded" and h["summary"] for h in history)
    assert run("sync", "status", "424242", "--json").exit_code == 2
