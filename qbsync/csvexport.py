"""The CSV fallback: finalized invoices in the layout QuickBooks Online's invoice import reads,
for periods without a live connection (Settings > Import data > Invoices).

Layout. One row per invoice line; the invoice's own columns repeat on each of its lines, and
rows with the same invoice number become one invoice. The column names are those of Intuit's
sample file for the invoice import; with them QuickBooks maps every column on its own (other
names have to be mapped by hand on the import screen). Required there: invoice number,
customer, invoice date, due date and item amount (and a tax code when the company collects
sales tax). QuickBooks numbers imported invoices itself unless custom transaction numbers are on:
when it last said they are off, no file is written (the invoices would come back under other
numbers, and the sync would create them again).
Sources: Intuit, "Import invoices in batches",
https://quickbooks.intuit.com/learn-support/en-ca/help-articles/import-invoices-in-batches/01/338729
and Intuit's answer listing the columns it maps automatically,
https://quickbooks.intuit.com/learn-support/en-ca/sales-and-invoicing/do-we-need-to-map-field-everytime-when-import-invoices/01/394876

Dates: the import screen asks for the file's date format and follows the company's region
(MM/dd/yyyy for US companies); one format is used for every date in the file.

Names, not ids: the import resolves customers, products/services, terms and tax codes by name,
so each is written as the QuickBooks name it is mapped to (`qbsync mappings`); an unmapped one
goes under the ledger's own name (the import screen matches it, or asks). A mapping made by id
names no QuickBooks name; the name is then taken from what qbsync knows offline (for a customer,
the name it last saw on the linked QuickBooks customer; a tax code TAX or NON is its own name).
Where nothing tells it, the ledger's name would be the wrong one, so no file is written: the
error names each such mapping and how to give its name. Credit notes are left out: the invoice
import only creates invoices.

Discounts: the invoice import has no discount column (Intuit's list of the columns it reads has
none, and QBO_FACTS names no other way), so a discounted invoice written to the file would come
in without its discount, for more than the ledger says. Such an invoice is left out of the file
and not marked, so the next connected cycle creates it with its discount line; the command names
it (`left_out`) and an `export_failing` exception says so until the cycle has created it.

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
from qbsync.mappings.store import Mapping, list_mappings
from qbsync.money import cents, dec, number_text
from qbsync.outbox import reset_for_retry
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.sync import customer_baselines, links
from qbsync.sync.exceptions import Kind, close_exceptions, open_exception

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


PSEUDO_TAX_CODES = ("TAX", "NON")  # US line codes: their id is their name

DISCOUNT_HINT = (
    "QuickBooks' invoice import cannot carry a discount: let the sync create it once connected "
    "(qbsync sync run, or qbsync invoices export ID), or key it in QuickBooks with its discount "
    "under the same number (the sync then links it)"
)


class Names:
    """Local id -> the name QuickBooks knows it by, for one kind of list: the mapping's
    QuickBooks name; for a mapping made by id, what qbsync knows of that record's name; for
    an unmapped id, the ledger's own name. `unknown` holds the ids mapped by id whose
    QuickBooks name nothing tells (local id -> QuickBooks id)."""

    def __init__(self, db: Database, company: str, ledger_kind: str, mapping_kind: str) -> None:
        self.kind = mapping_kind
        self.names = queries.names(db, company, ledger_kind)
        self.unknown: dict[str, str] = {}
        for mapping in list_mappings(db, company, mapping_kind):
            name = mapping.qbo_name or _known_name(db, company, mapping_kind, mapping)
            if name:
                self.names[mapping.local_id] = name
            else:
                self.unknown[mapping.local_id] = mapping.qbo_id
        self.missing: dict[str, str] = {}  # the unknown ones an invoice in the file uses

    def __call__(self, local_id: str) -> str:
        if local_id in self.unknown:
            self.missing[local_id] = self.unknown[local_id]
        return self.names.get(local_id, local_id)


def _known_name(db: Database, company: str, mapping_kind: str, mapping: Mapping) -> str | None:
    """QuickBooks' name for a record mapped by id, from what qbsync holds without a
    connection: the pseudo tax codes name themselves; a customer's name is the one qbsync
    last saw on it (its baseline), when the baseline is of that same customer."""
    if mapping_kind == "tax_codes" and mapping.qbo_id in PSEUDO_TAX_CODES:
        return str(mapping.qbo_id)
    if mapping_kind == "customers":
        seen = customer_baselines.get(db, company, mapping.local_id)
        if seen is not None and str(seen.qbo_id) == str(mapping.qbo_id):
            name = seen.shape.get("name")
            return str(name) if name else None
    return None


def _unnamed_error(lists: list[Names]) -> InputError:
    """No file: the mappings made by id whose QuickBooks names qbsync does not know."""
    found = [(n.kind, local, qbo) for n in lists for local, qbo in sorted(n.missing.items())]
    shown = ", ".join(f"{kind} {local} (QuickBooks id {qbo})" for kind, local, qbo in found)
    kind, local, _ = found[0]
    return InputError(
        f"the CSV file would name {len(found)} record(s) by the ledger's name, not QuickBooks': "
        f"{shown} are mapped by id and qbsync does not know their QuickBooks names. "
        "No file was written.",
        f"map them by name (qbsync mappings set {kind} {local} 'QuickBooks name'), or give "
        "qbo_name beside qbo in the mappings file, then export again",
    )


def invoice_rows(
    db: Database,
    company: str,
    since: dt.date | None,
    date_format: str = DEFAULT_DATE_FORMAT,
    written: list[str] | None = None,
    left_out: list[dict[str, str]] | None = None,
    go_live: dt.date | None = None,
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The file's rows and counts; `written` receives the ids of the invoices in it,
    `left_out` the discounted invoices kept out of it (id, number, discount, why). Invoices
    QuickBooks holds already, and those dated before the go-live date (never sent), are not
    in it: imported, they would be there twice. Raises InputError, before anything is
    written, when a name the file needs is QuickBooks' and qbsync does not know it."""

    fmt = DATE_FORMATS[date_format]

    def day(value: str | None) -> str:
        return dt.date.fromisoformat(value).strftime(fmt) if value else ""

    customers = Names(db, company, "clients", "customers")
    items = Names(db, company, "services", "items")
    tax = Names(db, company, "tax_regions", "tax_codes")
    terms = Names(db, company, "terms", "terms")
    due_days = queries.terms_due_days(db, company)
    rows: list[dict[str, str]] = []
    counts = {
        "invoices": 0,
        "lines": 0,
        "credit_notes_skipped": 0,
        "discounted_left_out": 0,
        "in_quickbooks_already": 0,
        "before_go_live": 0,
    }
    in_quickbooks = links.linked_ids(db, company, "invoice")
    for inv in queries.finalized_invoices(db, company, since):
        if inv["type"] != "standard":
            counts["credit_notes_skipped"] += 1
            continue
        if inv["id"] in in_quickbooks:
            counts["in_quickbooks_already"] += 1
            continue
        if go_live is not None and inv["date"] < go_live.isoformat():
            counts["before_go_live"] += 1
            continue
        taken_off = cents(inv["discount"])
        if taken_off:
            # The import has no discount column: written, the invoice would come in for more
            # than the ledger's total. Left to the sync, which sends the discount line.
            counts["discounted_left_out"] += 1
            if left_out is not None:
                left_out.append(
                    {
                        "invoice": inv["id"],
                        "number": str(inv["number"]),
                        "discount": str(taken_off),
                        "why": f"invoice {inv['number']} has a discount of {taken_off}, which "
                        "QuickBooks' invoice import cannot carry",
                    }
                )
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
            "Customer": customers(inv["client_id"]),
            "InvoiceDate": day(inv["date"]),
            "DueDate": day(due),
            "Terms": terms(inv["terms_id"]) if inv["terms_id"] else "",
            "Location": "",
            "Memo": inv["memo"] or "",
        }
        for line in queries.invoice_lines(db, company, inv["id"]):
            counts["lines"] += 1
            rows.append(
                {
                    **head,
                    "Item(Product/Service)": items(line["service_id"]),
                    "ItemDescription": line["description"] or "",
                    "ItemQuantity": number_text(line["quantity"]),
                    "ItemRate": number_text(line["unit_price"]),
                    "ItemAmount": f"{dec(line['amount']):.2f}",
                    "ItemTaxCode": tax(line["tax_region_id"]) if line["tax_region_id"] else "",
                    "ServiceDate": day(line["service_date"]),
                }
            )
    lists = [customers, items, tax, terms]
    if any(n.missing for n in lists):
        raise _unnamed_error(lists)
    return rows, counts


