"""The other ways a number reaches QuickBooks before the cycle sends it: invoices sent through
the CSV fallback and imported there, and invoices the history wizard left for review. The next
`sync run` creates none of them a second time."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import link, map_demo, sim_docs
from tests.wizard.helpers import qbo_copy


def numbers_held(server: Any, entity: str) -> Counter[str]:
    return Counter(str(d.get("DocNumber")) for d in sim_docs(server, entity))


def import_csv(company: ConnectedCompany, ids: dict[tuple[str, str], str], path: Path) -> None:
    """What QuickBooks' invoice import does with the file: rows with one InvoiceNo become one
    invoice, customers, items and tax codes resolved by name (a name QuickBooks does not hold
    fails the import: KeyError here), and the sales tax computed by QuickBooks from the code."""
    invoices: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            invoices[row["InvoiceNo"]].append(row)
    items = {name: qbo_id for (entity, name), qbo_id in ids.items() if entity == "Item"}
    codes = {name: qbo_id for (entity, name), qbo_id in ids.items() if entity == "TaxCode"}
    for number, rows in invoices.items():
        month, day, year = rows[0]["InvoiceDate"].split("/")
        taxed = {row["ItemTaxCode"] for row in rows} - {"", "NON"}
        body: dict[str, Any] = {
            "DocNumber": number,
            "CustomerRef": {"value": ids[("Customer", rows[0]["Customer"])]},
            "TxnDate": f"{year}-{month}-{day}",
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": row["ItemAmount"],
                    "Description": row["ItemDescription"],
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items[row["Item(Product/Service)"]]},
                        "Qty": row["ItemQuantity"],
                        "UnitPrice": row["ItemRate"],
                        "TaxCodeRef": {"value": "TAX" if row["ItemTaxCode"] in taxed else "NON"},
                    },
                }
                for row in rows
            ],
        }
        if taxed:
            [code] = taxed
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": codes[code]}}
        company.control.create(company.realm_id, "Invoice", body)


def test_invoices_sent_by_the_csv_fallback_are_linked_not_created_again(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    ids = map_demo(connected_company.key)
    path = tmp_path / "invoices.csv"
    out = run_json("invoices", "export", "--csv", str(path))["data"]
    assert out["invoices"] == 3
    import_csv(connected_company, ids, path)
    held = {d["DocNumber"]: str(d["Id"]) for d in sim_docs(connected_company.server, "Invoice")}

    cycle = run_json("sync", "run")["data"]["cycles"][0]

    assert cycle["result"] == "succeeded", cycle
    server = connected_company.server
    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert numbers_held(server, "CreditMemo") == Counter({"CN-2001": 1})  # not in the CSV
    for invoice_id, number in (("INV-1001", "1001"), ("INV-1002", "1002"), ("INV-1003", "1003")):
        row = link(connected_company.key, "invoice", invoice_id)
        assert row is not None
        assert (row["qbo_id"], row["linked_by"]) == (held[number], "matched_number")
    assert run_json("exceptions", "list", "--open")["data"] == []
    assert server.sim.check_invariants() == []


def test_an_invoice_left_for_review_by_the_wizard_is_held_not_created(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    map_demo(connected_company.key)
    qbo_copy(connected_company, "INV-1001")
    wrong = qbo_copy(connected_company, "INV-1002", extra=Decimal("10.00"))
    data = run_json("wizard", "history", "--accept-confident")["data"]
    review = {p["invoice"]: p for p in data["proposals"]}["INV-1002"]
    assert review["status"] == "review"

    cycle = run_json("sync", "run")["data"]["cycles"][0]

    server = connected_company.server
    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert link(connected_company.key, "invoice", "INV-1002") is None
    assert cycle["stats"]["exceptions_raised"] >= 1
    [held] = run_json("exceptions", "list", "--open", "--kind", "duplicate_number")["data"]
    assert held["subject_id"] == "INV-1002"
    assert [t["id"] for t in held["data"]["theirs"]] == [str(wrong["Id"])]
    # the invoice waits, and status names the exception that holds it
    rows = {r["id"]: r for r in run_json("invoices", "list")["data"]}
    assert (rows["INV-1002"]["sync_state"], rows["INV-1002"]["qbo_id"]) == ("queued", None)
    [status] = run_json("status")["data"]["companies"]
    assert status["open_exceptions_by_kind"] == {"duplicate_number": 1}
