"""Two lanes: when there is more to export than the batch lane's minute allows, single creates
take documents from the back while batches take them from the front; each document once, the
same payload (tax, discounts) and the same checks (verification, links) as in a batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qbsync.store.tx import transaction
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import SAMPLE_LISTS, map_demo, set_mapping, sim_docs

N = 45  # three batches of 10 (the batch lane's minute), the rest through the single lane
BATCH = 10


def invoices(n: int) -> list[dict[str, Any]]:
    docs = []
    for i in range(n):
        lines: list[dict[str, Any]] = [
            {"service": "S-MSP", "quantity": 1 + i % 3, "unit_price": "150.00",
             "tax_region": "TR-HC"},
            {"service": "S-HOURS", "quantity": 2, "unit_price": "87.50", "tax_region": "TR-EX"},
        ]  # fmt: skip
        if i % 3 == 0:
            lines.append({"kind": "discount", "description": "Loyalty", "percent": "10"})
        docs.append(
            {
                "id": f"INV-L{i}",
                "number": f"L{i}",
                "client": f"CL-{1 + i % 4}",
                "date": "2026-11-02",
                "status": "finalized",
                "lines": lines,
            }
        )
    return docs


def narrow_batch_lane(batches_per_minute: int) -> None:
    with Workspace() as ws:
        cfg = ws.config
        qbo = cfg.qbo.model_copy(update={"batch_requests_per_minute": batches_per_minute})
        sync = cfg.sync.model_copy(update={"batch_size": BATCH})
        ws.save_config(cfg.model_copy(update={"qbo": qbo, "sync": sync}))


def test_exports_use_the_batch_and_the_single_lane_together(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps({"version": 1, **SAMPLE_LISTS, "invoices": invoices(N)}))
    run_json("ledger", "import", str(path), "--company", connected_company.key)
    map_demo(connected_company.key)
    income = next(
        a["Id"] for a in sim_docs(connected_company.server, "Account") if a["Name"] == "Services"
    )
    with Workspace() as ws, transaction(ws.store):
        set_mapping(ws, connected_company.key, "accounts", "discount", income, "Services")
    narrow_batch_lane(3)
    connected_company.control.clear_request_log()

    cycle = run_json("sync", "run")["data"]["cycles"][0]

    assert cycle["result"] == "succeeded", cycle
    assert cycle["stats"]["exported"] == N
    endpoints = connected_company.control.counts(connected_company.realm_id)["endpoints"]
    # Three batches (the whole minute of the batch lane) and the rest one create at a time,
    # instead of a fourth batch waiting a minute for its slot.
    assert endpoints.get("batch") == 3, endpoints
    assert endpoints.get("invoice") == N - 3 * BATCH, endpoints
    docs = [d for d in sim_docs(connected_company.server, "Invoice") if d["DocNumber"][:1] == "L"]
    assert sorted(d["DocNumber"] for d in docs) == sorted(f"L{i}" for i in range(N))
    rows = run_json("invoices", "list", "--limit", "200")["data"]
    assert len(rows) == N and all(r["sync_state"] == "synced" for r in rows)
    # Verified to the cent like a batch's documents: no total or tax mismatch was raised.
    assert run_json("exceptions", "list")["data"] == []
    totals = {r["number"]: r["total"] for r in rows}
    assert all(str(d["TotalAmt"]) == str(totals[d["DocNumber"]]) for d in docs), [
        (d["DocNumber"], d["TotalAmt"], totals[d["DocNumber"]]) for d in docs[:3]
    ]
    assert connected_company.control.invariants() == []
