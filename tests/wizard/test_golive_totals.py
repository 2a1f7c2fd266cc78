"""The go-live preview speaks in totals with tax, one sum per currency."""

from __future__ import annotations

from decimal import Decimal

from qbsync.store.database import Database
from qbsync.wizard.golive import preview
from tests.fixtures.ledger import SampleLedger


def test_preview_totals_include_tax_and_never_add_two_currencies(
    sample_ledger: SampleLedger, ledger_db: Database
) -> None:
    # The demo's documents, one invoice put in euros; a credit note counts against the sum.
    ledger_db.execute(
        "UPDATE ledger_invoices SET currency = 'EUR' WHERE company = ? AND id = 'INV-1002'",
        [sample_ledger.company],
    )
    got = preview(ledger_db, sample_ledger.company, None)
    rows = {r["invoice"]: r for r in got["will_export"]}
    totals = {
        r["id"]: (Decimal(r["total"]) * (-1 if r["type"] == "credit_note" else 1), r["currency"])
        for r in ledger_db.query(
            "SELECT id, type, total, currency FROM ledger_invoices WHERE company = ?",
            [sample_ledger.company],
        )
    }
    assert rows["INV-1001"]["total"] == Decimal("1946.14")  # 1935.00 + 11.14 tax
    assert rows["INV-1001"]["total"] > rows["INV-1001"]["subtotal"]
    want: dict[str, Decimal] = {}
    for invoice, (total, currency) in totals.items():
        if invoice in rows:
            key = currency or "home"
            want[key] = want.get(key, Decimal(0)) + total
    assert got["total_to_export"] == want
    assert set(want) == {"USD", "EUR", "home"}, want  # Cedar Clinic names no currency
