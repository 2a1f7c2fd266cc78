"""The kill test: `qbsync sync run` exporting 1,000 invoices, SIGKILLed at 20 random moments
(one run each), then run to completion. QuickBooks (the simulator) ends with each invoice
exactly once and every op done: nothing duplicated, nothing lost."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import (
    WarmCli,
    duplicates,
    generated_ledger,
    map_demo,
    running_cycle,
    set_config,
    sim_docs,
    store_query,
    wait_for_cycle_of,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

INVOICES = 1000
KILLS = 20


def test_sigkill_at_20_random_moments_then_complete(
    file_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = file_company
    data = generated_ledger(tmp_path / "ledger.json", INVOICES)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", company.key)
    map_demo(company.key)
    # Small, slow batches (a few in flight at once): twenty short runs cannot finish the export
    # between them, so every kill lands somewhere inside the work.
    set_config("sync.batch_size", "5")
    company.control.set_latency(per_request_ms=20, per_batch_item_ms=100)
    rng = random.Random(20261121)
    alive_at_kill = 0
    mid_request = 0  # kills that left a batch sent (or being sent) and its answer unrecorded
    exported_per_run = []
    cli = WarmCli()
    try:
        for _ in range(KILLS):
            pid = cli.start("sync", "run", "--quiet")
            wait_for_cycle_of(pid)
            time.sleep(rng.uniform(0.1, 1.5))
            if running_cycle(pid) is not None:
                alive_at_kill += 1
            os.kill(pid, signal.SIGKILL)
            status = cli.wait(pid)
            exported_per_run.append(len(sim_docs(company.server, "Invoice")))
            in_flight = store_query("SELECT id FROM outbox WHERE state = 'in_progress'")
            mid_request += bool(in_flight)
            assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0, status
    finally:
        cli.close()
    assert alive_at_kill >= KILLS - 2, exported_per_run  # the kills landed inside the runs
    assert mid_request >= 3, mid_request  # some died with a batch sent and unrecorded
    done = store_query("SELECT COUNT(*) AS n FROM outbox WHERE state = 'done'")[0]["n"]
    assert done < INVOICES, exported_per_run  # the kills left work to finish
    interrupted = store_query("SELECT COUNT(*) AS n FROM outbox WHERE uncertain = 1")[0]["n"]

    company.control.set_latency(0, 0)
    set_config("sync.batch_size", "30")
    for _ in range(4):
        run_json("sync", "run")
        if not store_query("SELECT id FROM outbox WHERE state != 'done'"):
            break

    invoices = sim_docs(company.server, "Invoice")
    numbers = [d["DocNumber"] for d in invoices]
    assert len(invoices) == INVOICES
    assert duplicates(numbers) == []
    assert set(numbers) == {d["number"] for d in data["invoices"]}
    ops = store_query("SELECT subject_id, state FROM outbox WHERE kind = 'export_invoice'")
    assert len(ops) == INVOICES and {o["state"] for o in ops} == {"done"}
    assert len({o["subject_id"] for o in ops}) == INVOICES
    links = store_query("SELECT local_id, qbo_id FROM qbo_links WHERE local_type = 'invoice'")
    assert len(links) == INVOICES and len({r["qbo_id"] for r in links}) == INVOICES
    by_id = {d["Id"]: d["DocNumber"] for d in invoices}
    assert all(by_id[r["qbo_id"]] == r["local_id"].removeprefix("INV-") for r in links)
    stuck = store_query("SELECT id FROM sync_cycles WHERE result = 'running'")
    assert stuck == []
    assert company.server.sim.check_invariants() == []
    print(
        f"kills inside a run: {alive_at_kill}, with a batch in flight: {mid_request}; "
        f"ops done before completion: {done}, uncertain: {interrupted}; invoices in "
        "QuickBooks after each kill: "
        f"{exported_per_run}"
    )
