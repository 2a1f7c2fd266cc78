"""Schema for performance (steps 0090-0099): indexes that large ledgers need."""

from __future__ import annotations

from sqlite_utils import Database


def m0090_ledger_invoices_date(db: Database) -> None:
    # `invoices list` shows the newest first: with this index it reads the first page in date
    # order and stops, instead of deriving the sync state of every invoice and sorting them.
    db.execute(
        "CREATE INDEX IF NOT EXISTS ledger_invoices_date ON ledger_invoices(company, date, id)"
    )


STEPS = [m0090_ledger_invoices_date]
