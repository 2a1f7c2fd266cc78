"""One sync cycle for one company: lock, inbound, outbound, record.

Inbound first: its window is applied together with the new cursor, so the cursor never covers a
change that was not applied. An authentication failure aborts the cycle without moving it; a
company that was never connected has no cycle at all.
Outbound trouble (a failing document) never blocks inbound.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from qbsync.companies.records import get_row
from qbsync.config import CompanySettings
from qbsync.errors import QbsyncError, ReconnectRequired
from qbsync.logs import get_logger
from qbsync.qbo.errors import QboError
from qbsync.redact import redact
from qbsync.store import open_store
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.sync import context, cycles
from qbsync.sync.context import CycleContext, Progress, Stats
from qbsync.sync.exceptions import Kind, close_exceptions, last_id, list_exceptions, opened_after
from qbsync.sync.inbound import cursor
from qbsync.sync.inbound.apply import apply_changes
from qbsync.sync.inbound.settled import close_voided_in_ledger
from qbsync.sync.inbound.window import read_window
from qbsync.sync.lock import company_lock
from qbsync.sync.outbound import FATAL, Outbound, recover
from qbsync.timeutil import parse_iso, utc_now
from qbsync.workspace import Workspace

log = get_logger("sync")
EXPIRY_WARNINGS = (14, 7, 2)  # days before the refresh token (or its hard cap) runs out


def _scratch(db: Database) -> Database:
    """A private in-memory copy of the store, for a dry run to decide in: what it writes there
    (its cycle, applied changes, ops done or failed, exceptions) never reaches the store."""
    copy = open_store(memory=True, migrate=False)
    db.conn.backup(copy.conn)
    return copy


def _would_open(real: Database, scratch: Database, company: str) -> list[dict[str, Any]]:
    """The exceptions a dry run opened in its copy that the store does not hold open."""
    held = {
        (e["kind"], e["subject_type"], e["subject_id"])
        for e in list_exceptions(real, company, status="open", limit=1_000_000)
    }
    return [
        {k: e[k] for k in ("kind", "subject_type", "subject_id", "message", "hint")}
        for e in list_exceptions(scratch, company, status="open", limit=1_000_000)
        if (e["kind"], e["subject_type"], e["subject_id"]) not in held
    ]


@dataclass
class CycleResult:
    cycle_id: int
    company: str
    result: str
    started_at: str
    finished_at: str
    seconds: float
    cursor_before: str | None
    cursor_after: str | None
    summary: str
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return {"succeeded": 0, "aborted": 3}.get(self.result, 1)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exit_code"] = self.exit_code
        return data


def summary_line(company: str, result: str, stats: Stats, seconds: float, error: str | None) -> str:
    parts = [
        f"{stats.exported} exported",
        f"{stats.ops_processed} ops done",
        f"{stats.payments_applied} payments applied",
        f"{stats.drift_found} drift",
        f"{stats.exceptions_raised} new exceptions",
        f"{stats.inbound_changes} changes read",
    ]
    if stats.ops_failed:
        parts.insert(2, f"{stats.ops_failed} ops failed")
    text = f"{company}: {result} in {seconds:.1f}s; " + ", ".join(parts)
    return f"{text}; {error}" if error else text


def check_expiry(ctx: CycleContext, company_row: dict[str, Any] | None) -> None:
    """Raise (or clear) the "connection expires in N days" exception, from the company's
    record (its refresh token's expiry and hard cap)."""
    if not company_row:
        return
    expiries = (company_row["refresh_expires_at"], company_row["refresh_hard_expires_at"])
    ends = [parse_iso(v) for v in expiries if v]
    if not ends:
        return
    days = (min(ends) - utc_now()).total_seconds() / 86400
    threshold = next((d for d in reversed(EXPIRY_WARNINGS) if days <= d), None)
    if threshold is None:
        close_exceptions(ctx.db, ctx.company, [Kind.CONNECTION_EXPIRING], "company", ctx.company)
        return
    ctx.raise_exception(
        Kind.CONNECTION_EXPIRING,
        "company",
        ctx.company,
        label=f"company {ctx.company}",
        message=f"the QuickBooks connection of {ctx.company} expires in {max(days, 0):.0f} days",
        hint=f"reconnect before then: qbsync connect --company {ctx.company}",
        data={"threshold_days": threshold},
    )


def _start(db: Database, company: str, trigger: str) -> int:
    with transaction(db):
        return cycles.start(db, company, trigger, os.getpid())


def _finish(
    ctx: CycleContext,
    result: str,
    started: float,
    cursor_before: str | None,
    error: str | None,
    api_calls: int,
) -> CycleResult:
    seconds = time.monotonic() - started
    stats = ctx.stats
    after = cursor.stored(ctx.db, ctx.company)
    line = summary_line(ctx.company, result, stats, seconds, error)
    with transaction(ctx.db):
        finished = cycles.finish(
            ctx.db,
            ctx.cycle_id,
            result,
            cursor_before=cursor_before,
            cursor_after=after,
            inbound_changes=stats.inbound_changes,
            ops_processed=stats.ops_processed,
            ops_failed=stats.ops_failed,
            drift_found=stats.drift_found,
            payments_applied=stats.payments_applied,
            exceptions_raised=stats.exceptions_raised,
            api_calls=api_calls,
            summary=line,
            error=error,
        )
    log.info("cycle %s %s", ctx.cycle_id, line)
    started_at = (cycles.get(ctx.db, ctx.cycle_id) or {})["started_at"]
    data = asdict(stats)
    data["api_calls"] = api_calls
    if not ctx.dry_run:
        data.pop("would_send")
        data.pop("would_open")
    return CycleResult(
        0 if ctx.dry_run else ctx.cycle_id or 0,  # a dry run's cycle is never recorded
        ctx.company,
        result,
        started_at,
        finished,
        seconds,
        cursor_before,
        after,
        line,
        error,
        data,
    )


async def cycle(
    ws: Workspace,
    company: str,
    settings: CompanySettings,
    *,
    full: bool = False,
    dry_run: bool = False,
    trigger: str = "manual",
    progress: Progress | None = None,
    client: Any = None,
) -> CycleResult:
    """Run one cycle; the caller holds the company lock. A dry run reads QuickBooks and decides
    everything in a private copy of the store, then drops it: nothing is sent, nothing saved
    (only the connection's tokens, if QuickBooks rotates them, since the old ones stop
    working)."""
    if client is None:
        _refuse_unconnected(ws.store, company)
    db = _scratch(ws.store) if dry_run else ws.store
    first_exception = last_id(db)
    try:
        result = await _cycle(ws, db, company, settings, full, dry_run, trigger, progress, client)
        if dry_run:
            result.stats["would_open"] = _would_open(ws.store, db, company)
        else:
            await _alert(ws, company, settings, result.as_dict(), first_exception)
        return result
    except Exception as err:
        # An unexpected error (a bug, a broken store): the cycle ends failed, not `running`
        # until the next one, and its claimed work is released. The error still propagates.
        what = err.message if isinstance(err, QbsyncError) else f"{type(err).__name__}: {err}"
        ids = cycles.crashed(db, company, os.getpid(), redact(what))
        if not dry_run:
            crash = {"company": company, "cycle_id": ids[-1] if ids else None, "result": "failed"}
            crash |= {"exit_code": 1, "error": redact(what)}
            await _alert(ws, company, settings, crash, first_exception)
        raise
    finally:
        if dry_run:
            db.close()


def _refuse_unconnected(db: Database, company: str) -> None:
    """A company never connected (or disconnected) has no cycle: QuickBooks refused nothing, so
    nothing is recorded (no cycle, no exception); ReconnectRequired (exit 3) says what to do. A
    company whose grant QuickBooks refused is connected still: its cycle aborts and says so
    (unlike records.require_connected, which stops at either)."""
    row = get_row(db, company)
    if row is None or not row["connected"] or not row["realm_id"]:
        raise ReconnectRequired(
            f"company {company} is not connected", f"qbsync connect --company {company}"
        )


async def _alert(
    ws: Workspace, company: str, settings: CompanySettings, outcome: dict[str, Any], first: int
) -> None:
    """Tell the people in `notify:` how the cycle ended (never raises: see qbsync.notify)."""
    from qbsync.notify import targets_for

    try:
        if not targets_for(ws.config, settings):
            return  # nobody to tell: the delivery code stays unloaded
        from qbsync.notify.dispatch import after_cycle

        opened = opened_after(ws.store, company, first)
        await after_cycle(ws, company, settings, outcome, opened, get_row(ws.store, company))
    except Exception:  # alerts never change what the sync decided
        log.warning("alerts after the cycle of %s failed", company, exc_info=True)


async def _cycle(
    ws: Workspace,
    db: Database,
    company: str,
    settings: CompanySettings,
    full: bool,
    dry_run: bool,
    trigger: str,
    progress: Progress | None,
    client: Any,
) -> CycleResult:
    from qbsync.companies.session import open_client

    started = time.monotonic()
    cycle_id = _start(db, company, trigger)
    ctx = context.for_company(
        ws, company, settings, cycle_id=cycle_id, dry_run=dry_run, progress=progress
    )
    ctx.db = db
    company_row = get_row(db, company)
    check_expiry(ctx, company_row)
    cursor_before: str | None = None
    try:
        ctx.client = client or open_client(ws, company)
    except ReconnectRequired as err:
        return _abort(ctx, err, started, cursor_before, 0)
    try:
        stored = cursor.get(ctx.db, company)
        cursor_before = stored.isoformat() if stored else None
        reading_from = utc_now()
        base = stored or cursor.initial(company_row["connected_at"] if company_row else None)
        since = (
            reading_from - dt.timedelta(days=29)
            if full
            else base - dt.timedelta(seconds=ctx.sync.overlap)
        )
        error: str | None = None
        result = "succeeded"
        try:
            changes = await read_window(ctx, since, reading_from)
            with transaction(ctx.db):
                apply_changes(ctx, changes)
                cursor.advance(ctx.db, company, reading_from)
                close_exceptions(ctx.db, company, [Kind.AUTH_FAILED], "company", company)
        except FATAL as err:
            return _abort(ctx, err, started, cursor_before, _calls(ctx))
        except QboError as err:
            # Inbound could not read: record it, and still send what is waiting.
            result, error = "failed", f"inbound: {err.message}"
        with transaction(ctx.db):
            close_exceptions(ctx.db, company, [Kind.AUTH_FAILED], "company", company)
            close_voided_in_ledger(ctx)
        recover(ctx)
        outbound = Outbound(ctx)
        try:
            await outbound.drain()
        except FATAL as err:
            return _abort(ctx, err, started, cursor_before, _calls(ctx))
        if outbound.cancelled:
            result = "cancelled"
        elif ctx.stats.ops_failed and result == "succeeded":
            result = "succeeded"  # failed ops are retried and raise exceptions of their own
        return _finish(ctx, result, started, cursor_before, error, _calls(ctx))
    finally:
        if client is None and ctx.client is not None:
            await ctx.client.aclose()


def _calls(ctx: CycleContext) -> int:
    return int(getattr(ctx.client, "calls", 0) or 0)


def _abort(
    ctx: CycleContext, err: QbsyncError, started: float, cursor_before: str | None, calls: int
) -> CycleResult:
    with transaction(ctx.db):
        ctx.raise_exception(
            Kind.AUTH_FAILED,
            "company",
            ctx.company,
            label=f"company {ctx.company}",
            message=f"QuickBooks refused qbsync's credentials for {ctx.company}: {err.message}",
            hint=f"reconnect: qbsync connect --company {ctx.company}",
        )
    return _finish(ctx, "aborted", started, cursor_before, err.message, calls)


def run_cycle(
    ws: Workspace,
    company_key: str | None,
    *,
    full: bool = False,
    dry_run: bool = False,
    trigger: str = "manual",
    progress: Progress | None = None,
) -> CycleResult:
    """Take the company lock (LockHeld, exit 75, when another run has it) and run a cycle."""
    import asyncio

    key, settings = ws.company(company_key)
    with company_lock(key, f"sync run ({trigger})"):
        return asyncio.run(
            cycle(ws, key, settings, full=full, dry_run=dry_run, trigger=trigger, progress=progress)
        )