def write_invoices_csv(
    db: Database,
    company: str,
    path: Path,
    since: dt.date | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
    go_live: dt.date | None = None,
) -> dict[str, Any]:
    """Write the file, then mark what it holds (the sync holds those invoices for the import).
    A discounted invoice is left out and not marked (the sync creates it with its discount); an
    `export_failing` exception names it until then."""
    _refuse_numbered_by_quickbooks(db, company)
    written: list[str] = []
    left_out: list[dict[str, str]] = []
    rows, counts = invoice_rows(db, company, since, date_format, written, left_out, go_live)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with transaction(db):
        csvmarks.mark_written(db, company, written, path.name)
        for out in left_out:
            open_exception(
                db,
                company,
                Kind.EXPORT_FAILING,
                "invoice",
                out["invoice"],
                label=f"invoice {out['number']}",
                message=f"{out['why']}: it was left out of {path.name}, and the next "
                "connected sync creates it with its discount",
                hint=DISCOUNT_HINT,
                data={"file": path.name, "discount": out["discount"], "csv_left_out": True},
            )
    result: dict[str, Any] = {
        "company": company,
        "file": str(path),
        "since": since.isoformat() if since else None,
        "date_format": date_format,
        **counts,
        "marked": len(written),
    }
    if left_out:
        result["left_out"] = left_out
        result["warning"] = (
            f"{len(left_out)} discounted invoice(s) left out of the file "
            f"({', '.join(o['number'] for o in left_out)}): QuickBooks' invoice import cannot "
            "carry a discount; the next connected sync creates them"
        )
    return result


def _refuse_numbered_by_quickbooks(db: Database, company: str) -> None:
    """A company that numbers invoices itself (custom transaction numbers off, as last read
    from QuickBooks) gives an imported invoice a number of its own: the sync would never find
    it by the ledger's number, and releasing it would create it a second time. No file then."""
    from qbsync.companies.records import read_facts

    stored = read_facts(db, company)
    if stored is not None and stored[0].get("custom_txn_numbers") is False:
        raise InputError(
            f"QuickBooks numbers {company}'s invoices itself (custom transaction numbers are "
            f"off, as read {stored[1]}): the invoices the file brings in would get QuickBooks' "
            "numbers, the sync could not find them by the ledger's, and they would be created "
            "a second time; no file was written",
            "turn on Custom transaction numbers in QuickBooks (Account and Settings > Sales), "
            "let a connected cycle or `qbsync doctor` read it, then write the file",
        )


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
