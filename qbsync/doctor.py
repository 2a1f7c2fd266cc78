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
