"""`sync retry --cycle N` finds every op that failed in cycle N, including those that failed
before they were sent (a document that could not be built: nothing reached QuickBooks, no
attempt was spent). End to end: the real CLI and the simulator in-process."""

from __future__ import annotations

from typing import Any

from qbsync.store.tx import transaction
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import map_demo, set_mapping, sim_docs, store_query


def export_op(invoice: str) -> dict[str, Any]:
    [op] = store_query(
        "SELECT * FROM outbox WHERE subject_id = ? AND kind = 'export_invoice'", [invoice]
    )
    return op


def test_retry_cycle_requeues_ops_that_failed_before_they_were_sent(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    # Cedar Clinic (CL-3) is not mapped: INV-1003 cannot be built, so it is never sent.
    ids = map_demo(connected_company.key, skip=(("customers", "CL-3"),))
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    op = export_op("INV-1003")
    assert op["state"] == "failed" and op["attempts"] == 0, op
    assert "1003" not in {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")}

    # The accountant maps the customer, then retries what failed in that cycle.
    with Workspace() as ws, transaction(ws.store):
        customer = ids[("Customer", "Cedar Clinic")]
        set_mapping(ws, connected_company.key, "customers", "CL-3", customer, "Cedar Clinic")
    out = run_json("sync", "retry", "--cycle", str(cycle["cycle_id"]))["data"]
    assert out["requeued"] == 1, out
    assert export_op("INV-1003")["state"] == "pending"
    # A cycle that does not exist is refused; another cycle's number finds nothing of it.
    none = run_json("sync", "retry", "--cycle", str(cycle["cycle_id"] + 1), code=2)["error"]
    assert none["message"] == f"no cycle {cycle['cycle_id'] + 1} of acme"
    second = run_json("sync", "run")["data"]["cycles"][0]
    assert second["result"] == "succeeded"
    assert run_json("sync", "retry", "--cycle", str(second["cycle_id"]))["data"]["requeued"] == 0
    assert export_op("INV-1003")["state"] == "done"
    assert "1003" in {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")}
