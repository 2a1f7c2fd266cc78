"""`qbsync doctor`: every check ok, warn or fail with its fix, in human and JSON form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json


def checks(code: int = 0) -> dict[str, Any]:
    data = run_json("doctor", code=code)["data"]
    return data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in data["checks"]}


def test_doctor_on_a_healthy_company(healthy: ConnectedCompany) -> None:
    data = checks()
    found = by_name(data)
    for name in (
        "config",
        "store",
        "migrations",
        "secrets",
        "connection",
        "clock skew",
        "token expiry",
        "mappings",
        "lock",
        "multi-currency",
        "sales tax",
    ):
        assert found[name]["status"] == "ok", found[name]
    assert "integrity ok" in found["store"]["detail"]
    from qbsync.store.schema import STEPS

    latest = STEPS[-1][0]
    assert f"latest {latest}" in found["migrations"]["detail"]
    assert "invoices waiting for export are fully mapped" in found["mappings"]["detail"]
    # The simulator's demo company keeps QuickBooks' defaults: credits applied automatically,
    # QuickBooks' own numbering for invoices entered there.
    assert found["auto-apply credit"]["status"] == "warn"
    assert found["invoice numbers"]["status"] == "warn"
    assert "Automatically apply credits" in found["auto-apply credit"]["fix"]
    assert data["status"] == "warn"

    out = run("doctor")
    assert out.exit_code == 0
    assert "  ok  store:" in out.stdout and "warn  auto-apply credit:" in out.stdout
    assert "fix: in QuickBooks" in out.stdout


def test_doctor_on_a_degraded_company(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    """Connected, ledger imported, nothing mapped, a client billed in EUR while multi-currency
    is off, automated sales tax on, custom numbers on while QuickBooks is to number."""
    connected_company.control.set_preferences(
        connected_company.realm_id,
        {"SalesFormsPrefs": {"CustomTxnNumbers": True}, "TaxPrefs": {"PartnerTaxEnabled": True}},
    )
    extra = tmp_path / "euro.yaml"
    extra.write_text("version: 1\nclients:\n  - {id: CL-9, name: Euro GmbH, currency: EUR}\n")
    run_json("ledger", "import", str(extra))
    run_json("config", "set", "companies.acme.numbering", "quickbooks")
    data = checks(code=1)
    found = by_name(data)
    assert data["status"] == "fail"
    assert found["mappings"]["status"] == "warn"
    assert "11 unmapped" in found["mappings"]["detail"]
    assert "customers CL-1, CL-2, CL-3" in found["mappings"]["detail"]
    assert "hold invoices back from export" in found["mappings"]["detail"]
    assert found["invoice numbers"]["status"] == "warn"
    assert "turn off 'Custom transaction numbers'" in found["invoice numbers"]["fix"]
    assert found["sales tax"]["status"] == "warn"
    assert found["multi-currency"]["status"] == "fail"
    assert "billed in EUR" in found["multi-currency"]["detail"]

    out = run("doctor")
    assert out.exit_code == 1
    assert "fail  multi-currency:" in out.stdout
    assert "warn  mappings:" in out.stdout


def test_doctor_on_a_disconnected_company(disconnected: ConnectedCompany) -> None:
    data = checks(code=1)
    found = by_name(data)
    assert found["connection"]["status"] == "fail"
    assert "qbsync connect" in (found["connection"]["fix"] or "")
    # Preferences still known from the last cycle's cache; the lock is free.
    assert "as read" in found["auto-apply credit"]["detail"]
    assert found["lock"]["status"] == "ok"
    out = run("doctor")
    assert out.exit_code == 1 and "fail  connection:" in out.stdout


def test_doctor_reports_a_held_lock_and_a_stale_one(sample_ledger: SampleLedger) -> None:
    import json

    from qbsync import paths
    from qbsync.sync.lock import company_lock

    with company_lock("acme", "sync run (test)"):
        lock = by_name(checks(code=1))["lock"]  # not connected: other checks fail
        assert lock["status"] == "ok" and "running now" in lock["detail"]
    holder = paths.locks_dir() / "acme.cycle.holder.json"
    holder.write_text(json.dumps({"pid": 999999, "host": "h", "purpose": "sync run"}))
    lock = by_name(checks(code=1))["lock"]
    assert "stale" in lock["detail"] and "pid 999999" in lock["detail"]


def test_doctor_names_the_cycle_to_cancel_when_the_lock_is_held_too_long(
    sample_ledger: SampleLedger,
) -> None:
    import datetime as dt
    import json

    from qbsync import paths
    from qbsync.sync.lock import company_lock
    from qbsync.timeutil import utc_now
    from qbsync.workspace import Workspace

    with Workspace() as ws:
        stuck = ws.store.execute(
            "INSERT INTO sync_cycles (company, started_at, result, trigger, pid) "
            "VALUES ('acme', ?, 'running', 'test', 1)",
            [(utc_now() - dt.timedelta(hours=2)).isoformat()],
        ).lastrowid
    holder = paths.locks_dir() / "acme.cycle.holder.json"
    with company_lock("acme", "sync run (test)"):
        record = json.loads(holder.read_text())
        record["started_at"] = (utc_now() - dt.timedelta(hours=2)).isoformat()
        holder.write_text(json.dumps(record))
        lock = by_name(checks(code=1))["lock"]
    assert lock["status"] == "warn" and "for 120 minutes" in lock["detail"]
    assert lock["fix"] == f"qbsync sync cancel {stuck}"
