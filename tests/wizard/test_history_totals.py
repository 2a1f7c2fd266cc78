"""The history step compares what the customer owes: the ledger's total (after discount, tax
included) against QuickBooks' TotalAmt, to the cent. Documents keyed into the us-tax company
by hand (New York City: 4.5 % + 4.375 %), the simulator computing their tax as QuickBooks does.

Figures by hand (docs/ledger.md: tax rounded once per rate on the taxable net, half-up):
- 9101: 10 x 49.99 = 499.90 less 10 % (49.99) = 449.91; 20.24595 -> 20.25 + 19.6835625 -> 19.68
  = 39.93; total 489.84.
- 9102: 2 x 49.99 = 99.98 taxed (4.4991 -> 4.50 + 4.374125 -> 4.37 = 8.87) + 120.00 not taxed:
  total 228.85.
- 9103: the same 99.98 as 9102's taxed line: total 108.85; in QuickBooks keyed in untaxed
  (99.98): only the subtotal agrees.
- 9104: 108.85 in the ledger; in QuickBooks the tax was typed as 8.88: 108.86, a cent apart.
- CN-9105: 19.95 at NY State 4.375 % = 0.8728125 -> 0.87: 20.82.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qbsync.store.tx import transaction
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.helpers import set_mapping, sim_docs

NYC = [{"name": "NYC", "rate": "4.5"}, {"name": "NY", "rate": "4.375"}]


def _doc(number: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": f"D-{number}",
        "number": number,
        "client": "C-1",
        "date": "2026-11-02",
        "status": "finalized",
        "lines": lines,
        **extra,
    }


def _item(service: str, quantity: str, price: str, region: str) -> dict[str, Any]:
    return {"service": service, "quantity": quantity, "unit_price": price, "tax_region": region}


LEDGER = {
    "version": 1,
    "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
    "services": [{"id": "S-SUP", "name": "Support plan"}, {"id": "S-CON", "name": "Consulting"}],
    "tax_regions": [
        {"id": "TR-NYC", "name": "New York City", "components": NYC},
        {"id": "TR-NYS", "name": "NY State", "rate": "4.375"},
        {"id": "TR-EX", "name": "Exempt"},
    ],
    "invoices": [
        _doc(
            "9101",
            [
                _item("S-SUP", "10", "49.99", "TR-NYC"),
                {"kind": "discount", "description": "Loyalty", "percent": "10"},
            ],
        ),
        _doc(
            "9102",
            [_item("S-SUP", "2", "49.99", "TR-NYC"), _item("S-CON", "1", "120.00", "TR-EX")],
        ),
        _doc("9103", [_item("S-SUP", "2", "49.99", "TR-NYC")]),
        _doc("9104", [_item("S-SUP", "2", "49.99", "TR-NYC")]),
        _doc("CN-9105", [_item("S-SUP", "1", "19.95", "TR-NYS")], type="credit_note"),
    ],
}


def _id(server: Any, entity: str, name: str) -> str:
    field = "DisplayName" if entity == "Customer" else "Name"
    [found] = [d["Id"] for d in sim_docs(server, entity) if d.get(field) == name]
    return str(found)


def _line(item: str, qty: str, price: str, taxed: bool) -> dict[str, Any]:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": Decimal(qty) * Decimal(price),
        "SalesItemLineDetail": {
            "ItemRef": {"value": item},
            "Qty": Decimal(qty),
            "UnitPrice": Decimal(price),
            "TaxCodeRef": {"value": "TAX" if taxed else "NON"},
        },
    }


def _key_in(company: ConnectedCompany) -> dict[str, dict[str, Any]]:
    """The documents as a user keyed them into QuickBooks before qbsync, by DocNumber."""
    server, sim, realm = company.server, company.server.sim, company.realm_id
    customer = _id(server, "Customer", "Hudson Bakery")
    support, consulting = _id(server, "Item", "Support Plan"), _id(server, "Item", "Consulting")
    city, state = _id(server, "TaxCode", "New York City"), _id(server, "TaxCode", "NY State")

    def create(entity: str, number: str, lines: list[dict[str, Any]], **extra: Any) -> Any:
        body = {"CustomerRef": {"value": customer}, "DocNumber": number, "Line": lines, **extra}
        return sim.create(realm, entity, body)

    city_tax = {"TxnTaxDetail": {"TxnTaxCodeRef": {"value": city}}}
    discount = {
        "DetailType": "DiscountLineDetail",
        "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
    }
    create(
        "Invoice",
        "9101",
        [_line(support, "10", "49.99", True), discount],
        ApplyTaxAfterDiscount=True,
        **city_tax,
    )
    create(
        "Invoice",
        "9102",
        [_line(support, "2", "49.99", True), _line(consulting, "1", "120.00", False)],
        **city_tax,
    )
    create("Invoice", "9103", [_line(support, "2", "49.99", False)])
    create(
        "Invoice",
        "9104",
        [_line(support, "2", "49.99", True)],
        TxnTaxDetail={"TxnTaxCodeRef": {"value": city}, "TotalTax": Decimal("8.88")},
    )
    create(
        "CreditMemo",
        "CN-9105",
        [_line(support, "1", "19.95", True)],
        TxnTaxDetail={"TxnTaxCodeRef": {"value": state}},
    )
    docs = {d["DocNumber"]: d for d in sim_docs(server, "Invoice")}
    docs.update({d["DocNumber"]: d for d in sim_docs(server, "CreditMemo")})
    with Workspace() as ws, transaction(ws.store):
        set_mapping(ws, company.key, "customers", "C-1", customer, "Hudson Bakery")
    return docs


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_history_matches_taxed_documents_on_their_total(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(LEDGER), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", connected_company.key)
    docs = _key_in(connected_company)
    # What QuickBooks computed (the figures worked out above).
    totals = {n: Decimal(str(d["TotalAmt"])) for n, d in docs.items()}
    assert totals == {
        "9101": Decimal("489.84"),
        "9102": Decimal("228.85"),
        "9103": Decimal("99.98"),
        "9104": Decimal("108.86"),
        "CN-9105": Decimal("20.82"),
    }

    data = run_json("wizard", "history")["data"]
    got = {p["number"]: p for p in data["proposals"]}
    assert data["counts"] == {"confident": 3, "review": 2, "missing": 0}
    for number, total in (("9101", "489.84"), ("9102", "228.85"), ("CN-9105", "20.82")):
        p = got[number]
        assert p["status"] == "confident", p
        assert p["why"] == "same number and total, same customer"
        assert (p["total"], p["qbo_total"]) == (total, total)
    # The discounted invoice: its subtotal (499.90) is not what the customer owes.
    assert got["9101"]["subtotal"] == "499.90"

    only_subtotal = got["9103"]
    assert only_subtotal["status"] == "review"
    assert only_subtotal["why"] == (
        "total differs: ledger 108.85, QuickBooks 99.98 tax included (tax 8.87 and 0.00)"
    )
    cent = got["9104"]
    assert cent["status"] == "review"
    assert cent["why"] == (
        "total differs: ledger 108.85, QuickBooks 108.86 tax included (tax 8.87 and 8.88)"
    )

    linked = run_json("wizard", "history", "--accept-confident")["data"]
    assert linked["linked"] == 3


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_a_document_linked_on_its_lines_takes_quickbooks_tax(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    # The same documents, but tax regions without rates: the ledger leaves the tax to
    # QuickBooks, so the wizard links on what precedes the tax, and QuickBooks' tax is the
    # ledger's from then on (as for a document qbsync sends): 9102 owes 228.85, not 219.98.
    untaxed = {
        **LEDGER,
        "tax_regions": [
            {"id": "TR-NYC", "name": "New York City"},
            {"id": "TR-NYS", "name": "NY State"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
    }
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(untaxed), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", connected_company.key)
    _key_in(connected_company)
    before = run_json("invoices", "show", "D-9102")["data"]
    assert (before["subtotal"], before["total"]) == ("219.98", "219.98")

    linked = run_json("wizard", "history", "--accept-confident")["data"]
    assert linked["linked"] >= 2
    after = run_json("invoices", "show", "D-9102")["data"]
    assert (after["subtotal"], after["total"], after["balance"]) == ("219.98", "228.85", "228.85")
    assert sum(Decimal(t["amount"]) for t in after["taxes"]) == Decimal("8.87")
    note = run_json("invoices", "show", "D-CN-9105")["data"]
    assert (note["subtotal"], note["total"]) == ("19.95", "20.82")
