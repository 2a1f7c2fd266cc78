"""SIGTERM to a real `qbsync sync run` (a systemd timer's unit stopped, `timeout`): the clean path
Ctrl-C takes, with the signal's own exit code. One line on stderr, exit 143, the cycle recorded
`interrupted` rather than left `running`, the operations it had claimed back in the queue, and the
lock released for the next run."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import (
    generated_ledger,
    map_demo,
    set_config,
    sim_docs,
    start_cli,
    store_query,
    wait_for_cycle,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _cycle(cycle_id: int) -> dict:
    [row] = store_query(
        "SELECT result, error, finished_at FROM sync_cycles WHERE id = ?", [cycle_id]
    )
    return row


def test_sigterm_while_waiting_to_retry_exits_143_with_one_line(
    file_company: ConnectedCompany,
) -> None:
    # Every change read answers 503: the run waits 0.5-1 s, 1-2 s, ... between tries.
    file_company.control.inject_fault("/v3/company/*/cdc*", method="GET", status=503)
    proc = start_cli("sync", "run", "--quiet")
    cycle_id = wait_for_cycle(proc)
    time.sleep(1.0)
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - asked

    assert (proc.returncode, out, err) == (143, "", "error: interrupted (SIGTERM)\n")
    assert took < 1.5, f"stopping took {took:.1f} s"
    cycle = _cycle(cycle_id)
    assert (cycle["result"], cycle["error"]) == ("interrupted", "interrupted (SIGTERM)"), cycle
    assert cycle["finished_at"], cycle

    file_company.control.clear_faults()  # the lock is free: the next run syncs
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"


def test_sigterm_in_the_middle_of_an_export_releases_its_operations(
    file_company: ConnectedCompany, tmp_path: Path
) -> None:
    invoices = 20
    generated_ledger(tmp_path / "ledger.json", invoices)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", file_company.key)
    map_demo(file_company.key)
    set_config("sync.batch_size", "5")
    file_company.control.set_latency(per_request_ms=20, per_batch_item_ms=150)

    proc = start_cli("sync", "run", "--json")
    cycle_id = wait_for_cycle(proc)
    deadline = time.monotonic() + 30
    while not store_query(
        "SELECT id FROM outbox WHERE cycle_id = ? AND state = 'in_progress'", [cycle_id]
    ):
        assert time.monotonic() < deadline, "the cycle claimed no work in time"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)

    assert (proc.returncode, err) == (143, ""), (proc.returncode, out, err)
    assert out == (
        '{"error": {"code": "interrupted", "message": "interrupted (SIGTERM)", "hint": null}}\n'
    )
    assert _cycle(cycle_id)["result"] == "interrupted"
    assert not store_query("SELECT id FROM outbox WHERE state = 'in_progress'")
    assert store_query(
        "SELECT id FROM outbox WHERE cycle_id = ? AND state = 'pending' "
        "AND last_error = 'interrupted (SIGTERM)'",
        [cycle_id],
    ), "the claimed operations were not put back in the queue"
    assert len(sim_docs(file_company.server, "Invoice")) < invoices, "it finished first"

    file_company.control.set_latency(0, 0)
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"
    numbers = [d["DocNumber"] for d in sim_docs(file_company.server, "Invoice")]
    assert len(numbers) == len(set(numbers)) >= invoices  # nothing sent twice
