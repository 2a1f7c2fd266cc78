"""`ledger export invoices` shows the QuickBooks id a document holds now: after a delete in
QuickBooks, never the deleted id; after the re-export, the new one. End to end against the
simulator in-process."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo


def exported_ids() -> dict[str, Any]:
    return {r["id"]: r["qbo_id"] for r in run_json("ledger", "export", "invoices")["data"]}


def test_export_shows_the_new_id_after_a_delete_and_re_export(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    ctl, realm = connected_company.control, connected_company.realm_id
    map_demo(connected_company.key)
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"
    before = link(connected_company.key, "invoice", "INV-1002")
    assert before is not None
    old = before["qbo_id"]
    assert exported_ids()["INV-1002"] == old

    ctl.delete_invoice(realm, old)
    run_json("sync", "run")
    [drift] = run_json("exceptions", "list", "--open", "--kind", "drift_voided_or_deleted")["data"]
    assert drift["subject_id"] == "INV-1002"
    assert exported_ids()["INV-1002"] is None  # deleted in QuickBooks: no id to hand over

    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    after = link(connected_company.key, "invoice", "INV-1002")
    assert after is not None and after["qbo_id"] != old
    assert ctl.get(realm, "Invoice", after["qbo_id"])["DocNumber"] == "1002"
    ids = exported_ids()
    assert ids["INV-1002"] == after["qbo_id"]
    assert old not in ids.values()
    text = run("ledger", "export", "invoices", "--format", "csv").stdout
    row = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}["INV-1002"]
    assert row["qbo_id"] == after["qbo_id"]
