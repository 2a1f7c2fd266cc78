"""Credit application (and QuickBooks' auto-apply race), and every exception kind raised and
resolved, end to end: the real CLI, the simulator (in-process), the sample ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from qbsync.store.tx import transaction
from qbsync.sync import links as links_mod
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import (
    link,
    map_demo,
    set_config,
    set_mapping,
    sim_docs,
    store_execute,
    store_query,
)


def sync() -> dict[str, Any]:
    data: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    return data


def open_exceptions(kind: str | None = None) -> list[dict[str, Any]]:
    args = ["exceptions", "list", "--open"] + (["--kind", kind] if kind else [])
    data: list[dict[str, Any]] = run_json(*args)["data"]
    return data


def credit_payments(server: Any, memo_id: str) -> list[dict[str, Any]]:
    """Payments in the simulator that spend credit memo `memo_id`."""
    return [
        p
        for p in sim_docs(server, "Payment")
        if any(
            t.get("TxnType") == "CreditMemo" and str(t.get("TxnId")) == memo_id
            for line in p.get("Line") or []
            for t in line.get("LinkedTxn") or []
        )
    ]


def op_for(subject_id: str, kind: str) -> dict[str, Any]:
    [op] = store_query(
        "SELECT * FROM outbox WHERE subject_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        [subject_id, kind],
    )
    return op


def remap(client: str, qbo_id: str) -> None:
    """What `qbsync mappings set customers CLIENT QBO_ID` does."""
    with Workspace() as ws, transaction(ws.store):
        set_mapping(ws, "acme", "customers", client, qbo_id, "")


def due_now() -> None:
    """Time passes: every op waiting for its next attempt becomes due."""
    store_execute("UPDATE outbox SET next_attempt_at = NULL")


@pytest.fixture
def mapped(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    map_demo(connected_company.key)
    return connected_company


@pytest.fixture
def synced(mapped: ConnectedCompany) -> ConnectedCompany:
    assert sync()["result"] == "succeeded"
    return mapped


# --- credits -----------------------------------------------------------------------------


def test_credit_application_with_auto_apply_off(mapped: ConnectedCompany) -> None:
    mapped.control.set_preferences(mapped.realm_id, {"SalesFormsPrefs": {"AutoApplyCredit": False}})
    sync()
    inv, memo = link(mapped.key, "invoice", "INV-1001"), link(mapped.key, "invoice", "CN-2001")
    assert inv and memo
    [applied] = credit_payments(mapped.server, memo["qbo_id"])
    assert Decimal(str(applied["TotalAmt"])) == 0
    targets = {
        (t["TxnType"], str(t["TxnId"]), Decimal(str(line["Amount"])))
        for line in applied["Line"]
        for t in line["LinkedTxn"]
    }
    assert targets == {
        ("Invoice", inv["qbo_id"], Decimal("150.00")),
        ("CreditMemo", memo["qbo_id"], Decimal("150.00")),
    }
    doc = mapped.control.get(mapped.realm_id, "Invoice", inv["qbo_id"])
    assert Decimal(str(doc["TotalAmt"])) - Decimal(str(doc["Balance"])) == Decimal("150.00")
    cm = mapped.control.get(mapped.realm_id, "CreditMemo", memo["qbo_id"])
    assert Decimal(str(cm["RemainingCredit"])) == 0
    assert op_for("CA-1", "apply_credit")["state"] == "done"
    # Its echo is not a QuickBooks payment: the ledger's balance stays QuickBooks' balance.
    sync()
    show = run_json("invoices", "show", "INV-1001")["data"]
    assert [p for p in show["payments"] if p["source"] == "quickbooks"] == []
    assert len(credit_payments(mapped.server, memo["qbo_id"])) == 1
    assert mapped.server.sim.check_invariants() == []


def test_auto_apply_race_raises_and_never_applies_twice(mapped: ConnectedCompany) -> None:
    ctl, realm = mapped.control, mapped.realm_id
    prefs = ctl.set_preferences(realm, {"SalesFormsPrefs": {"AutoApplyCredit": True}})
    assert prefs["SalesFormsPrefs"]["AutoApplyCredit"] is True
    # The credit note reaches QuickBooks first; when the invoice follows, QuickBooks spends
    # the open credit on it by itself.
    run_json("invoices", "export", "CN-2001")
    memo = link(mapped.key, "invoice", "CN-2001")
    assert memo
    cycle = sync()
    inv = link(mapped.key, "invoice", "INV-1001")
    assert inv
    [auto] = credit_payments(mapped.server, memo["qbo_id"])  # QuickBooks' own application
    assert "qbsync:" not in (auto.get("PrivateNote") or "")
    op = op_for("CA-1", "apply_credit")
    assert op["state"] == "errored", op
    [failing] = open_exceptions("credit_application_failing")
    assert failing["subject_id"] == "CA-1" and "already used" in failing["message"]
    assert cycle["stats"]["exceptions_raised"] >= 1
    # Later cycles read QuickBooks' application back, and still nothing is applied twice.
    sync()
    sync()
    assert len(credit_payments(mapped.server, memo["qbo_id"])) == 1
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    assert Decimal(str(doc["TotalAmt"])) - Decimal(str(doc["Balance"])) == Decimal("150.00")
    # The ledger counts the credit once, as QuickBooks does.
    show = run_json("invoices", "show", "INV-1001")["data"]
    assert Decimal(show["paid"]) == Decimal("150.00"), show
    assert [p for p in show["payments"] if p["source"] == "quickbooks"] == []
    assert mapped.server.sim.check_invariants() == []


def test_credit_quickbooks_spends_on_another_invoice_is_not_counted_twice(
    mapped: ConnectedCompany, tmp_path: Any
) -> None:
    # CN-2001 (150.00) is open in QuickBooks; an invoice of the same customer reaches it before
    # INV-1001, and QuickBooks spends the credit on that one. The ledger applies CN-2001 to
    # INV-1001 (CA-1): its credit must not be counted a second time on INV-1005.
    ctl, realm = mapped.control, mapped.realm_id
    ctl.set_preferences(realm, {"SalesFormsPrefs": {"AutoApplyCredit": True}})
    run_json("invoices", "export", "CN-2001")
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "invoices:\n"
        "  - {id: INV-1005, number: '1005', client: CL-1, date: 2026-10-12, status: finalized,\n"
        "     lines: [{service: S-MSP, quantity: 2, unit_price: 150.00, tax_region: TR-EX}]}\n",
        encoding="utf-8",
    )
    run_json("ledger", "import", str(extra), "--company", mapped.key)
    run_json("invoices", "export", "INV-1005")
    memo = link(mapped.key, "invoice", "CN-2001")
    assert memo
    [auto] = credit_payments(mapped.server, memo["qbo_id"])  # QuickBooks' own, on INV-1005
    sync()
    sync()
    [used] = open_exceptions("qbo_credit_already_used")
    assert used["subject_id"] == str(auto["Id"])
    assert "applies 150.00 of credit note CN-2001, which has 0.00 left" in used["message"]
    assert "CA-1 150.00 on INV-1001" in used["message"]
    # The credit note's 150.00 is counted once: on INV-1001, as the ledger applies it.
    note = run_json("invoices", "show", "CN-2001")["data"]
    assert Decimal(note["balance"]) == Decimal("0.00"), note
    moved = run_json("invoices", "show", "INV-1005")["data"]
    assert Decimal(moved["paid"]) == Decimal("0.00"), moved

    # Taken off in QuickBooks, the credit goes where the ledger applies it, and it all ties.
    ctl.delete_payment(realm, str(auto["Id"]))
    [failing] = open_exceptions("credit_application_failing")
    run_json("exceptions", "resolve", str(failing["id"]), "--retry")
    sync()
    assert open_exceptions("qbo_credit_already_used") == []
    [applied] = credit_payments(mapped.server, memo["qbo_id"])
    assert "qbsync:" in (applied.get("PrivateNote") or "")
    assert mapped.server.sim.check_invariants() == []


# --- outbound failures ---------------------------------------------------------------------


def test_export_failing_at_the_attempt_cap_then_retry(mapped: ConnectedCompany) -> None:
    set_config("sync.attempt_cap", "2")
    ctl = mapped.control
    ctl.inject_fault("/v3/company/*/batch", method="POST", status=400, code="6000")
    sync()
    op = op_for("INV-1001", "export_invoice")
    assert op["state"] == "failed" and op["attempts"] == 1
    due_now()
    sync()
    op = op_for("INV-1001", "export_invoice")
    assert op["state"] == "errored" and op["attempts"] == 2
    failing = {e["subject_id"]: e for e in open_exceptions("export_failing")}
    assert set(failing) == {"INV-1001", "INV-1002", "INV-1003", "CN-2001"}
    assert "after 2 attempts" in failing["INV-1001"]["message"]
    assert sim_docs(mapped.server, "Invoice") == []
    due_now()
    sync()  # errored ops stay put without a person
    assert op_for("INV-1001", "export_invoice")["state"] == "errored"

    ctl.clear_faults()
    out = run_json("exceptions", "resolve", str(failing["INV-1001"]["id"]), "--retry")["data"]
    assert out["ops_requeued"] == 1
    sync()
    assert op_for("INV-1001", "export_invoice")["state"] == "done"
    assert [d["DocNumber"] for d in sim_docs(mapped.server, "Invoice")] == ["1001"]
    assert "INV-1001" not in {e["subject_id"] for e in open_exceptions("export_failing")}


def test_one_invalid_document_fails_alone_in_its_batch(mapped: ConnectedCompany) -> None:
    set_config("sync.attempt_cap", "2")
    ctl, realm = mapped.control, mapped.realm_id
    hardware = map_demo(mapped.key)[("Item", "Hardware Setup")]
    ctl.edit(realm, "Item", hardware, {"Active": False})  # INV-1002 uses it: a 610 per item
    sync()
    assert sorted(d["DocNumber"] for d in sim_docs(mapped.server, "Invoice")) == ["1001", "1003"]
    op = op_for("INV-1002", "export_invoice")
    assert op["state"] == "failed" and op["last_error_code"] == "610", op
    due_now()
    sync()
    op = op_for("INV-1002", "export_invoice")
    assert op["state"] == "errored" and op["attempts"] == 2
    [failing] = open_exceptions("export_failing")
    assert failing["subject_id"] == "INV-1002" and "after 2 attempts" in failing["message"]
    assert failing["data"]["code"] == "610"
    ctl.edit(realm, "Item", hardware, {"Active": True})
    run_json("exceptions", "resolve", str(failing["id"]), "--retry")
    sync()
    last = op_for("INV-1002", "export_invoice")
    assert last["state"] == "done", (last["last_error"], last["last_error_code"])
    assert sorted(d["DocNumber"] for d in sim_docs(mapped.server, "Invoice")) == [
        "1001",
        "1002",
        "1003",
    ]
    assert open_exceptions("export_failing") == []


def test_void_failing_then_retry(synced: ConnectedCompany) -> None:
    ctl = synced.control
    qbo = link(synced.key, "invoice", "INV-1003")
    assert qbo
    rule = ctl.inject_fault(
        "/v3/company/*/invoice", method="POST", status=400, code="6210", count=10
    )
    run_json("invoices", "void", "INV-1003", "--reason", "issued twice", "--yes")
    sync()
    [failing] = open_exceptions("void_failing")
    assert failing["subject_id"] == "INV-1003"
    assert ctl.faults()[0]["fired"] >= 1 and rule["id"]
    doc = ctl.get(synced.realm_id, "Invoice", qbo["qbo_id"])
    assert Decimal(str(doc["TotalAmt"])) > 0  # not voided yet
    ctl.clear_faults()
    run_json("exceptions", "resolve", str(failing["id"]), "--retry")
    sync()
    doc = ctl.get(synced.realm_id, "Invoice", qbo["qbo_id"])
    assert Decimal(str(doc["TotalAmt"])) == 0
    assert open_exceptions("void_failing") == []
    assert link(synced.key, "invoice", "INV-1003")["state"] == "voided"  # type: ignore[index]


def record_payment(invoice: str, amount: str, pid: str) -> None:
    run_json(
        "payments",
        "record",
        "--invoice",
        invoice,
        "--amount",
        amount,
        "--date",
        "2026-11-02",
        "--method",
        "check",
        "--id",
        pid,
    )


def test_payment_invoice_not_in_quickbooks(synced: ConnectedCompany) -> None:
    ctl = synced.control
    qbo = link(synced.key, "invoice", "INV-1003")
    assert qbo
    ctl.delete_invoice(synced.realm_id, qbo["qbo_id"])
    sync()
    record_payment("INV-1003", "100.00", "PAY-NQ")
    sync()
    [missing] = open_exceptions("payment_invoice_not_in_qbo")
    assert missing["subject_id"] == "PAY-NQ" and "1003" in missing["message"]
    assert link(synced.key, "payment", "PAY-NQ") is None
    # Re-create the invoice, then retry the payment.
    [drift] = open_exceptions("drift_voided_or_deleted")
    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    run_json("exceptions", "resolve", str(missing["id"]), "--retry")
    sync()
    pay = link(synced.key, "payment", "PAY-NQ")
    new_inv = link(synced.key, "invoice", "INV-1003")
    assert pay and new_inv
    doc = ctl.get(synced.realm_id, "Payment", pay["qbo_id"])
    assert doc["Line"][0]["LinkedTxn"][0]["TxnId"] == new_inv["qbo_id"]
    assert open_exceptions("payment_invoice_not_in_qbo") == []


def test_payment_customer_not_mapped(synced: ConnectedCompany) -> None:
    [row] = store_query("SELECT * FROM mappings WHERE kind = 'customers' AND local_id = 'CL-3'")
    store_execute("DELETE FROM mappings WHERE kind = 'customers' AND local_id = 'CL-3'")
    record_payment("INV-1003", "100.00", "PAY-NM")
    sync()
    [unmapped] = open_exceptions("payment_customer_not_mapped")
    assert unmapped["subject_id"] == "PAY-NM" and "CL-3" in unmapped["message"]
    assert "mappings set customers CL-3" in unmapped["hint"]
    assert link(synced.key, "payment", "PAY-NM") is None
    remap("CL-3", row["qbo_id"])
    run_json("exceptions", "resolve", str(unmapped["id"]), "--retry")
    sync()
    assert link(synced.key, "payment", "PAY-NM")
    assert open_exceptions("payment_customer_not_mapped") == []


def test_a_refused_payment_goes_through_once_its_cause_is_fixed(synced: ConnectedCompany) -> None:
    """QuickBooks replays its first answer to a repeated requestid, refusals included: the
    retry after a fix must not be answered with the old refusal."""
    ids = map_demo(synced.key)
    income = next(
        a["Id"]
        for a in sim_docs(synced.server, "Account")
        if a.get("AccountType") == "Income" and a.get("Active", True)
    )
    with Workspace() as ws, transaction(ws.store):
        set_mapping(ws, synced.key, "accounts", "deposit", income, "")
    record_payment("INV-1003", "100.00", "PAY-DEP")
    sync()
    op = op_for("PAY-DEP", "push_payment")
    assert op["state"] == "failed" and op["last_error_code"] == "6000", (
        op["state"],
        op["last_error"],
    )
    [refused] = [e for e in open_exceptions() if e["subject_id"] == "PAY-DEP"]
    assert refused["kind"] == "payment_push_failing"
    assert "Bank or Other Current Asset" in refused["message"]
    with Workspace() as ws, transaction(ws.store):
        set_mapping(ws, synced.key, "accounts", "deposit", ids[("Account", "Checking")], "")
    run_json("exceptions", "resolve", str(refused["id"]), "--retry")
    sync()
    pay = link(synced.key, "payment", "PAY-DEP")
    last = op_for("PAY-DEP", "push_payment")
    assert pay, (last["state"], last["attempts"], last["last_error"], last["next_attempt_at"])
    doc = synced.control.get(synced.realm_id, "Payment", pay["qbo_id"])
    assert doc["DepositToAccountRef"]["value"] == ids[("Account", "Checking")]
    assert [e for e in open_exceptions() if e["subject_id"] == "PAY-DEP"] == []


def test_pushed_payment_larger_than_the_quickbooks_balance(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id
    inv = link(synced.key, "invoice", "INV-1003")
    assert inv
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    balance = Decimal(str(doc["Balance"]))
    # QuickBooks already took most of it; the ledger has not seen that yet when it pushes.
    ctl.record_payment(
        realm, doc["CustomerRef"]["value"], str(balance - 100), invoice_id=inv["qbo_id"]
    )
    record_payment("INV-1003", "300.00", "PAY-BIG")
    # Push first (outbound of a cycle whose inbound cannot read): a 300.00 payment on an
    # invoice owing 100.00 in QuickBooks.
    ctl.inject_fault("/v3/company/*/cdc*", method="GET", status=503, count=20)
    failed = run_json("sync", "run", code=1)["data"]["cycles"][0]
    assert failed["result"] == "failed" and failed["error"].startswith("inbound:")
    ctl.clear_faults()
    pay = link(synced.key, "payment", "PAY-BIG")
    assert pay, store_query("SELECT * FROM outbox WHERE subject_id = 'PAY-BIG'")
    qbo_pay = ctl.get(realm, "Payment", pay["qbo_id"])
    assert Decimal(str(qbo_pay["TotalAmt"])) == Decimal("300.00")
    assert Decimal(str(qbo_pay["UnappliedAmt"])) == Decimal("200.00")
    [unapplied] = open_exceptions("pushed_payment_unapplied")
    assert unapplied["subject_id"] == "PAY-BIG" and "200.00" in unapplied["message"]
    assert synced.server.sim.check_invariants() == []
    run_json("exceptions", "resolve", str(unapplied["id"]), "--dismiss", "--note", "refunded")
    assert open_exceptions("pushed_payment_unapplied") == []


# --- QuickBooks-side payments --------------------------------------------------------------


def test_quickbooks_payment_on_an_unknown_invoice_applies_once_linked(
    synced: ConnectedCompany, tmp_path: Any
) -> None:
    ctl, realm = synced.control, synced.realm_id
    set_config("companies.acme.go_live", "2026-11-01")  # INV-1005 is history: not exported
    (tmp_path / "more.yaml").write_text(
        "version: 1\ninvoices:\n  - {id: INV-1005, number: '1005', client: CL-4, "
        "date: 2026-10-20, terms: T-30, status: finalized, lines: [{service: S-HW, "
        "quantity: 2, unit_price: 95.00, tax_region: TR-EX}]}\n",
        encoding="utf-8",
    )
    run_json("ledger", "import", str(tmp_path / "more.yaml"))
    customer = map_demo(synced.key)[("Customer", "Delta Logistics")]
    item = map_demo(synced.key)[("Item", "Hardware Setup")]
    made = ctl.create(
        realm,
        "Invoice",
        {
            "CustomerRef": {"value": customer},
            "DocNumber": "1005",
            "TxnDate": "2026-10-20",
            "Line": [
                {
                    "Amount": 190,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 2, "UnitPrice": 95},
                }
            ],
        },
    )
    paid = ctl.record_payment(realm, customer, "190.00", invoice_id=made["Id"])
    cycle = sync()
    assert cycle["stats"]["payments_applied"] == 0
    [unknown] = open_exceptions("qbo_payment_unknown_invoice")
    assert unknown["qbo_id"] == paid["Id"] and made["Id"] in unknown["message"]
    assert run_json("invoices", "show", "INV-1005")["data"]["paid"] == "0.00"
    sync()  # read again inside the overlap: still one exception, nothing applied
    assert len(open_exceptions("qbo_payment_unknown_invoice")) == 1
    assert link(synced.key, "invoice", "INV-1005") is None  # held back by go-live

    # The wizard links the history invoice; the next cycle applies the payment.
    with Workspace() as ws, transaction(ws.store):
        doc = ctl.get(realm, "Invoice", made["Id"])
        links_mod.save(
            ws.store, synced.key, "invoice", "INV-1005", "Invoice", doc, linked_by="wizard"
        )
    cycle = sync()
    assert cycle["stats"]["payments_applied"] == 1
    show = run_json("invoices", "show", "INV-1005")["data"]
    assert show["paid"] == "190.00"
    assert [p["source"] for p in show["payments"]] == ["quickbooks"]
    assert open_exceptions("qbo_payment_unknown_invoice") == []
    sync()
    assert run_json("invoices", "show", "INV-1005")["data"]["paid"] == "190.00"
    assert len(sim_docs(synced.server, "Invoice")) == 4  # nothing exported for INV-1005


def test_quickbooks_payment_on_a_settled_invoice(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id
    inv = link(synced.key, "invoice", "INV-1003")
    assert inv
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    total = Decimal(str(doc["TotalAmt"]))
    # Settled in the ledger by a local payment recorded after the last cycle...
    record_payment("INV-1003", str(total), "PAY-ALL")
    # ...while someone also took the full amount in QuickBooks.
    qbo_pay = ctl.record_payment(
        realm, doc["CustomerRef"]["value"], str(total), invoice_id=inv["qbo_id"]
    )
    cycle = sync()
    assert cycle["stats"]["payments_applied"] == 0
    [settled] = open_exceptions("qbo_payment_settled_invoice")
    assert settled["qbo_id"] == qbo_pay["Id"] and "owes only 0.00" in settled["message"]
    show = run_json("invoices", "show", "INV-1003")["data"]
    assert show["paid"] == str(total)  # counted once
    # The accountant deletes the duplicate local payment's twin in QuickBooks; resolved.
    ctl.delete_payment(realm, qbo_pay["Id"])
    sync()
    assert open_exceptions("qbo_payment_settled_invoice") == []
    assert run_json("invoices", "show", "INV-1003")["data"]["paid"] == str(total)


def test_customer_deactivated_or_merged_is_unavailable(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id
    ids = {
        r["local_id"]: r["qbo_id"]
        for r in store_query("SELECT * FROM mappings WHERE kind = 'customers'")
    }
    ctl.deactivate_customer(realm, ids["CL-4"])
    ctl.merge_customer(realm, ids["CL-3"], ids["CL-2"])
    sync()
    found = {e["subject_id"]: e for e in open_exceptions("customer_unavailable")}
    assert set(found) == {"CL-3", "CL-4"}
    assert "inactive" in found["CL-4"]["message"]
    assert found["CL-3"]["qbo_id"] == ids["CL-3"]
    sync()
    assert len(open_exceptions("customer_unavailable")) == 2  # deduplicated
    # CL-4: made active again in QuickBooks; CL-3: mapped to the surviving customer.
    ctl.edit(realm, "Customer", ids["CL-4"], {"Active": True})
    remap("CL-3", ids["CL-2"])
    sync()
    assert open_exceptions("customer_unavailable") == []


# --- the connection ------------------------------------------------------------------------


def test_connection_expiring_warning_and_clear(synced: ConnectedCompany) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=6)).isoformat()
    store_execute("UPDATE companies SET refresh_expires_at = ? WHERE key = ?", [soon, synced.key])
    sync()
    [expiring] = open_exceptions("connection_expiring")
    assert expiring["data"]["threshold_days"] == 7
    assert "expires in 6 days" in expiring["message"] and "qbsync connect" in expiring["hint"]
    sync()
    assert len(open_exceptions("connection_expiring")) == 1
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).isoformat()
    store_execute("UPDATE companies SET refresh_expires_at = ? WHERE key = ?", [later, synced.key])
    sync()
    assert open_exceptions("connection_expiring") == []
