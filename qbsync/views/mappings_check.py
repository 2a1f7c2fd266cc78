"""`mappings check`: what finalized invoices waiting for export still lack.

An invoice waits for export when it is finalized and no export op for it is done in the
outbox. Each service, tax region, terms and client it uses needs a mapping before the sync
engine can build its QuickBooks payload. A tax region with no rate is named too (kind
`tax_rates`) when such an invoice came without tax figures, so the ledger had to compute its tax
and could not; only in a ledger that has rates (one with none leaves tax to QuickBooks, as
before tax regions had rates). Reads the ledger with the outbox here; the mappings and the ledger's names
through their owners.

`mapping_notes` says what is used by default rather than missing: a discounted invoice waiting
for export, with no discount account mapped, books its discount to QuickBooks' default discount
account. Informational: it fails nothing.
"""

from __future__ import annotations

from typing import Any

from qbsync.ledger.queries import names
from qbsync.mappings.store import list_mappings, lookup
from qbsync.store.database import Database

_PENDING = """
    SELECT i.id FROM ledger_invoices i
    WHERE i.company = :company AND i.status = 'finalized'
      AND NOT EXISTS (
        SELECT 1 FROM outbox o
        WHERE o.company = i.company AND o.subject_type = 'invoice' AND o.subject_id = i.id
          AND o.kind IN ('export_invoice', 'export_credit_memo') AND o.state = 'done')
"""

# (mapping kind, ledger list, SQL giving (local id, invoice id) pairs used by pending invoices)
_USES: tuple[tuple[str, str, str], ...] = (
    (
        "customers",
        "clients",
        "SELECT client_id, id FROM ledger_invoices WHERE company = :company "
        f"AND id IN ({_PENDING})",
    ),
    (
        "items",
        "services",
        "SELECT service_id, invoice_id FROM ledger_invoice_lines WHERE company = :company "
        f"AND invoice_id IN ({_PENDING})",
    ),
    (
        "tax_codes",
        "tax_regions",
        "SELECT tax_region_id, invoice_id FROM ledger_invoice_lines WHERE company = :company "
        f"AND tax_region_id IS NOT NULL AND invoice_id IN ({_PENDING})",
    ),
    (
        "tax_rates",
        "tax_regions",
        # Regions whose tax the ledger had to compute (the invoice came with no tax figures) and
        # that have no rate: there is no mapping to add, but a rate (or components) to import.
        "SELECT l.tax_region_id, l.invoice_id FROM ledger_invoice_lines l "
        "JOIN ledger_invoices i ON i.company = l.company AND i.id = l.invoice_id "
        "JOIN ledger_tax_regions r ON r.company = l.company AND r.id = l.tax_region_id "
        "WHERE l.company = :company AND r.rate IS NULL AND r.components IS NULL "
        "AND i.tax_total IS NULL AND NOT EXISTS (SELECT 1 FROM ledger_invoice_lines g "
        "WHERE g.company = l.company AND g.invoice_id = l.invoice_id "
        "AND g.tax_amount IS NOT NULL) "
        # A ledger with no rate at all leaves tax to QuickBooks, as before rates existed.
        "AND EXISTS (SELECT 1 FROM ledger_tax_regions x WHERE x.company = l.company "
        "AND (x.rate IS NOT NULL OR x.components IS NOT NULL)) "
        f"AND l.invoice_id IN ({_PENDING})",
    ),
    (
        "terms",
        "terms",
        "SELECT terms_id, id FROM ledger_invoices WHERE company = :company "
        f"AND terms_id IS NOT NULL AND id IN ({_PENDING})",
    ),
)


def missing_mappings(db: Database, company: str) -> list[dict[str, Any]]:
    """One row per unmapped local id: kind, local_id, its ledger name, and the invoices
    waiting on it. Ordered by kind, then id."""
    missing: list[dict[str, Any]] = []
    for kind, ledger_kind, uses_sql in _USES:
        mapped = (
            set()
            if kind == "tax_rates"
            else {mapping.local_id for mapping in list_mappings(db, company, kind)}
        )
        waiting: dict[str, set[str]] = {}
        for local_id, invoice_id in db.execute(uses_sql, {"company": company}):
            if local_id not in mapped:
                waiting.setdefault(local_id, set()).add(invoice_id)
        ledger_names = names(db, company, ledger_kind)
        for local_id in sorted(waiting):
            missing.append(
                {
                    "kind": kind,
                    "local_id": local_id,
                    "name": ledger_names.get(local_id),
                    "invoices": sorted(waiting[local_id]),
                }
            )
    return missing


_DISCOUNTED = (
    "SELECT DISTINCT invoice_id FROM ledger_invoice_discounts WHERE company = :company "
    f"AND invoice_id IN ({_PENDING}) ORDER BY invoice_id"
)


def mapping_notes(db: Database, company: str) -> list[dict[str, Any]]:
    """Defaults in use that are not failures: kind, local_id, note, and the invoices concerned."""
    if lookup(db, company, "accounts", "discount") is not None:
        return []
    discounted = [row[0] for row in db.execute(_DISCOUNTED, {"company": company})]
    if not discounted:
        return []
    return [
        {
            "kind": "accounts",
            "local_id": "discount",
            "note": "no discount account mapped: QuickBooks' default discount account is used",
            "invoices": discounted,
        }
    ]
