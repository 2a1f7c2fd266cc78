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

Marks. Every invoice written is marked in the ledger (qbsync/ledger/csvmarks.py), so that the
next connected cycle does not create it a second time: it looks the invoice up by number and
links the one the import made; until QuickBooks holds it, the invoice is held (a
`csv_not_imported` exception says so) and nothing is created, unless a person releases it
(`release`, `qbsync invoices release ID`): then the cycle creates it.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from qbsync.errors import InputError, NotFoundError
from qbsync.ledger import csvmarks, lookup, queries
from qbsync.mappings.store import list_mappings
from qbsync.money import dec, number_text
from qbsync.outbox import reset_for_retry
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.sync import links
from qbsync.sync.exceptions import Kind, close_exceptions

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
    db: Database,
    company: str,
    since: dt.date | None,
    date_format: str = DEFAULT_DATE_FORMAT,
    written: list[str] | None = None,
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The file's rows and counts; `written` receives the ids of the invoices in it."""
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
        if written is not None:
            written.append(inv["id"])
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
    """Write the file, then mark what it holds (the sync holds those invoices for the import)."""
    written: list[str] = []
    rows, counts = invoice_rows(db, company, since, date_format, written)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with transaction(db):
        csvmarks.mark_written(db, company, written, path.name)
    return {
        "company": company,
        "file": str(path),
        "since": since.isoformat() if since else None,
        "date_format": date_format,
        **counts,
        "marked": len(written),
    }


def release(db: Database, company: str, invoice_ids: list[str]) -> dict[str, Any]:
    """A person decides: create these CSV-written invoices in QuickBooks after all (the import
    will not bring them). Their hold is lifted, its exception closed and their export queued
    for the next cycle. All or nothing: an invoice not held is refused (exit 2)."""
    with transaction(db):
        held = csvmarks.marks(db, company, invoice_ids)
        for invoice_id in invoice_ids:
            if lookup.invoice(db, company, invoice_id) is None:
                raise NotFoundError(f"invoice {invoice_id!r} is not in the ledger of {company}")
            mark = held.get(invoice_id)
            if mark is None:
                raise InputError(f"invoice {invoice_id} was not written to a CSV file")
            link = links.by_local(db, company, "invoice", invoice_id)
            if link is not None and link.state != "deleted":
                raise InputError(
                    f"invoice {invoice_id} is in QuickBooks already (Id {link.qbo_id})",
                    "nothing to release",
                )
            if not mark.holding:
                how = "linked in QuickBooks" if mark.outcome == "linked" else "released"
                raise InputError(
                    f"invoice {invoice_id} is not held: it was {how} on "
                    f"{(mark.released_at or '')[:10]}"
                )
        queued = 0
        for invoice_id in invoice_ids:
            csvmarks.release(db, company, invoice_id)
            close_exceptions(
                db, company, [Kind.CSV_NOT_IMPORTED], "invoice", invoice_id, resolution="release"
            )
            queued += reset_for_retry(db, company, subject=("invoice", invoice_id))
    return {
        "company": company,
        "released": invoice_ids,
        "requeued": queued,
        "next": "the next sync run creates them in QuickBooks",
    }
