"""`qbsync wizard history` and `go-live`: invoices already in QuickBooks linked, their payments
read back, and the next cycle exporting none of them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qbsync.store import open_store
from qbsync.wizard.history import net_amount, other_charges, propose
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo, sim_docs
from tests.wizard.helpers import qbo_copy


@pytest.fixture
def keyed_in(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> dict[str, Any]:
    """QuickBooks holds INV-1001 (paid 500.00 there), CN-2001, and INV-1002 with a different
    amount; INV-1003 is not in QuickBooks."""
    map_demo(connected_company.key)
    inv = qbo_copy(connected_company, "INV-1001")
    memo = qbo_copy(connected_company, "CN-2001")
    wrong = qbo_copy(connected_company, "INV-1002", extra=Decimal("10.00"))
    payment = connected_company.server.sim.record_payment(
        connected_company.realm_id,
        inv["CustomerRef"]["value"],
        "500.00",
        inv["Id"],
        ref_num="CHK-77",
    )
    return {"invoice": inv, "memo": memo, "wrong": wrong, "payment": payment}


def by_invoice(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["invoice"]: p for p in data["proposals"]}


def test_confident_links_payments_read_back_and_the_next_cycle_exports_none_of_them(
    connected_company: ConnectedCompany, keyed_in: dict[str, Any]
) -> None:
    company = connected_company
    data = run_json("wizard", "history", "--accept-confident")["data"]
    assert data["counts"] == {"confident": 2, "review": 1, "missing": 1}
    assert (data["linked"], data["payments_read"], data["payments_applied"]) == (2, 1, 1)
    review = by_invoice(data)["INV-1002"]
    assert review["status"] == "review"
    assert review["why"].startswith(
        "total differs: ledger 1040.34, QuickBooks 1050.34 tax included (lines 1032.50 and 1042.50)"
    )
    assert link(company.key, "invoice", "INV-1001")["qbo_id"] == str(keyed_in["invoice"]["Id"])
    assert link(company.key, "invoice", "CN-2001")["qbo_entity"] == "CreditMemo"
    assert link(company.key, "invoice", "INV-1001")["linked_by"] == "wizard"
    assert link(company.key, "invoice", "INV-1002") is None
    db = open_store()
    try:
        paid = list(
            db.query(
                "SELECT invoice_id, amount, source, reference FROM ledger_payments "
                "WHERE company = ? AND source = 'quickbooks'",
                [company.key],
            )
        )
    finally:
        db.close()
    assert paid == [
        {
            "invoice_id": "INV-1001",
            "amount": "500.00",
            "source": "quickbooks",
            "reference": "CHK-77",
        }
    ]

    # go-live after INV-1002's date: it stays home; INV-1003 is the only export
    preview = run_json("wizard", "go-live", "--date", "2026-10-04")["data"]
    assert preview["go_live"] == "2026-10-04"
    assert [r["invoice"] for r in preview["will_export"]] == ["INV-1003"]
    assert preview["held_back"] == 1 and preview["linked_by_wizard"] == 2
    assert run_json("config", "show")["data"]["companies"]["acme"]["go_live"] == "2026-10-04"

    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    assert cycle["stats"]["exported"] == 1
    numbers = [d["DocNumber"] for d in sim_docs(company.server, "Invoice")]
    assert sorted(numbers) == ["1001", "1002", "1003"]  # 1001 was not created again
    assert [d["DocNumber"] for d in sim_docs(company.server, "CreditMemo")] == ["CN-2001"]
    assert len(sim_docs(company.server, "Payment")) >= 1
    payments_on_1001 = [
        p
        for p in sim_docs(company.server, "Payment")
        for line in p.get("Line") or []
        for txn in line.get("LinkedTxn") or []
        if txn["TxnId"] == str(keyed_in["invoice"]["Id"]) and txn["TxnType"] == "Invoice"
    ]
    # the QuickBooks payment was not pushed back; the other is the ledger's credit note applied
    # (a zero-amount payment linking CN-2001 and INV-1001, both linked by the wizard)
    cash = [p for p in payments_on_1001 if Decimal(str(p["TotalAmt"])) > 0]
    assert [p["Id"] for p in cash] == [keyed_in["payment"]["Id"]]


def test_history_plan_round_trip_and_all_or_nothing(
    connected_company: ConnectedCompany, keyed_in: dict[str, Any], tmp_path: Path
) -> None:
    shown = run("wizard", "history")
    assert shown.exit_code == 0, shown.stderr
    assert "2 confident, 1 review, 1 missing" in shown.stdout and "total differs" in shown.stdout
    preview = run("wizard", "go-live")
    assert preview.exit_code == 0, preview.stderr
    assert "the first cycle will export 4 document(s)" in preview.stdout
    plan = tmp_path / "history.yaml"
    out = run_json("wizard", "history", "--plan-out", str(plan))["data"]
    assert out["proposed"] == {"confident": 2, "review": 1}
    data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    entries = {e["invoice"]: e for e in data["decisions"]}
    assert entries["INV-1001"]["action"] == "link"
    assert entries["INV-1002"]["action"] == "review" and entries["INV-1002"]["qbo_net"] == "1042.50"
    # a wrong entry: nothing is linked
    entries["INV-1002"].update(action="link", qbo_id=str(keyed_in["invoice"]["Id"]))
    plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    err = run_json("wizard", "history", "--plan", str(plan), code=2)["error"]
    assert "INV-1001 (line" in err["message"] and "both link Invoice" in err["message"]
    assert link(connected_company.key, "invoice", "INV-1001") is None
    # the accountant accepts the differing amount on purpose
    entries["INV-1002"].update(action="link", qbo_id=str(keyed_in["wrong"]["Id"]))
    plan.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run_json("wizard", "history", "--plan", str(plan))["data"]
    assert result["linked"] == 3 and result["payments_applied"] == 1
    assert link(connected_company.key, "invoice", "INV-1002")["qbo_id"] == str(
        keyed_in["wrong"]["Id"]
    )


def doc(
    number: str, customer: str, amounts: list[str], tax: str = "0", total: str | None = None
) -> dict[str, Any]:
    lines = [{"DetailType": "SalesItemLineDetail", "Amount": Decimal(a)} for a in amounts]
    lines.append({"DetailType": "SubTotalLineDetail", "Amount": sum(Decimal(a) for a in amounts)})
    net = sum((Decimal(a) for a in amounts), Decimal(0))
    return {
        "Id": number + "0",
        "DocNumber": number,
        "CustomerRef": {"value": customer, "name": f"customer {customer}"},
        "Line": lines,
        "TxnTaxDetail": {"TotalTax": Decimal(tax)},
        "TotalAmt": Decimal(total) if total is not None else net + Decimal(tax),
    }


def test_amounts_to_the_cent_customer_and_duplicates(
    sample_ledger: SampleLedger,
) -> None:
    # INV-1001: 1800.00 + 135.00 = 1935.00 before tax (the ledger subtotal)
    good = doc("1001", "1", ["1800.00", "135.00"], tax="11.14")
    assert net_amount(good) == Decimal("1935.00") and other_charges(good) == 0
    db = open_store()
    try:
        db.execute(
            "INSERT INTO mappings (company, kind, local_id, qbo_id, qbo_name, updated_at) VALUES "
            "('acme', 'customers', 'CL-1', '1', 'Acme Dental', 'now')"
        )
        cases = {
            "ok": [good],
            "penny": [doc("1001", "1", ["1800.00", "135.01"], tax="11.14")],
            "discount": [doc("1001", "1", ["1800.00", "135.00"], tax="11.14", total="1900.00")],
            "customer": [doc("1001", "2", ["1800.00", "135.00"], tax="11.14")],
            "twice": [good, {**good, "Id": "999"}],
        }
        got = {}
        for name, docs in cases.items():
            proposals = {
                p.invoice_id: p for p in propose(db, "acme", {"Invoice": docs, "CreditMemo": []})
            }
            got[name] = proposals["INV-1001"]
        assert proposals["INV-1003"].status == "missing"
    finally:
        db.close()
    assert (
        got["ok"].status == "confident" and got["ok"].why == "same number and total, same customer"
    )
    assert got["penny"].status == "review"
    assert got["penny"].why == (
        "total differs: ledger 1946.14, QuickBooks 1946.15 tax included (lines 1935.00 and 1935.01)"
    )
    assert (
        got["discount"].status == "review"
        and "discount and other charges 0.00 and -46.14" in got["discount"].why
    )
    assert got["customer"].status == "review" and "customer differs" in got["customer"].why
    assert (
        got["twice"].status == "review"
        and "2 QuickBooks Invoices carry number 1001" in got["twice"].why
    )
