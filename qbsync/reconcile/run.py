"""One reconciliation of a company: read the ledger and QuickBooks, compare. Reads only: no
transaction is opened, nothing is written to the store, and only queries go to QuickBooks."""

from __future__ import annotations

from qbsync.companies.session import open_client, run
from qbsync.reconcile import ledger_side, quickbooks_side
from qbsync.reconcile.compare import Report, compare
from qbsync.workspace import Workspace


async def _read_quickbooks(
    ws: Workspace, key: str, page_size: int
) -> quickbooks_side.QuickBooksSide:
    async with open_client(ws, key) as client:
        return await quickbooks_side.read(client, page_size)


def reconcile(ws: Workspace, company: str | None, *, page_size: int = 1000) -> Report:
    """The company's ledger against its QuickBooks company (QuickBooks read first, so that a
    payment a cycle records meanwhile shows as not yet synced rather than missing)."""
    key, _ = ws.company(company)
    quickbooks = run(_read_quickbooks(ws, key, page_size))
    ledger = ledger_side.read(ws.store, key, quickbooks.home_currency)
    return compare(key, ledger, quickbooks)
