"""The sync cycle end to end: the real CLI, the simulator (in-process), the real OAuth
connection, the sample ledger imported through `qbsync ledger import`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from qbsync.store.tx import transaction
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany, connect
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo, sim_docs


def sync(code: int = 0) -> dict[str, Any]:
    data = run_json("sync", "run", code=code)["data"]["cycles"][0]
    return data


def open_exceptions(kind: str | None = None) -> list[dict[str, Any]]:
    args = ["exceptions", "list", "--open"] + (["--kind", kind] if kind else [])
    return run_json(*args)["data"]


@pytest.fixture
def synced(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    """Connected, imported, mapped, and one cycle run."""
    map_demo(connected_company.key)
    first = sync()
    assert first["result"] == "succeeded", first
    return connected_company


def test_first_cycle_exports_documents_payment_and_credit(synced: ConnectedCompany) -> None:
    server = synced.server
    invoices = {d["DocNumber"]: d for d in sim_docs(server, "Invoice")}
    assert set(invoices) == {"1001", "1002", "1003"}  # the draft 1004 stays home
    memos = sim_docs(server, "CreditMemo")
    assert [m["DocNumber"] for m in memos] == ["CN-2001"]
    # 12 x 150 exempt + 3 x 45 taxable at 8.25% (11.1375 -> 11.14)
    inv = invoices["1001"]
    assert Decimal(str(inv["TotalAmt"])) == Decimal("1946.14")
    assert inv["CustomerRef"]["value"] and "qbsync:" in inv["PrivateNote"]
    rows = {r["id"]: r for r in run_json("invoices", "list")["data"]}
    assert {k: rows[k]["sync_state"] for k in ("INV-1001", "INV-1002", "INV-1003", "CN-2001")} == {
        "INV-1001": "synced",
        "INV-1002": "synced",
        "INV-1003": "synced",
        "CN-2001": "synced",
    }
    assert rows["INV-1004"]["sync_state"] == "not synced"
    # Listed with the total tax included, what was paid or credited, and what is still owed.
    got = {
        k: (rows[k]["total"], rows[k]["paid"], rows[k]["balance"]) for k in ("INV-1001", "CN-2001")
    }
    assert got == {
        "INV-1001": ("1946.14", "150.00", "1796.14"),
        "CN-2001": ("150.00", "150.00", "0.00"),
    }
    assert server.sim.check_invariants() == []


def test_an_idle_cycle_makes_one_call_and_changes_nothing(synced: ConnectedCompany) -> None:
    before = len(sim_docs(synced.server, "Invoice")), len(sim_docs(synced.server, "Payment"))
    second = sync()
    assert second["stats"]["api_calls"] == 1, second
    assert second["stats"]["ops_processed"] == 0
    assert second["stats"]["payments_applied"] == 0  # echoes of our own payment are not counted
    assert second["stats"]["drift_found"] == 0
    assert (
        len(sim_docs(synced.server, "Invoice")),
        len(sim_docs(synced.server, "Payment")),
    ) == before


def test_quickbooks_payment_full_partial_edit_delete_settle_the_ledger(
    synced: ConnectedCompany,
) -> None:
    ctl, realm = synced.control, synced.realm_id
    inv = link(synced.key, "invoice", "INV-1002")
    assert inv
    qbo_invoice = ctl.get(realm, "Invoice", inv["qbo_id"])
    total = Decimal(str(qbo_invoice["TotalAmt"]))
    customer = qbo_invoice["CustomerRef"]["value"]

    # The sample ledger already holds a local payment of 500.00 on this invoice (pushed).
    assert run_json("invoices", "show", "INV-1002")["data"]["paid"] == "500.00"
    partial = ctl.record_payment(realm, customer, "100.00", invoice_id=inv["qbo_id"])
    assert sync()["stats"]["payments_applied"] == 1
    show = run_json("invoices", "show", "INV-1002")["data"]
    assert show["paid"] == "600.00"
    assert sorted(p["source"] for p in show["payments"]) == ["local", "quickbooks"]

    ctl.edit_payment(
        realm,
        partial["Id"],
        {
            "TotalAmt": "150.00",
            "Line": [
                {"Amount": "150.00", "LinkedTxn": [{"TxnId": inv["qbo_id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    sync()
    assert run_json("invoices", "show", "INV-1002")["data"]["paid"] == "650.00"

    ctl.delete_payment(realm, partial["Id"])
    sync()
    assert run_json("invoices", "show", "INV-1002")["data"]["paid"] == "500.00"

    ctl.record_payment(realm, customer, str(total - 500), invoice_id=inv["qbo_id"])
    sync()
    assert run_json("invoices", "show", "INV-1002")["data"]["paid"] == str(total)
    assert run_json("sync", "run")["data"]["cycles"][0]["stats"]["payments_applied"] == 0


def test_local_payment_is_pushed_once_and_not_counted_twice(synced: ConnectedCompany) -> None:
    run_json(
        "payments",
        "record",
        "--invoice",
        "INV-1003",
        "--amount",
        "200.00",
        "--date",
        "2026-11-02",
        "--method",
        "check",
        "--reference",
        "CHK-77",
        "--id",
        "PAY-77",
    )
    cycle = sync()
    assert cycle["stats"]["ops_processed"] == 1
    pay_link = link(synced.key, "payment", "PAY-77")
    assert pay_link
    payment = synced.control.get(synced.realm_id, "Payment", pay_link["qbo_id"])
    assert Decimal(str(payment["TotalAmt"])) == Decimal("200.00")
    assert payment["PaymentRefNum"] == "CHK-77"
    sync()
    sync()
    payments = run_json("payments", "list", "--invoice", "INV-1003")["data"]
    assert [(p["id"], p["amount"], p["source"]) for p in payments] == [
        ("PAY-77", "200.00", "local")
    ]


def test_drift_changed_accept_and_reexport(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id
    inv = link(synced.key, "invoice", "INV-1003")
    assert inv
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    lines = [line for line in doc["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    lines[0]["SalesItemLineDetail"]["Qty"] = 5
    lines[0]["Amount"] = 750
    ctl.edit_invoice(realm, inv["qbo_id"], {"Line": lines})
    cycle = sync()
    assert cycle["stats"]["drift_found"] == 1
    [drift] = open_exceptions("drift_changed")
    assert "invoice 1003" in drift["message"] and "qty: 4 -> 5" in drift["message"]
    assert sync()["stats"]["drift_found"] == 0  # re-reads inside the overlap raise nothing new
    assert len(open_exceptions("drift_changed")) == 1
    rows = {r["id"]: r for r in run_json("invoices", "list")["data"]}
    assert rows["INV-1003"]["sync_state"] == "drift"

    # What the customer owes changed there: accepting it would leave the books apart.
    refused = run_json("exceptions", "resolve", str(drift["id"]), "--accept", code=2)
    assert refused["error"]["message"] == (
        "invoice 1003: QuickBooks' version changes what is owed (total 921.88 there, 771.88 "
        "in the ledger): accepting it would leave the two books apart"
    )
    assert "--reexport" in refused["error"]["hint"]
    assert [e["id"] for e in open_exceptions("drift_changed")] == [drift["id"]]
    assert rows["INV-1003"]["total"] == "771.88"

    # The ledger's version goes back.
    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    after = ctl.get(realm, "Invoice", inv["qbo_id"])
    first_line = next(
        line for line in after["Line"] if line.get("DetailType") == "SalesItemLineDetail"
    )
    assert int(first_line["SalesItemLineDetail"]["Qty"]) == 4
    assert Decimal(str(after["TotalAmt"])) == Decimal("771.88")
    assert sync()["stats"]["drift_found"] == 0
    assert open_exceptions("drift_changed") == []

    # An edit that leaves what is owed as it was can be accepted.
    ctl.edit_invoice(realm, inv["qbo_id"], {"DocNumber": "1003-X"})
    sync()
    [drift] = open_exceptions("drift_changed")
    run_json("exceptions", "resolve", str(drift["id"]), "--accept")
    assert open_exceptions("drift_changed") == []
    assert sync()["stats"]["drift_found"] == 0
    assert ctl.get(realm, "Invoice", inv["qbo_id"])["DocNumber"] == "1003-X"


def test_void_and_delete_in_quickbooks_are_drift(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id
    voided = link(synced.key, "invoice", "INV-1002")
    deleted = link(synced.key, "invoice", "INV-1003")
    assert voided and deleted
    ctl.void_invoice(realm, voided["qbo_id"])
    ctl.delete_invoice(realm, deleted["qbo_id"])
    assert sync()["stats"]["drift_found"] == 2
    found = {e["subject_id"]: e for e in open_exceptions("drift_voided_or_deleted")}
    assert "voided" in found["INV-1002"]["message"] and "deleted" in found["INV-1003"]["message"]

    run_json("exceptions", "resolve", str(found["INV-1002"]["id"]), "--accept")
    assert run_json("invoices", "show", "INV-1002")["data"]["status"] == "void"

    run_json("exceptions", "resolve", str(found["INV-1003"]["id"]), "--reexport")
    new = link(synced.key, "invoice", "INV-1003")
    assert new and new["qbo_id"] != deleted["qbo_id"] and new["state"] == "synced"
    assert sync()["stats"]["drift_found"] == 0
    assert open_exceptions() == []


def test_void_in_the_ledger_voids_in_quickbooks_without_drift(synced: ConnectedCompany) -> None:
    run_json("invoices", "void", "INV-1003", "--reason", "issued twice", "--yes")
    sync()
    qbo = link(synced.key, "invoice", "INV-1003")
    assert qbo and qbo["state"] == "voided"
    doc = synced.control.get(synced.realm_id, "Invoice", qbo["qbo_id"])
    assert Decimal(str(doc["TotalAmt"])) == 0
    assert sync()["stats"]["drift_found"] == 0
    assert open_exceptions() == []


def test_authorization_revoked_aborts_without_moving_the_cursor(synced: ConnectedCompany) -> None:
    before = run_json("sync", "status")["data"]["cursor_after"]
    synced.control.revoke_all_tokens(synced.realm_id)
    result = run("sync", "run", "--json")
    assert result.exit_code == 3, result.stdout
    import json

    cycle = json.loads(result.stdout)["data"]["cycles"][0]
    assert cycle["result"] == "aborted" and cycle["cursor_after"] == before
    [auth] = open_exceptions("connection_auth_failed")
    assert "reconnect" in auth["hint"]
    # Reconnect, and the next cycle resumes from the same cursor.
    from qbsync.workspace import Workspace

    with Workspace() as ws:
        connect(ws, synced.server, synced.key)
    again = sync()
    assert again["cursor_before"] == before
    assert open_exceptions("connection_auth_failed") == []


def test_missing_mapping_raises_at_once_and_heals_when_mapped(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    ids = map_demo(connected_company.key, skip=(("items", "S-HOURS"),))
    cycle = sync()
    assert cycle["result"] == "succeeded"
    failing = {e["subject_id"] for e in open_exceptions("export_failing")}
    assert failing == {"INV-1002", "INV-1003"}  # both use consulting hours
    [one] = [e for e in open_exceptions("export_failing") if e["subject_id"] == "INV-1002"]
    assert "S-HOURS" in one["message"] and "mappings set items" in one["hint"]
    from qbsync.workspace import Workspace
    from tests.sync.helpers import set_mapping

    with Workspace() as ws, transaction(ws.store):
        set_mapping(
            ws,
            connected_company.key,
            "items",
            "S-HOURS",
            ids[("Item", "Consulting Hours")],
            "Consulting Hours",
        )
        ws.store.execute("UPDATE outbox SET next_attempt_at = NULL")
    sync()
    assert open_exceptions("export_failing") == []
    assert {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")} == {
        "1001",
        "1002",
        "1003",
    }


def test_go_live_holds_old_documents_back_but_export_now_sends_them(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    map_demo(connected_company.key)
    run_json("config", "set", "companies.acme.go_live", "2026-10-04")  # after 1001 and 1002
    cycle = sync()
    exported = {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")}
    assert exported == {"1003"}
    assert {d["DocNumber"] for d in sim_docs(connected_company.server, "CreditMemo")} == {"CN-2001"}
    assert cycle["stats"]["exported"] == 2
    # The sample payment is on 1002, held back: an exception says why, it does not wait silently.
    [held] = open_exceptions("payment_invoice_not_in_qbo")
    assert "before the go-live date" in held["hint"] and "invoices export INV-1002" in held["hint"]

    out = run_json("invoices", "export", "INV-1002")["data"]
    assert [op["state"] for op in out["ops"]] == ["done"]
    assert "1002" in {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")}
    run_json("exceptions", "resolve", str(held["id"]), "--retry")
    sync()
    assert link(connected_company.key, "payment", "PAY-1") is not None
    assert open_exceptions("payment_invoice_not_in_qbo") == []


def test_a_note_that_merely_mentions_qbsync_is_not_taken_for_a_marker() -> None:
    from types import SimpleNamespace

    from qbsync.store import open_store
    from qbsync.sync.inbound.payments import _our_request

    db = open_store(memory=True)
    ctx = SimpleNamespace(db=db, company="acme")
    db.execute(
        "INSERT INTO outbox (company, kind, subject_type, subject_id, request_id, created_at, "
        "updated_at) VALUES ('acme', 'push_payment', 'payment', 'P1', 'abc123', 'x', 'x')"
    )
    assert _our_request(ctx, {"PrivateNote": "see qbsync:"}) is False  # type: ignore[arg-type]
    assert _our_request(ctx, {"PrivateNote": "qbsync:zzz"}) is False  # type: ignore[arg-type]
    assert _our_request(ctx, {"PrivateNote": "Voided qbsync:abc123"}) is True  # type: ignore[arg-type]
