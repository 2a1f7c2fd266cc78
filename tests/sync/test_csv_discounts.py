"""Discounts through the CSV fallback and the lookup by number. QuickBooks' invoice import has
no discount column, so a discounted invoice is left out of the file (named, not marked, an
`export_failing` exception until the sync creates it with its discount line). A document found
under an invoice's number is taken as the same only when it holds the ledger's money to the
cent, discount line and tax included, and once linked it is verified as a created document is.

The us-tax company (manual sales tax: New York City 4.5 % + 4.375 %, each rounded on its own),
the ledger imported through `qbsync ledger import`, mappings made by id. Figures by hand:

- 8101: 6 x 75.00 = 450.00 taxed + 66.63 not = 516.63; 7.5 % = 38.75 and a 12.34 voucher,
  51.09 off, spread over the lines by amount: 44.50 on the taxed 450.00, so 405.50 taxed:
  4.5 % = 18.2475 -> 18.25, 4.375 % = 17.740625 -> 17.74, tax 35.99; total 501.53.
  Without its discount, QuickBooks' copy is 516.63 + 39.94 (20.25 + 19.69) = 556.57.
- 8102: 2 x 150.00 = 300.00 taxed, 10.00 off: 290.00 taxed, 13.05 + 12.69 = 25.74; total
  315.74. Without its discount: 300.00 + 26.63 (13.50 + 13.13) = 326.63.
- 8103: 2 x 49.99 + 19.95 = 119.93 taxed, no discount: 5.40 + 5.25 = 10.65; total 130.58.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qbsync.store import open_store
from qbsync.store.tx import transaction
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.helpers import link, set_mapping, sim_docs
from tests.sync.test_payload_tax import SERVICES, by_name, item

US_TAX = SimOptions(seed="us-tax")
ITEMS = {"S-CON": "Consulting", "S-SUP": "Support Plan", "S-HW": "Hardware Kit"}

LEDGER: dict[str, Any] = {
    "clients": [{"id": "C-1", "name": "Hudson Bakery Inc.", "currency": "USD"}],
    "services": SERVICES,
    "tax_regions": [
        {
            "id": "TR-NYC",
            "name": "NYC sales tax",
            "components": [{"name": "NYC", "rate": "4.5"}, {"name": "NY", "rate": "4.375"}],
        },
        {"id": "TR-EX", "name": "Exempt"},
    ],
    "invoices": [
        {
            "id": "T1",
            "number": "8101",
            "client": "C-1",
            "date": "2026-11-02",
            "status": "finalized",
            "lines": [
                item("S-SUP", "6", "75.00", "TR-NYC"),
                item("S-CON", "1", "66.63", "TR-EX"),
                {"kind": "discount", "description": "Loyalty", "percent": "7.5"},
                {"kind": "discount", "description": "Voucher", "amount": "12.34"},
            ],
        },
        {
            "id": "T2",
            "number": "8102",
            "client": "C-1",
            "date": "2026-11-03",
            "status": "finalized",
            "lines": [
                item("S-HW", "2", "150.00", "TR-NYC"),
                {"kind": "discount", "description": "Voucher", "amount": "10.00"},
            ],
        },
        {
            "id": "T3",
            "number": "8103",
            "client": "C-1",
            "date": "2026-11-04",
            "status": "finalized",
            "lines": [item("S-SUP", "2", "49.99", "TR-NYC"), item("S-HW", "1", "19.95", "TR-NYC")],
        },
    ],
    "payments": [{"id": "PAY-1", "invoice": "T1", "amount": "100.00", "date": "2026-11-05"}],
}
FIGURES = {  # number: (total, tax) in the ledger
    "8101": ("501.53", "35.99"),
    "8102": ("315.74", "25.74"),
    "8103": ("130.58", "10.65"),
}


def set_up(company: ConnectedCompany, tmp_path: Path, *, named: bool = True) -> dict[str, str]:
    """Import the ledger and map it by id (with QuickBooks' names when `named`, else by id
    alone, as `qbsync mappings set items S-CON 7` leaves it). Returns the QuickBooks ids."""
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps({"version": 1, **LEDGER}), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", company.key)
    server = company.server
    ids = {"C-1": by_name(server, "Customer", "Hudson Bakery")}
    ids.update({local: by_name(server, "Item", name) for local, name in ITEMS.items()})
    ids["TR-NYC"] = by_name(server, "TaxCode", "New York City")
    names = {"C-1": "Hudson Bakery", **ITEMS, "TR-NYC": "New York City"}
    kinds = {"C-1": "customers", "TR-NYC": "tax_codes", **dict.fromkeys(ITEMS, "items")}
    with Workspace() as ws, transaction(ws.store):
        for local, kind in kinds.items():
            if named:
                set_mapping(ws, company.key, kind, local, ids[local], names[local])
            else:
                ws.store.execute(
                    "INSERT OR REPLACE INTO mappings (company, kind, local_id, qbo_id, qbo_name, "
                    "updated_at) VALUES (?, ?, ?, ?, NULL, '2026-11-01T00:00:00+00:00')",
                    [company.key, kind, local, ids[local]],
                )
        set_mapping(ws, company.key, "tax_codes", "TR-EX", "NON", "NON")
    db = open_store()
    try:
        held = {
            r["number"]: (money(r["total"]), money(r["tax"]))
            for r in db.query("SELECT number, total, tax FROM ledger_invoices")
        }
    finally:
        db.close()
    assert held == {n: (Decimal(t), Decimal(x)) for n, (t, x) in FIGURES.items()}
    return ids


def key_in(
    company: ConnectedCompany,
    ids: dict[str, str],
    invoice_id: str,
    *,
    discount: bool,
    one_line: bool = False,
) -> dict[str, Any]:
    """The ledger invoice as it is keyed into (or imported by) QuickBooks: its number,
    customer, lines with TAX or NON and the tax code; its discount line only when `discount`;
    with `one_line`, its lines keyed as one line of their sum (the same money)."""
    db = open_store()
    try:
        inv = next(db.query("SELECT * FROM ledger_invoices WHERE id = ?", [invoice_id]))
        rows = list(
            db.query(
                "SELECT * FROM ledger_invoice_lines WHERE invoice_id = ? ORDER BY line_no",
                [invoice_id],
            )
        )
    finally:
        db.close()
    lines: list[dict[str, Any]] = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": str(row["amount"]),
            "SalesItemLineDetail": {
                "ItemRef": {"value": ids[row["service_id"]]},
                "Qty": str(row["quantity"]),
                "UnitPrice": str(row["unit_price"]),
                "TaxCodeRef": {"value": "TAX" if row["tax_region_id"] == "TR-NYC" else "NON"},
            },
        }
        for row in rows
    ]
    if one_line:
        total = sum((Decimal(str(ln["Amount"])) for ln in lines), Decimal(0))
        lines = [dict(lines[0], Amount=str(total))]
        lines[0]["SalesItemLineDetail"] = dict(
            lines[0]["SalesItemLineDetail"], Qty="1", UnitPrice=str(total)
        )
    if discount and Decimal(str(inv["discount"])):
        lines.append(
            {
                "DetailType": "DiscountLineDetail",
                "Amount": str(inv["discount"]),
                "DiscountLineDetail": {"PercentBased": False},
            }
        )
    body = {
        "DocNumber": inv["number"],
        "CustomerRef": {"value": ids["C-1"]},
        "TxnDate": inv["date"],
        "Line": lines,
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": ids["TR-NYC"]}},
    }
    return company.control.create(company.realm_id, "Invoice", body)


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def open_exceptions(kind: str) -> dict[str, dict[str, Any]]:
    rows = run_json("exceptions", "list", "--open", "--kind", kind)["data"]
    return {row["subject_id"]: row for row in rows}


def payments_on(company: ConnectedCompany, qbo_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in sim_docs(company.server, "Payment")
        for line in p.get("Line") or []
        for txn in line.get("LinkedTxn") or []
        if txn.get("TxnType") == "Invoice" and str(txn.get("TxnId")) == qbo_id
    ]


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("sim_options", [US_TAX])
def test_a_copy_without_its_discount_is_not_linked_and_gets_no_payment(
    served_company: ConnectedCompany, tmp_path: Path
) -> None:
    """The CSV import of a discounted invoice, as the file used to carry it: same lines,
    customer and number, no discount. Over a real socket."""
    ids = set_up(served_company, tmp_path)
    t1 = key_in(served_company, ids, "T1", discount=False)
    t2 = key_in(served_company, ids, "T2", discount=False)
    t3 = key_in(served_company, ids, "T3", discount=False)  # nothing to leave out: the same
    assert (money(t1["TotalAmt"]), money(t1["TxnTaxDetail"]["TotalTax"])) == (
        Decimal("556.57"),
        Decimal("39.94"),
    )
    assert money(t2["TotalAmt"]) == Decimal("326.63")

    cycle = run_json("sync", "run")["data"]["cycles"][0]

    assert cycle["result"] in ("succeeded", "partial"), cycle
    assert link(served_company.key, "invoice", "T1") is None
    assert link(served_company.key, "invoice", "T2") is None
    third = link(served_company.key, "invoice", "T3")
    assert third is not None
    assert (third["qbo_id"], third["linked_by"]) == (str(t3["Id"]), "matched_number")
    held = open_exceptions("duplicate_number")
    assert sorted(held) == ["T1", "T2"]
    message = held["T1"]["message"]
    assert "total 501.53" in message and "total 556.57" in message, message
    assert "discount: ledger 51.09 vs QuickBooks 0.00" in message, message
    assert "total: ledger 501.53 vs QuickBooks 556.57" in message, message
    assert "tax: ledger 35.99 vs QuickBooks 39.94" in message, message
    data = held["T2"]["data"]
    assert (data["ours"]["total"], data["ours"]["discount"]) == ("315.74", "10.00")
    assert data["theirs"][0]["total"] == "326.63"
    assert "total: ledger 315.74 vs QuickBooks 326.63" in data["differences"]
    # Nothing created under the numbers, and the ledger's payment is not put on their copy.
    numbers = Counter(str(d.get("DocNumber")) for d in sim_docs(served_company.server, "Invoice"))
    assert numbers == Counter({"8101": 1, "8102": 1, "8103": 1})
    assert payments_on(served_company, str(t1["Id"])) == []
    assert open_exceptions("total_mismatch") == {} and open_exceptions("tax_mismatch") == {}
    assert served_company.control.invariants() == []


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("sim_options", [US_TAX])
def test_discounted_invoices_stay_out_of_the_csv_and_the_sync_creates_them(
    served_company: ConnectedCompany, tmp_path: Path
) -> None:
    ids = set_up(served_company, tmp_path)
    path = tmp_path / "out.csv"

    out = run_json("invoices", "export", "--csv", str(path))["data"]

    assert (out["invoices"], out["marked"], out["discounted_left_out"]) == (1, 1, 2)
    assert [(o["invoice"], o["discount"]) for o in out["left_out"]] == [
        ("T1", "51.09"),
        ("T2", "10.00"),
    ]
    assert "8101, 8102" in out["warning"]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["InvoiceNo"] for r in rows} == {"8103"}
    # QuickBooks' names, from the mappings: not the ledger's "Hudson Bakery Inc."
    assert {r["Customer"] for r in rows} == {"Hudson Bakery"}
    assert {r["ItemTaxCode"] for r in rows} == {"New York City"}
    held = {r["id"]: r["held"] for r in run_json("invoices", "list")["data"]}
    assert held == {"T1": None, "T2": None, "T3": "csv fallback"}
    failing = open_exceptions("export_failing")
    assert sorted(failing) == ["T1", "T2"]
    assert "discount of 51.09" in failing["T1"]["message"]
    assert "out.csv" in failing["T1"]["message"]

    # The file is imported (T3 as QuickBooks computes it), then the connection comes back.
    t3 = key_in(served_company, ids, "T3", discount=False)
    cycle = run_json("sync", "run")["data"]["cycles"][0]

    assert cycle["result"] == "succeeded", cycle
    docs = {d["DocNumber"]: d for d in sim_docs(served_company.server, "Invoice")}
    assert sorted(docs) == ["8101", "8102", "8103"]
    for number, (total, tax) in FIGURES.items():
        doc = docs[number]
        assert (money(doc["TotalAmt"]), money(doc["TxnTaxDetail"]["TotalTax"])) == (
            Decimal(total),
            Decimal(tax),
        ), number
    [discount_line] = [
        ln for ln in docs["8101"]["Line"] if ln["DetailType"] == "DiscountLineDetail"
    ]
    assert money(discount_line["Amount"]) == Decimal("51.09")
    row = link(served_company.key, "invoice", "T3")
    assert row is not None and (row["qbo_id"], row["linked_by"]) == (
        str(t3["Id"]),
        "matched_number",
    )
    assert open_exceptions("export_failing") == {}
    assert run_json("exceptions", "list", "--open")["data"] == []
    assert served_company.control.invariants() == []


@pytest.mark.parametrize("sim_options", [US_TAX])
def test_a_copy_with_its_discount_is_the_same_document(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ids = set_up(connected_company, tmp_path)
    t1 = key_in(connected_company, ids, "T1", discount=True)
    t2 = key_in(connected_company, ids, "T2", discount=True)
    assert (money(t1["TotalAmt"]), money(t2["TotalAmt"])) == (Decimal("501.53"), Decimal("315.74"))

    cycle = run_json("sync", "run")["data"]["cycles"][0]

    assert cycle["result"] == "succeeded", cycle
    for invoice_id, doc in (("T1", t1), ("T2", t2)):
        row = link(connected_company.key, "invoice", invoice_id)
        assert row is not None
        assert (row["qbo_id"], row["linked_by"]) == (str(doc["Id"]), "matched_number")
    assert run_json("exceptions", "list", "--open")["data"] == []
    # What follows the link goes on: the ledger's payment reaches the linked document.
    assert [money(p["TotalAmt"]) for p in payments_on(connected_company, str(t1["Id"]))] == [
        Decimal("100.00")
    ]


@pytest.mark.parametrize("sim_options", [US_TAX])
def test_a_document_linked_by_number_is_verified_line_by_line(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    """The same money (130.58, tax 10.65) keyed as one line instead of the ledger's two: the
    same document, linked, and the verification says what differs."""
    ids = set_up(connected_company, tmp_path)
    t3 = key_in(connected_company, ids, "T3", discount=False, one_line=True)
    assert money(t3["TotalAmt"]) == Decimal("130.58")

    run_json("sync", "run")

    row = link(connected_company.key, "invoice", "T3")
    assert row is not None and row["qbo_id"] == str(t3["Id"])
    mismatch = open_exceptions("total_mismatch")
    assert sorted(mismatch) == ["T3"]
    message = mismatch["T3"]["message"]
    assert "the totals agree at 130.58" in message, message
    assert "item lines: ledger 2 vs QuickBooks 1" in message, message
    assert mismatch["T3"]["data"]["quickbooks_total"] == "130.58"


@pytest.mark.parametrize("sim_options", [US_TAX])
def test_a_csv_needs_quickbooks_names_for_what_is_mapped_by_id(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    set_up(connected_company, tmp_path, named=False)
    path = tmp_path / "by-id.csv"

    err = run_json("invoices", "export", "--csv", str(path), code=2)["error"]

    message = err["message"]
    assert "No file was written" in message
    for named in ("customers C-1", "items S-SUP", "items S-HW", "tax_codes TR-NYC"):
        assert named in message, (named, message)
    assert "items S-CON" not in message  # only on 8101, which stays out (its discount)
    assert "qbsync mappings set" in err["hint"]
    assert not path.exists()
    held = {r["id"]: r["held"] for r in run_json("invoices", "list")["data"]}
    assert set(held.values()) == {None}
