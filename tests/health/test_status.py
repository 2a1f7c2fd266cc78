"""`qbsync status`: the Sync Health panel in human and JSON form."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json


def status(code: int = 0) -> dict:
    """The one company's health; `code` is the exit status expected (1 when it is red)."""
    [company] = run_json("status", code=code)["data"]["companies"]
    return company


def test_healthy_company_is_green(healthy: ConnectedCompany) -> None:
    data = status()
    assert data["level"] == "green", data["problems"]
    assert data["connected"] and data["problems"] == []
    assert data["ops"] == {"queued": 0, "retrying": 0, "errored": 0, "held_before_go_live": 0}
    assert data["last_cycle"]["result"] == "succeeded"
    assert data["tokens"]["access_expires"]["seconds_left"] > 3000
    assert data["tokens"]["refresh_expires"]["seconds_left"] > 90 * 86400
    # next cycle = last cycle's start + sync.interval (15 minutes by default)
    started = dt.datetime.fromisoformat(data["last_cycle"]["started_at"])
    assert dt.datetime.fromisoformat(data["next_cycle"]["at"]) - started == dt.timedelta(minutes=15)
    assert data["next"]["command"] == "qbsync status --watch --company acme"

    out = run("status")
    assert out.exit_code == 0
    assert "healthy" in out.stdout and "succeeded" in out.stdout
    assert "0 pending, 0 errored" in out.stdout
    assert "Next: qbsync status --watch --company acme" in out.stdout


def test_degraded_company_is_yellow_with_the_exception_to_look_at(
    degraded: ConnectedCompany,
) -> None:
    data = status()
    assert data["level"] == "yellow"
    assert data["drift"] == 1
    assert data["open_exceptions"] == 1
    assert data["open_exceptions_by_kind"] == {"drift_changed": 1}
    assert data["ops"]["queued"] == 1  # the local payment waiting to go out
    exc_id = run_json("exceptions", "list", "--open")["data"][0]["id"]
    assert data["next"]["command"] == f"qbsync exceptions show {exc_id}"

    out = run("status").stdout
    assert "needs a look" in out
    assert "1 pending, 0 errored" in out and "drift_changed 1" in out
    assert f"Next: qbsync exceptions show {exc_id}" in out


def test_disconnected_company_is_red_and_says_connect(disconnected: ConnectedCompany) -> None:
    data = status(code=1)
    assert data["level"] == "red"
    assert not data["connected"]
    assert data["next"]["command"] == "qbsync connect --company acme"
    out = run("status").stdout
    assert "needs attention" in out and "not connected" in out
    assert "Next: qbsync connect --company acme" in out


def test_go_live_holds_are_counted_apart(sample_ledger: SampleLedger) -> None:
    # Invoices dated 2026-10-01..03; go-live 2026-10-02 holds the one dated before it.
    run_json("config", "set", "companies.acme.go_live", "2026-10-02")
    data = status(code=1)
    ops = data["ops"]
    assert ops["held_before_go_live"] == 1
    from qbsync.store import open_store

    db = open_store()
    pending = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    db.close()
    assert pending >= 2
    assert ops["queued"] == pending - 1 and ops["errored"] == 0
    assert data["go_live"] == "2026-10-02"
    assert data["level"] == "red"  # never connected
    assert "held before go-live" in run("status").stdout


def test_all_shows_one_panel_per_company(sample_ledger: SampleLedger) -> None:
    run_json("config", "set", "companies.other.environment", "sim")
    data = run_json("status", "--all", code=1)["data"]["companies"]
    assert [c["company"] for c in data] == ["acme", "other"]
    out = run("status", "--all").stdout
    assert out.count("Next: qbsync") == 2


def test_watch_is_refused_with_json(sample_ledger: SampleLedger) -> None:
    err = run_json("status", "--watch", code=2)["error"]
    assert "--watch" in err["message"]


