"""Diagnostics. Each check returns ok, warn or fail with the fix; issues add their checks here
with @check, in the order a person would want to read them.
"""

from __future__ import annotations

import datetime as dt
import secrets as pysecrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from qbsync.errors import QbsyncError
from qbsync.workspace import Workspace

Status = Literal["ok", "warn", "fail"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


CheckFn = Callable[[Workspace, str | None], list[Check]]
CHECKS: list[CheckFn] = []


def check(fn: CheckFn) -> CheckFn:
    CHECKS.append(fn)
    return fn


def run_checks(ws: Workspace, company: str | None) -> list[Check]:
    results: list[Check] = []
    for fn in CHECKS:
        try:
            results.extend(fn(ws, company))
        except QbsyncError as exc:
            # Named as the check names itself when it passes: check_qbo_app -> "qbo app".
            name = fn.__name__.removeprefix("check_").replace("_", " ")
            results.append(Check(name, "fail", exc.message, exc.hint))
    return results


@check
def check_config(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync import paths

    cfg = ws.config  # raises ConfigError with the key when invalid
    where = paths.config_file()
    detail = f"{where}" if where.exists() else f"{where} (not created yet: defaults apply)"
    return [Check("config", "ok", f"{detail}; companies: {len(cfg.companies)}")]


@check
def check_store(ws: Workspace, company: str | None) -> list[Check]:
    db = ws.store
    # The full check (every page, index and constraint), not quick_check: doctor is run by hand.
    problems = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        shown = "; ".join(problems[:3]) + (
            f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        return [
            Check(
                "store",
                "fail",
                f"integrity check: {shown}",
                "stop cron and the daemon, then restore the database from a backup",
            )
        ]
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    where = db.conn.execute("PRAGMA database_list").fetchone()[2]
    return [Check("store", "ok", f"{where} (journal {mode}, integrity ok)")]


@check
def check_migrations(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.store.db import pending_migrations
    from qbsync.store.schema import MIGRATIONS

    db = ws.store
    pending = pending_migrations(db)
    if pending:
        return [
            Check(
                "migrations",
                "fail",
                f"steps not applied: {', '.join(pending)}",
                "run any command that opens the store (e.g. qbsync status) to apply them",
            )
        ]
    applied = MIGRATIONS.applied(db)
    latest = applied[-1].name if applied else "none"
    return [Check("migrations", "ok", f"{len(applied)} steps applied, latest {latest}")]


@check
def check_secrets(ws: Workspace, company: str | None) -> list[Check]:
    store = ws.secrets
    probe_name = "doctor/probe"
    probe = pysecrets.token_hex(8)
    store.set(probe_name, probe)
    try:
        readback = store.get(probe_name)
    finally:
        store.delete(probe_name)
    if readback != probe:
        return [
            Check(
                "secrets",
                "fail",
                f"{store.backend_name}: a value written could not be read back",
                "choose another keyring backend, or `qbsync config set secrets file`",
            )
        ]
    status: Status = "warn" if ws.config.secrets == "file" else "ok"
    fix = "prefer the OS keyring where one exists" if status == "warn" else None
    return [Check("secrets", status, f"{store.backend_name} works", fix)]


@check
def check_clock(ws: Workspace, company: str | None) -> list[Check]:
    now = dt.datetime.now(dt.UTC)
    if now.year < 2025:
        return [
            Check(
                "clock",
                "fail",
                f"system clock says {now:%Y-%m-%d}",
                "set the system clock (OAuth tokens and change windows depend on it)",
            )
        ]
    return [Check("clock", "ok", f"{now:%Y-%m-%d %H:%M:%S} UTC")]


# ---------------------------------------------------------------- QuickBooks connection


def _qbo_company(ws: Workspace, company: str | None) -> str | None:
    if company is None and not ws.config.companies:
        return None
    return ws.company(company)[0]


@check
def check_qbo_app(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.companies.credentials import app_credentials

    key = _qbo_company(ws, company)
    if key is None:
        return [
            Check(
                "qbo app",
                "warn",
                "no company configured yet",
                "qbsync app set --company KEY --client-id ID, then qbsync connect",
            )
        ]
    client_id, _ = app_credentials(ws, key)  # NotFoundError names the fix
    checks = [Check("qbo app", "ok", f"{key}: client id {client_id}, secret stored")]
    settings = ws.config.companies[key]
    if settings.environment == "production":
        if settings.redirect_uri and settings.redirect_uri.startswith("https://"):
            detail = f"{key}: production keys redirect to {settings.redirect_uri}"
            checks.append(Check("redirect uri", "ok", detail))
        else:
            checks.append(
                Check(
                    "redirect uri",
                    "warn",
                    f"{key}: production keys cannot redirect to http://localhost",
                    "register an HTTPS redirect URI for the app at developer.intuit.com and "
                    "connect with `qbsync connect --redirect-uri URL` (paste the URL the browser "
                    f"lands on); keep it with `qbsync config set companies.{key}.redirect_uri URL`",
                )
            )
    return checks


@check
def check_connection(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.companies import records
    from qbsync.companies.session import open_client, run
    from qbsync.companies.tokens import read_tokens
    from qbsync.qbo.retry import RetryPolicy
    from qbsync.timeutil import utc_now

    key = _qbo_company(ws, company)
    if key is None:
        return []
    row = records.require_connected(ws.store, key)  # ReconnectRequired names the fix
    tokens = read_tokens(ws, key)
    if tokens is None:
        return [Check("connection", "fail", f"{key}: no tokens stored", "qbsync connect")]
    checks: list[Check] = []
    reconnect = f"qbsync connect --company {key}"
    now = utc_now()
    refresh_left = None
    if tokens.refresh_expires_at:
        refresh_left = dt.datetime.fromisoformat(tokens.refresh_expires_at) - now
    hard_left = None
    if tokens.refresh_hard_expires_at:
        hard_left = dt.datetime.fromisoformat(tokens.refresh_hard_expires_at) - now
    soonest = min((d for d in (refresh_left, hard_left) if d is not None), default=None)
    if soonest is None:
        checks.append(Check("token expiry", "warn", f"{key}: refresh expiry unknown"))
    elif soonest <= dt.timedelta(0):
        checks.append(Check("token expiry", "fail", f"{key}: the refresh token expired", reconnect))
    else:
        status: Status = "warn" if soonest < dt.timedelta(days=14) else "ok"
        checks.append(
            Check(
                "token expiry",
                status,
                f"{key}: refresh token good for {soonest.days} more days "
                f"(access token until {tokens.access_expires_at})",
                f"reconnect before it lapses: {reconnect}" if status == "warn" else None,
            )
        )

    async def probe() -> tuple[dict, dt.datetime | None]:
        # Diagnose quickly: one retry, not the sync engine's patience.
        async with open_client(ws, key, retry=RetryPolicy(attempts=2, base_delay=0.5)) as client:
            info = await client.company_info()
            return info, client.last_server_time

    info, server_time = run(probe())
    name = info.get("CompanyName") or row.get("name") or "?"
    checks.append(Check("connection", "ok", f"{key}: {name} (realm {row['realm_id']}) answers"))
    if server_time is not None:
        skew = abs((utc_now() - server_time).total_seconds())
        if skew <= 300:
            checks.append(Check("clock skew", "ok", f"within {skew:.0f} s of QuickBooks' clock"))
        else:
            checks.append(
                Check(
                    "clock skew",
                    "warn",
                    f"this machine's clock differs from QuickBooks' by {skew:.0f} s",
                    "sync the system clock (NTP): change windows and token expiry depend on it",
                )
            )
    return checks


@check
def check_mappings(ws: Workspace, company: str | None) -> list[Check]:
    """Mappings that finalized invoices waiting for export still lack (`mappings check`)."""
    from qbsync.mappings.check import missing_mappings

    key = _qbo_company(ws, company)
    if key is None:
        return []  # nothing configured yet: the config check says so
    missing = missing_mappings(ws.store, key)
    if not missing:
        return [Check("mappings", "ok", f"{key}: invoices waiting for export are fully mapped")]
    by_kind: dict[str, list[str]] = {}
    for item in missing:
        by_kind.setdefault(item["kind"], []).append(item["local_id"])
    parts = [
        f"{kind} {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}"
        for kind, ids in by_kind.items()
    ]
    kind, ids = next(iter(by_kind.items()))
    if kind == "customers":
        fix = f"match customers: qbsync wizard customers --company {key} (or qbsync mappings set)"
    else:
        fix = f"qbsync mappings set {kind} {ids[0]} QBO_ID --company {key} (or import a mappings file)"
    return [
        Check(
            "mappings",
            "warn",
            f"{key}: {len(missing)} unmapped hold invoices back from export: {'; '.join(parts)}",
            f"{fix}; the full list: qbsync mappings check",
        )
    ]


def _company_facts(ws: Workspace, key: str) -> tuple[Any, str] | None:
    """CompanyFacts from the cycle's cache, else read live when connected; with its source."""
    from qbsync.companies import records
    from qbsync.sync.payloads import CompanyFacts

    stored = records.read_facts(ws.store, key)
    if stored:
        data, fetched_at = stored
        return CompanyFacts(**data), f"as read {fetched_at[:16].replace('T', ' ')}"
    row = records.get_row(ws.store, key)
    if not row or not row["connected"] or row["needs_reconnect"]:
        return None
    from qbsync.companies.session import open_client, run

    async def read() -> tuple[dict[str, Any], dict[str, Any]]:
        async with open_client(ws, key) as client:
            return await client.company_info(), await client.preferences()

    info, prefs = run(read())
    return CompanyFacts.from_qbo(info, prefs), "read now"


@check
def check_preferences(ws: Workspace, company: str | None) -> list[Check]:
    key = _qbo_company(ws, company)
    if key is None:
        return []
    found = _company_facts(ws, key)
    if found is None:
        return [
            Check(
                "preferences",
                "warn",
                f"{key}: QuickBooks preferences not known yet (not connected)",
                f"qbsync connect --company {key}",
            )
        ]
    facts, source = found
    settings = ws.config.companies[key]
    checks: list[Check] = []
    if facts.auto_apply_credit:
        checks.append(
            Check(
                "auto-apply credit",
                "warn",
                f"{key}: QuickBooks applies open credits to new invoices on its own ({source}); "
                "it may consume a credit memo before qbsync applies it where the ledger did",
                "in QuickBooks: Settings > Account and settings > Advanced > Automation: turn "
                "off 'Automatically apply credits'",
            )
        )
    else:
        checks.append(Check("auto-apply credit", "ok", f"{key}: off ({source})"))
    # The API keeps a DocNumber it is sent whatever the setting; the setting decides whether
    # QuickBooks numbers invoices itself (off) or leaves a number out when none is given (on).
    settings_path = "Settings > Account and settings > Sales > Sales form content"
    if settings.numbering == "ledger" and not facts.custom_txn_numbers:
        checks.append(
            Check(
                "invoice numbers",
                "warn",
                f"{key}: the ledger numbers invoices, but custom transaction numbers are off: "
                "QuickBooks numbers invoices entered there from its own sequence, which can "
                "collide with the ledger's",
                f"in QuickBooks: {settings_path}: turn on 'Custom transaction numbers'",
            )
        )
    elif settings.numbering == "quickbooks" and facts.custom_txn_numbers:
        checks.append(
            Check(
                "invoice numbers",
                "warn",
                f"{key}: QuickBooks is to number invoices, but custom transaction numbers are on, "
                "so it leaves them without a number",
                f"in QuickBooks: {settings_path}: turn off 'Custom transaction numbers' (or "
                f"qbsync config set companies.{key}.numbering ledger)",
            )
        )
    else:
        who = "the ledger's" if settings.numbering == "ledger" else "QuickBooks'"
        checks.append(Check("invoice numbers", "ok", f"{key}: {who} numbers are used"))
    foreign = [
        r[0]
        for r in ws.store.execute(
            "SELECT DISTINCT currency FROM ledger_clients WHERE company = ? AND currency IS NOT "
            "NULL AND currency != ? ORDER BY 1",
            [key, facts.home_currency],
        )
    ]
    if foreign and not facts.multi_currency:
        checks.append(
            Check(
                "multi-currency",
                "fail",
                f"{key}: clients are billed in {', '.join(foreign)} but multi-currency is off "
                f"(home currency {facts.home_currency})",
                "turn on multi-currency in QuickBooks (Settings > Account and settings > "
                "Advanced > Currency; it cannot be turned off again), or bill those clients in "
                f"{facts.home_currency}",
            )
        )
    else:
        state = "on" if facts.multi_currency else "off"
        checks.append(
            Check("multi-currency", "ok", f"{key}: {state}, home currency {facts.home_currency}")
        )
    if facts.automated_sales_tax:
        checks.append(
            Check(
                "sales tax",
                "warn",
                f"{key}: automated sales tax is on: QuickBooks computes the tax itself and "
                "ignores the mapped tax codes, so totals can differ from the ledger's",
                "map taxable regions to TAX and exempt ones to NON, and compare totals after the "
                "first export (qbsync invoices list)",
            )
        )
    else:
        checks.append(Check("sales tax", "ok", f"{key}: tax codes come from the mappings"))
    return checks


@check
def check_lock(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.sync.lock import holder
    from qbsync.timeutil import parse_iso, utc_now

    key = _qbo_company(ws, company)
    if key is None:
        return []
    info = holder(key)
    if info is None:
        return [Check("lock", "ok", f"{key}: no cycle running")]
    who = f"pid {info.get('pid', '?')} on {info.get('host', '?')} ({info.get('purpose', 'sync')})"
    if not info["held"]:
        return [
            Check(
                "lock",
                "ok",
                f"{key}: a stale lock record from {who}, whose process is gone; the next run "
                "takes the lock over",
            )
        ]
    since = info.get("started_at")
    age = (utc_now() - parse_iso(since)).total_seconds() if since else 0.0
    limit = max(3600.0, 2 * ws.config.sync.interval)
    if age > limit:
        running = ws.store.execute(
            "SELECT id FROM sync_cycles WHERE company = ? AND result = 'running' "
            "ORDER BY id DESC LIMIT 1",
            [key],
        ).fetchone()
        fix = (
            f"qbsync sync cancel {running[0]}"
            if running
            else f"check on pid {info.get('pid')}; stop it if it hangs"
        )
        return [Check("lock", "warn", f"{key}: held by {who} for {age / 60:.0f} minutes", fix)]
    return [Check("lock", "ok", f"{key}: a cycle is running now: {who} since {since}")]
