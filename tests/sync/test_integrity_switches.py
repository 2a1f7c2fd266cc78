"""Switches that hold at every entry point: `auto_sync: false` keeps a company out of
`sync run --all` (the cron line) and out of the daemon, even when switched off while the daemon
runs; an explicit `sync run --company KEY` still syncs it. End to end against the simulator."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from qbsync.sync.cycle import CycleResult
from qbsync.sync.daemon import Daemon
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany, connect_realm
from tests.support import run, run_json
from tests.sync.helpers import map_demo, set_config


@pytest.fixture
def two(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> str:
    """acme (the sample ledger) and beta (its own QuickBooks company); beta's realm."""
    map_demo(connected_company.key)
    realm2 = connected_company.control.add_company("Second Co", seed="demo")
    connect_realm(connected_company.server, "beta", realm2)
    run_json("companies", "use", "acme")
    return realm2


def cdc_calls(company: ConnectedCompany, realm: str) -> int:
    return int(company.control.counts(realm)["endpoints"].get("cdc", 0))


def test_sync_run_all_skips_a_company_with_auto_sync_off(
    connected_company: ConnectedCompany, two: str
) -> None:
    set_config("companies.beta.auto_sync", "false")
    out = run_json("sync", "run", "--all")
    cycles = out["data"]["cycles"]
    assert [(c["company"], c["result"]) for c in cycles] == [
        ("acme", "succeeded"),
        ("beta", "skipped"),
    ]
    assert "auto_sync is off" in cycles[1]["summary"]
    assert cdc_calls(connected_company, two) == 0  # beta's QuickBooks was not even read
    assert "beta: skipped: auto_sync is off" in run("sync", "run", "--all").stdout
    # Asked for by name, it syncs.
    one = run_json("sync", "run", "--company", "beta")["data"]["cycles"][0]
    assert one["result"] == "succeeded"
    assert cdc_calls(connected_company, two) >= 1


def test_daemon_stops_syncing_a_company_switched_off_while_it_runs(
    connected_company: ConnectedCompany, two: str
) -> None:
    runs: Counter[str] = Counter()

    with Workspace() as ws:
        daemon = Daemon(ws, 0.05)

        def on_cycle(result: CycleResult) -> None:
            runs[result.company] += 1
            if result.company == "beta" and runs["beta"] == 1:
                set_config("companies.beta.auto_sync", "false")
            if runs["acme"] >= 4:
                daemon.stop.set()

        daemon.on_cycle = on_cycle
        asyncio.run(asyncio.wait_for(daemon.run(), timeout=60))
    assert runs["acme"] >= 4
    assert runs["beta"] == 1, runs
    assert "beta" in daemon.report.skipped
