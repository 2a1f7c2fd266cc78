"""Exports go in concurrent batches: several batch requests in flight, each document once.

The ledger here has no credit notes: the simulator's AutoApplyCredit inside a batch is not what
this is about."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from qbsync.qbo.client import QboClient
from qbsync.sync import outbound
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import map_demo, sim_docs

N = 95  # four batches: 30 + 30 + 30 + 5


def invoices(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"INV-C{i}",
            "number": f"C{i}",
            "client": f"CL-{1 + i % 4}",
            "date": "2026-11-02",
            "status": "finalized",
            "lines": [
                {"service": "S-MSP", "quantity": 1 + i % 5, "unit_price": "150.00",
                 "tax_region": "TR-EX"},
            ],
        }
        for i in range(n)
    ]  # fmt: skip


def test_exports_run_in_concurrent_batches_without_duplicates(
    connected_company: ConnectedCompany,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "more.json"
    reference = {
        "clients": [{"id": f"CL-{k}", "name": f"Client {k}"} for k in range(1, 5)],
        "services": [{"id": "S-MSP", "name": "Managed services"}],
        "tax_regions": [{"id": "TR-EX", "name": "Exempt"}],
    }
    path.write_text(json.dumps({"version": 1, **reference, "invoices": invoices(N)}))
    run_json("ledger", "import", str(path), "--company", connected_company.key)
    map_demo(connected_company.key)

    in_flight = 0
    peak = 0
    original = QboClient.batch

    async def tracking_batch(self: QboClient, items: Any, **kw: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.05)  # long enough for the other workers to start theirs
            return await original(self, items, **kw)
        finally:
            in_flight -= 1

    monkeypatch.setattr(QboClient, "batch", tracking_batch)
    cycle = run_json("sync", "run")["data"]["cycles"][0]

    assert cycle["result"] == "succeeded", cycle
    assert peak == outbound.BATCH_CONCURRENCY > 1
    assert cycle["stats"]["exported"] == N
    numbers = [d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")]
    assert sorted(n for n in numbers if n.startswith("C")) == sorted(f"C{i}" for i in range(N))
    rows = run_json("invoices", "list", "--limit", "200")["data"]
    assert len(rows) == N and all(r["sync_state"] == "synced" for r in rows)
    assert connected_company.server.sim.check_invariants() == []
