"""A company with customers and invoices in QuickBooks already, and a ledger to reconcile."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from qbsync.store import open_store
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json

# Clients beyond the sample ledger's four (which match the demo customers exactly):
EXTRA_CLIENTS = """\
version: 1
clients:
  - {id: CL-5, name: Evergreen Realty}
  - {id: CL-6, name: "Fjord Analytcs, LLC", email: owner@gmail.com}
  - {id: CL-7, name: Granite Works}
  - {id: CL-8, name: "GRANITE WORKS INC."}
  - {id: CL-9, name: Nobody Matches Here}
"""


def add_reconcile_customers(company: ConnectedCompany, tmp: Path) -> dict[str, str]:
    """QuickBooks customers for the extra clients, and the clients in the ledger. The demo
    company has Evergreen Realty already, inactive."""
    sim, realm = company.server.sim, company.realm_id
    ids = {}
    for name in ("Fjord Analytics", "Granite Works", "Harbor Vendors Co-op"):
        ids[name] = str(sim.create(realm, "Customer", {"DisplayName": name})["Id"])
    path = tmp / "extra-clients.yaml"
    path.write_text(EXTRA_CLIENTS, encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", company.key)
    return ids


def customer_mappings(key: str) -> dict[str, str]:
    db = open_store()
    try:
        return {
            r[0]: r[1]
            for r in db.execute(
                "SELECT local_id, qbo_id FROM mappings WHERE company = ? AND kind = 'customers'",
                [key],
            )
        }
    finally:
        db.close()


def qbo_copy(
    company: ConnectedCompany,
    invoice_id: str,
    *,
    extra: Decimal = Decimal(0),
    customer: str | None = None,
) -> dict[str, Any]:
    """Create in QuickBooks (directly in the simulator) the document a user keyed in by hand
    before qbsync existed: the ledger document's number, lines and customer (from the mappings).
    `extra` is added to the first line's amount."""
    db = open_store()
    try:
        key = company.key
        inv = next(
            db.query(
                "SELECT * FROM ledger_invoices WHERE company = ? AND id = ?", [key, invoice_id]
            )
        )
        lines = list(
            db.query(
                "SELECT * FROM ledger_invoice_lines WHERE company = ? AND invoice_id = ? ORDER BY line_no",
                [key, invoice_id],
            )
        )
        maps = {
            (r["kind"], r["local_id"]): r["qbo_id"]
            for r in db.query("SELECT * FROM mappings WHERE company = ?", [key])
        }
    finally:
        db.close()
    body_lines = []
    tax_code = None
    for n, line in enumerate(lines):
        code = maps.get(("tax_codes", line["tax_region_id"]), "NON")
        if code != "NON":
            tax_code = code
        amount = Decimal(line["amount"]) + (extra if n == 0 else 0)
        body_lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": amount,
                "Description": line["description"],
                "SalesItemLineDetail": {
                    "ItemRef": {"value": maps[("items", line["service_id"])]},
                    "Qty": Decimal(line["quantity"]),
                    "UnitPrice": Decimal(line["unit_price"])
                    if not extra
                    else amount / Decimal(line["quantity"]),
                    "TaxCodeRef": {"value": "NON" if code == "NON" else "TAX"},
                },
            }
        )
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer or maps[("customers", inv["client_id"])]},
        "DocNumber": inv["number"],
        "TxnDate": inv["date"],
        "Line": body_lines,
    }
    if tax_code:
        body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": tax_code}}
    entity = "CreditMemo" if inv["type"] == "credit_note" else "Invoice"
    return company.server.sim.create(company.realm_id, entity, body)
