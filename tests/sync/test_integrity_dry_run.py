"""`sync run --dry-run` is dry: the store is byte-identical afterwards (its dump, before and
after), QuickBooks receives nothing, and the output says what would be sent, in which batches,
and which exceptions would open. End to end: the real CLI, the simulator in-process."""

from __future__ import annotations

from typing import Any

import pytest

from qbsync.store import open_store
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import map_demo, set_config, sim_docs, store_query


def dump() -> list[str]:
    db = open_store()
    try:
        return list(db.conn.iterdump())
    finally:
        db.close()


def dry_run() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run", "--dry-run")["data"]["cycles"][0]
    return cycle


@pytest.fixture
def mapped(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    # CL-3 (Cedar Clinic) left unmapped: its invoice waits for a customer, an exception would say.
    map_demo(connected_company.key, skip=(("customers", "CL-3"),))
    return connected_company


def test_dry_run_leaves_the_store_byte_identical_and_says_what_would_happen(
    mapped: ConnectedCompany,
) -> None:
    set_config("sync.batch_size", "2")
    before = dump()
    cycle = dry_run()
    assert dump() == before
    assert sim_docs(mapped.server, "Invoice") == []
    assert sim_docs(mapped.server, "CreditMemo") == []
    assert store_query("SELECT * FROM sync_cycles") == []

    sends = cycle["stats"]["would_send"]
    exports = sorted((s["body"]["DocNumber"], s["create"]) for s in sends if "create" in s)
    assert exports == [("1001", "Invoice"), ("1002", "Invoice"), ("CN-2001", "CreditMemo")]
    batches = [s["batch"] for s in sends if "create" in s]
    assert sorted(batches) == [1, 1, 2]  # two to a batch
    opened = {(e["kind"], e["subject_id"]) for e in cycle["stats"]["would_open"]}
    assert ("customer_missing", "INV-1003") in opened, cycle["stats"]["would_open"]
    assert run_json("exceptions", "list", "--open")["data"] == []

    # Human form: the same plan, in words.
    text = run("sync", "run", "--dry-run").stdout
    assert dump() == before
    assert "would create Invoice 1001 (batch 1)" in text, text
    assert "would open customer_missing: INV-1003" in text, text


def test_dry_run_after_changes_in_quickbooks_applies_nothing(mapped: ConnectedCompany) -> None:
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"
    ctl, realm = mapped.control, mapped.realm_id
    [invoice] = [d for d in sim_docs(mapped.server, "Invoice") if d["DocNumber"] == "1001"]
    ctl.record_payment(realm, invoice["CustomerRef"]["value"], "10.00", invoice_id=invoice["Id"])
    before = dump()
    cycle = dry_run()
    assert cycle["stats"]["payments_applied"] == 1  # it would apply it
    assert dump() == before
    assert run_json("sync", "run")["data"]["cycles"][0]["stats"]["payments_applied"] == 1
