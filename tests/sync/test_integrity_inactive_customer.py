"""An export to a customer made inactive in QuickBooks is a decision for the accountant, not a
retry loop: QuickBooks refuses the batch item with 2500 (a fault without an HTTP status of its
own), and the exception opens at once instead of after the attempts run out on a backoff."""

from __future__ import annotations

from typing import Any

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import map_demo, set_config, sim_docs, store_query


def sync() -> dict[str, Any]:
    data: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    return data


def export_op(invoice_id: str) -> dict[str, Any]:
    [op] = store_query(
        "SELECT * FROM outbox WHERE subject_id = ? AND kind = 'export_invoice' "
        "ORDER BY id DESC LIMIT 1",
        [invoice_id],
    )
    return op


def test_export_to_an_inactive_customer_asks_a_person_at_once(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    set_config("sync.attempt_cap", "5")
    ctl, realm = connected_company.control, connected_company.realm_id
    map_demo(connected_company.key)
    [mapping] = store_query(
        "SELECT qbo_id FROM mappings WHERE kind = 'customers' AND local_id = "
        "(SELECT client_id FROM ledger_invoices WHERE id = 'INV-1001')"
    )
    ctl.deactivate_customer(realm, mapping["qbo_id"])

    sync()
    op = export_op("INV-1001")
    assert op["state"] == "failed" and op["attempts"] == 1 and op["last_error_code"] == "2500"
    failing = {e["subject_id"]: e for e in run_json("exceptions", "list", "--open")["data"]}
    # Open after one attempt (not at the cap), telling what to do.
    assert "INV-1001" in failing, failing
    assert "after" not in failing["INV-1001"]["message"]
    assert "inactive or deleted" in failing["INV-1001"]["hint"]
    assert "1001" not in {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")}

    ctl.edit(realm, "Customer", mapping["qbo_id"], {"Active": True})
    run_json("exceptions", "resolve", str(failing["INV-1001"]["id"]), "--retry")
    sync()
    assert export_op("INV-1001")["state"] == "done"
    numbers = [d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")]
    assert numbers.count("1001") == 1
