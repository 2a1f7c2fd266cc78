"""Diagnostics. Each check returns ok, warn or fail with the fix; issues add their checks here
with @check, in the order a person would want to read them.
"""

from __future__ import annotations

import datetime as dt
import secrets as pysecrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

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
            results.append(Check(fn.__name__.removeprefix("check_"), "fail", exc.message, exc.hint))
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
    from qbsync.store.db import pending_migrations

    db = ws.store
    result = db.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        return [
            Check(
                "store", "fail", f"integrity check: {result}", "restore the database from a backup"
            )
        ]
    pending = pending_migrations(db)
    if pending:
        return [
            Check(
                "store",
                "fail",
                f"migrations pending: {', '.join(pending)}",
                "run any command to migrate",
            )
        ]
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    return [
        Check(
            "store",
            "ok",
            f"{db.conn.execute('PRAGMA database_list').fetchone()[2]} (journal {mode}, migrated)",
        )
    ]


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
    from qbsync.qbo import records

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
    client_id, _ = records.app_credentials(ws, key)  # NotFoundError names the fix
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
def check_qbo_connection(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.qbo import records
    from qbsync.qbo.client import RetryPolicy
    from qbsync.qbo.session import open_client, run
    from qbsync.qbo.tokens import read_tokens
    from qbsync.timeutil import utc_now

    key = _qbo_company(ws, company)
    if key is None:
        return []
    row = records.require_connected(ws, key)  # ReconnectRequired names the fix
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
        if skew > 300:
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

    if company is None and not ws.config.companies:
        return []  # nothing configured yet: the config check says so
    key, _ = ws.company(company)
    missing = missing_mappings(ws.store, key)
    if not missing:
        return [Check("mappings", "ok", f"{key}: invoices waiting for export are fully mapped")]
    shown = ", ".join(f"{m['kind']} {m['local_id']}" for m in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return [
        Check(
            "mappings",
            "warn",
            f"{key}: {len(missing)} unmapped ({shown}{more}) hold invoices back from export",
            "see `qbsync mappings check`; map them with `qbsync mappings set` or import",
        )
    ]
