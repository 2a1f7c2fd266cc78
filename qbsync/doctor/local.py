"""This machine: the config file, the store (integrity, migrations) and the clock."""

from __future__ import annotations

import datetime as dt

from qbsync.doctor.check import Check
from qbsync.workspace import Workspace


def check_config(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync import paths

    cfg = ws.config  # raises ConfigError with the key when invalid
    where = paths.config_file()
    detail = f"{where}" if where.exists() else f"{where} (not created yet: defaults apply)"
    return [Check("config", "ok", f"{detail}; companies: {len(cfg.companies)}")]


def check_store(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.store.database import DAMAGED_HINT

    db = ws.store  # StoreDamaged when SQLite cannot read the file at all (the runner reports it)
    where = db.conn.execute("PRAGMA database_list").fetchone()[2]
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
                f"{where}: integrity check: {shown}",
                DAMAGED_HINT,
            )
        ]
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    return [Check("store", "ok", f"{where} (journal {mode}, integrity ok)")]


def check_migrations(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.store.db import applied_migrations, pending_migrations

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
    applied = applied_migrations(db)
    latest = applied[-1] if applied else "none"
    return [Check("migrations", "ok", f"{len(applied)} steps applied, latest {latest}")]


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
