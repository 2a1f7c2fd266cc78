"""What one cycle works with: the store, the company's settings, the QBO client, counters.

`for_company` builds one for a workspace's company: the cycle, the commands that send ops now,
the wizard and `invoices show` all start there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qbsync.companies.records import read_facts, write_facts
from qbsync.config import CompanySettings, SyncSettings
from qbsync.store.database import Database
from qbsync.sync import cycles
from qbsync.sync.exceptions import Kind, Raised, open_exception
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # payloads load the mappings: only a cycle with documents to send needs them
    from qbsync.sync.payloads import CompanyFacts

Progress = Callable[[str, int, int], None]


@dataclass
class Stats:
    inbound_changes: int = 0
    ops_processed: int = 0
    ops_failed: int = 0
    exported: int = 0
    drift_found: int = 0
    payments_applied: int = 0
    exceptions_raised: int = 0
    customers_created: int = 0
    customers_linked: int = 0  # found in QuickBooks by name or e-mail, mapped
    customers_updated: int = 0
    would_send: list[dict[str, Any]] = field(default_factory=list)  # a dry run's plan
    would_open: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CycleContext:
    db: Database
    company: str
    settings: CompanySettings
    sync: SyncSettings
    client: Any  # qbsync.qbo.client.QboClient (kept loose: tests may pass the real one only)
    cycle_id: int | None = None
    dry_run: bool = False
    environment: str = "production"
    sim_url: str | None = None
    progress: Progress | None = None
    stats: Stats = field(default_factory=Stats)
    _facts: CompanyFacts | None = None

    def raise_exception(self, kind: Kind, subject_type: str, subject_id: str, **kw: Any) -> Raised:
        """Raise (or refresh) an exception; one raised in a cycle names it (`data.cycle`), so
        that `sync retry --cycle N` finds the ops that failed there without being sent."""
        if self.cycle_id is not None:
            kw["data"] = {**(kw.get("data") or {}), "cycle": self.cycle_id}
        raised = open_exception(self.db, self.company, kind, subject_type, subject_id, **kw)
        if raised.new:
            self.stats.exceptions_raised += 1
        return raised

    def cancelled(self) -> bool:
        if self.cycle_id is None:
            return False
        return cycles.cancel_requested(self.db, self.cycle_id)

    def tick(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    async def facts(self) -> CompanyFacts:
        """CompanyInfo and Preferences, read from QuickBooks once per cycle (their tax and
        currency facts decide how documents are built: a copy hours old would build them
        wrong) and kept in the store for doctor. Should QuickBooks not answer, the stored copy
        serves, however old."""
        if self._facts is not None:
            return self._facts
        from qbsync.qbo.errors import QboError
        from qbsync.sync.outbound.opstate import FATAL
        from qbsync.sync.payloads import CompanyFacts

        try:
            return await self.refresh_facts()
        except FATAL:
            raise
        except QboError:
            stored = read_facts(self.db, self.company)
            if stored is None:
                raise
            self._facts = CompanyFacts(**stored[0])
            return self._facts

    async def refresh_facts(self) -> CompanyFacts:
        """Read CompanyInfo and Preferences again now (after QuickBooks refused a document
        over a currency or tax preference) and store them."""
        from qbsync.sync.payloads import CompanyFacts

        info, prefs = await asyncio.gather(self.client.company_info(), self.client.preferences())
        self._facts = CompanyFacts.from_qbo(info, prefs)
        write_facts(self.db, self.company, self._facts.__dict__)
        return self._facts

    def qbo_url(self, entity: str, qbo_id: str) -> str:
        """Where an accountant opens the document in QuickBooks."""
        page = {
            "Invoice": "invoice",
            "CreditMemo": "creditmemo",
            "Payment": "recvpayment",
            "Customer": "customerdetail",
        }.get(entity, entity.lower())
        param = "nameId" if entity == "Customer" else "txnId"
        if self.environment == "sim" and self.sim_url:
            host = self.sim_url.rstrip("/")
        elif self.environment == "sandbox":
            host = "https://app.sandbox.qbo.intuit.com"
        else:
            host = "https://app.qbo.intuit.com"
        return f"{host}/app/{page}?{param}={qbo_id}"


def for_company(
    ws: Workspace,
    company: str,
    settings: CompanySettings | None = None,
    *,
    client: Any = None,
    cycle_id: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> CycleContext:
    """The context for one of the workspace's companies (its settings from the config unless
    given); the client may be set later, once opened."""
    if settings is None:
        _, settings = ws.company(company)
    return CycleContext(
        db=ws.store,
        company=company,
        settings=settings,
        sync=ws.config.sync,
        client=client,
        cycle_id=cycle_id,
        dry_run=dry_run,
        environment=settings.environment,
        sim_url=settings.sim_url,
        progress=progress,
    )
