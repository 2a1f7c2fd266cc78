"""The CSV fallback: finalized invoices in the layout QuickBooks Online's invoice import reads,
for periods without a live connection (Settings > Import data > Invoices).

Layout. One row per invoice line; the invoice's own columns repeat on each of its lines, and
rows with the same invoice number become one invoice. The column names are those of Intuit's
sample file for the invoice import; with them QuickBooks maps every column on its own (other
names have to be mapped by hand on the import screen). Required there: invoice number,
customer, invoice date, due date and item amount (and a tax code when the company collects
sales tax). QuickBooks numbers imported invoices itself unless custom transaction numbers are on.
Sources: Intuit, "Import invoices in batches",
https://quickbooks.intuit.com/learn-support/en-ca/help-articles/import-invoices-in-batches/01/338729
and Intuit's answer listing the columns it maps automatically,
https://quickbooks.intuit.com/learn-support/en-ca/sales-and-invoicing/do-we-need-to-map-field-everytime-when-import-invoices/01/394876

Dates: the import screen asks for the file's date format and follows the company's region
(MM/dd/yyyy for US companies); one format is used for every date in the file.

Names, not ids: the import resolves customers, products/services, terms and tax codes by name,
so each is written as the QuickBooks name it is mapped to (`qbsync mappings`), falling back to
the ledger's own name. Credit notes are left out: the invoice import only creates invoices.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from qbsync.ledger import queries
from qbsync.mappings.store import list_mappings
from qbsync.money import dec, number_text

COLUMNS: tuple[str, ...] = (
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ServiceDate",
)

DATE_FORMATS = {"MM/dd/yyyy": "%m/%d/%Y", "dd/MM/yyyy": "%d/%m/%Y"}
DEFAULT_DATE_FORMAT = "MM/dd/yyyy"


def _names(db: Database, company: str, ledger_kind: str, mapping_kind: str) -> dict[str, str]:
    """Local id -> the QuickBooks name it is mapped to, else the ledger's name."""
    names = queries.names(db, company, ledger_kind)
    for mapping in list_mappings(db, company, mapping_kind):
        if mapping.qbo_name:
            names[mapping.local_id] = mapping.qbo_name
    return names


def invoice_rows(
    db: Database, company: str, since: dt.date | None, date_format: str = DEFAULT_DATE_FORMAT
) -> tuple[list[dict[str, str]], dict[str, int]]:
    fmt = DATE_FORMATS[date_format]

    def day(value: str | None) -> str:
        return dt.date.fromisoformat(value).strftime(fmt) if value else ""

    customers = _names(db, company, "clients", "customers")
    items = _names(db, company, "services", "items")
    tax = _names(db, company, "tax_regions", "tax_codes")
    terms = _names(db, company, "terms", "terms")
    due_days = queries.terms_due_days(db, company)
    rows: list[dict[str, str]] = []
    counts = {"invoices": 0, "lines": 0, "credit_notes_skipped": 0}
    for inv in queries.finalized_invoices(db, company, since):
        if inv["type"] != "standard":
            counts["credit_notes_skipped"] += 1
            continue
        counts["invoices"] += 1
        due = inv["due_date"]
        if not due:
            days = due_days.get(inv["terms_id"], 0) if inv["terms_id"] else 0
            due = (dt.date.fromisoformat(inv["date"]) + dt.timedelta(days=days)).isoformat()
        head = {
            "InvoiceNo": inv["number"],
            "Customer": customers.get(inv["client_id"], inv["client_id"]),
            "InvoiceDate": day(inv["date"]),
            "DueDate": day(due),
            "Terms": terms.get(inv["terms_id"], "") if inv["terms_id"] else "",
            "Location": "",
            "Memo": inv["memo"] or "",
        }
        for line in queries.invoice_lines(db, company, inv["id"]):
            counts["lines"] += 1
            rows.append(
                {
                    **head,
                    "Item(Product/Service)": items.get(line["service_id"], line["service_id"]),
                    "ItemDescription": line["description"] or "",
                    "ItemQuantity": number_text(line["quantity"]),
                    "ItemRate": number_text(line["unit_price"]),
                    "ItemAmount": f"{dec(line['amount']):.2f}",
                    "ItemTaxCode": tax.get(line["tax_region_id"], "")
                    if line["tax_region_id"]
                    else "",
                    "ServiceDate": day(line["service_date"]),
                }
            )
    return rows, counts


def write_invoices_csv(
    db: Database,
    company: str,
    path: Path,
    since: dt.date | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
) -> dict[str, Any]:
    rows, counts = invoice_rows(db, company, since, date_format)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return {
        "company": company,
        "file": str(path),
        "since": since.isoformat() if since else None,
        "date_format": date_format,
        **counts,
    }
