"""Schema for performance (steps 0090-0099): indexes that large ledgers need."""

from __future__ import annotations

from qbsync.store.database import Database


def m0090_ledger_invoices_date(db: Database) -> None:
    # `invoices list` shows the newest first: with this index it reads the first page in date
    # order and stops, instead of deriving the sync state of every invoice and sorting them.
    db.execute(
        "CREATE INDEX IF NOT EXISTS ledger_invoices_date ON ledger_invoices(company, date, id)"
    )


def m0091_flat_paths(db: Database) -> None:
    # An idle cycle asks for the ops that are due, oldest first: a partial index holds only the
    # waiting ones, so the question costs the same at 1,000 ops as at 1,000,000 (on the state
    # index the planner would rather walk every op in id order than sort).
    db.execute(
        "CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox(company, id) "
        "WHERE state IN ('pending', 'failed')"
    )
    # `exceptions list` shows the newest first, all of them or one status: a page and a count
    # straight from the index.
    db.execute(
        "CREATE INDEX IF NOT EXISTS sync_exceptions_company_id ON sync_exceptions(company, id)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS sync_exceptions_company_status_id "
        "ON sync_exceptions(company, status, id)"
    )

    # A cycle starts by closing the company's cycles still marked running (few, ever): not by
    # walking its history of thousands.
    db.execute(
        "CREATE INDEX IF NOT EXISTS sync_cycles_running ON sync_cycles(company) "
        "WHERE result = 'running'"
    )
    # Each cycle asks for the QuickBooks payments waiting to be applied (few) among every
    # payment QuickBooks ever reported.
    db.execute("CREATE INDEX IF NOT EXISTS qbo_payments_state ON qbo_payments(company, state)")


def m0092_customers_to_push(db: Database) -> None:
    # Each cycle asks which customers the accountant chose to overwrite with the ledger's
    # version (few, ever): not by reading every linked customer's baseline.
    db.execute(
        "CREATE INDEX IF NOT EXISTS customer_baselines_push ON customer_baselines(company, "
        "client_id) WHERE push = 1"
    )


def m0093_mappings_by_quickbooks_id(db: Database) -> None:
    # A change window naming a customer asks which client is mapped to it: by its QuickBooks id,
    # not by reading every customer mapping of the company.
    db.execute(
        "CREATE INDEX IF NOT EXISTS mappings_qbo_id ON mappings(company, kind, qbo_id, local_id)"
    )


STEPS = [
    m0090_ledger_invoices_date,
    m0091_flat_paths,
    m0092_customers_to_push,
    m0093_mappings_by_quickbooks_id,
]
