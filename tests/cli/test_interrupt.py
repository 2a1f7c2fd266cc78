"""Ctrl-C: a real `qbsync sync run` process, SIGINTed in the middle of a slow export, exits 130
with one line; its cycle is not left running and the operations it had claimed go back to the
queue, and the next run finishes the export with nothing sent twice."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import (
    duplicates,
    generated_ledger,
    map_demo,
    set_config,
    sim_docs,
    start_cli,
    store_query,
    wait_for_cycle,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

INVOICES = 40


def _wait_for_claimed_work(cycle_id: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        claimed = store_query(
            "SELECT id FROM outbox WHERE cycle_id = ? AND state = 'in_progress'", [cycle_id]
        )
        if claimed:
            return
        time.sleep(0.01)
    raise AssertionError("the cycle claimed no work in time")


def test_ctrl_c_during_a_slow_export_exits_130_and_releases_the_cycle(
    file_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = file_company
    generated_ledger(tmp_path / "ledger.json", INVOICES)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", company.key)
    map_demo(company.key)
    set_config("sync.batch_size", "5")
    company.control.set_latency(per_request_ms=20, per_batch_item_ms=150)  # a batch: ~0.8 s

    proc = start_cli("sync", "run")
    cycle_id = wait_for_cycle(proc)
    _wait_for_claimed_work(cycle_id)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, (proc.returncode, out, err)
    assert out == ""
    assert err == "error: interrupted (Ctrl-C)\n", err
    [cycle] = store_query(
        "SELECT result, error, finished_at FROM sync_cycles WHERE id = ?", [cycle_id]
    )
    assert cycle["result"] != "running", cycle
    assert (cycle["result"], cycle["error"]) == ("interrupted", "interrupted (Ctrl-C)"), cycle
    assert cycle["finished_at"], cycle
    assert not store_query("SELECT id FROM outbox WHERE state = 'in_progress'")
    released = store_query(
        "SELECT id FROM outbox WHERE cycle_id = ? AND state = 'pending' "
        "AND last_error = 'interrupted (Ctrl-C)'",
        [cycle_id],
    )
    assert released, "the claimed operations were not put back in the queue"
    exported = len(sim_docs(company.server, "Invoice"))
    assert exported < INVOICES, "the run finished before the interrupt: the test proved nothing"

    company.control.set_latency(0, 0)
    set_config("sync.batch_size", "30")
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"
    numbers = [d["DocNumber"] for d in sim_docs(company.server, "Invoice")]
    assert not duplicates(numbers), duplicates(numbers)
    assert len(set(numbers)) >= INVOICES
    assert not store_query("SELECT id FROM outbox WHERE state NOT IN ('done', 'cancelled')")