@pytest.mark.slow
def test_status_on_a_100k_invoice_ledger_is_fast(ledger_company: str) -> None:
    """Indexed counts only: 100,000 invoices, most exported, some queued and errored."""
    from qbsync.store import open_store

    db = open_store()
    now = "2026-11-01T00:00:00+00:00"
    n = 100_000
    with db.conn:
        db.execute(
            "INSERT INTO ledger_clients (company, id, name, created_at, updated_at) "
            "VALUES ('acme', 'C', 'C', ?, ?)",
            [now, now],
        )
        # Generated inside SQLite (a recursive counter), so that setting up stays quick.
        seq = f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n - 1})"
        db.execute(
            f"{seq} INSERT INTO ledger_invoices (company, id, number, client_id, status, date, "
            "subtotal, content_hash, created_at, updated_at) SELECT 'acme', 'I' || i, i, 'C', "
            "'finalized', '2026-10-01', '10.00', 'h', ?, ? FROM n",
            [now, now],
        )
        # 97 in 100 done; one each pending, errored, failed (retrying)
        db.execute(
            f"{seq} INSERT INTO outbox (company, kind, subject_type, subject_id, state, "
            "request_id, created_at, updated_at) SELECT 'acme', 'export_invoice', 'invoice', "
            "'I' || i, CASE i % 100 WHEN 97 THEN 'pending' WHEN 98 THEN 'errored' "
            "WHEN 99 THEN 'failed' ELSE 'done' END, 'r' || i, ?, ? FROM n",
            [now, now],
        )
        db.execute(
            f"{seq} INSERT INTO qbo_links (company, local_type, local_id, qbo_entity, qbo_id, "
            "state, linked_by, created_at, updated_at) SELECT 'acme', 'invoice', 'I' || i, "
            "'Invoice', i, CASE WHEN i % 1000 = 0 THEN 'drift' ELSE 'synced' END, 'export', ?, ? "
            "FROM n",
            [now, now],
        )
    db.close()
    run_json("config", "set", "companies.acme.go_live", "2026-01-01")
    run_json("status", code=1)  # warm: imports and the store opened once (red: not connected)
    started = time.perf_counter()
    data = run_json("status", code=1)["data"]["companies"][0]
    elapsed = time.perf_counter() - started
    assert data["ops"] == {
        "queued": 2000,
        "retrying": 1000,
        "errored": 1000,
        "held_before_go_live": 0,
    }
    assert data["drift"] == 100
    print(f"status on 100,000 invoices: {elapsed * 1000:.0f} ms")
    assert elapsed < 0.3, elapsed


def test_sync_history_shows_a_mark_and_a_bar_per_cycle(degraded: ConnectedCompany) -> None:
    out = run("sync", "history")
    assert out.exit_code == 0
    # two cycles (the first sync, the one that found drift): two marks
    assert re.search(r"recent cycles ▮▮\s", out.stdout)
    assert "█" in out.stdout


def test_watch_refreshes_until_interrupted(
    sample_ledger: SampleLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qbsync.cli.status as status_mod

    ticks: list[float] = []

    def sleep(seconds: float) -> None:
        ticks.append(seconds)
        if len(ticks) == 3:
            raise KeyboardInterrupt  # Ctrl-C

    monkeypatch.setattr(status_mod.time, "sleep", sleep)
    out = run("status", "--watch", "--every", "0.5")
    assert out.exit_code == 0
    assert ticks == [0.5, 0.5, 0.5]
    assert "Next: qbsync connect --company acme" in out.stdout
    assert "Ctrl-C to stop" in out.stdout


def test_a_running_row_without_its_lock_is_an_interrupted_cycle(
    sample_ledger: SampleLedger,
) -> None:
    from qbsync.store import open_store
    from qbsync.sync.lock import company_lock

    db = open_store()
    with db.conn:
        db.execute(
            "INSERT INTO sync_cycles (company, started_at, result) "
            "VALUES ('acme', '2026-11-01T00:00:00+00:00', 'running')"
        )
    db.close()
    data = status(code=1)  # never connected: red
    assert data["running_cycle"] is None and data["interrupted_cycle"] == 1
    assert any("interrupted" in p for p in data["problems"])
    with company_lock("acme", "sync run (test)"):
        data = status(code=1)
        assert data["running_cycle"] == 1 and data["interrupted_cycle"] is None
        assert "cycle #1" in run("status").stdout
