"""Runs every check in the order a person would want to read them; a check that raises a
domain error becomes a failed check with the error's hint as its fix. A new check goes into its
group's module and into CHECKS here."""

from __future__ import annotations

from qbsync.doctor import connection, local, lock, mappings, preferences, secret_store
from qbsync.doctor.check import Check, CheckFn
from qbsync.errors import QbsyncError
from qbsync.workspace import Workspace

CHECKS: list[CheckFn] = [
    local.check_config,
    local.check_store,
    local.check_migrations,
    secret_store.check_secrets,
    local.check_clock,
    connection.check_qbo_app,
    connection.check_connection,
    mappings.check_mappings,
    preferences.check_preferences,
    lock.check_lock,
]


def run_checks(ws: Workspace, company: str | None, *, refresh: bool = False) -> list[Check]:
    """Every check; `refresh` first reads the company's preferences from QuickBooks again."""
    results: list[Check] = []
    for fn in ([preferences.refresh_preferences] if refresh else []) + CHECKS:
        try:
            results.extend(fn(ws, company))
        except QbsyncError as exc:
            # Named as the check names itself when it passes: check_qbo_app -> "qbo app".
            name = fn.__name__.removeprefix("check_").replace("_", " ")
            results.append(Check(name, "fail", exc.message, exc.hint))
    return results
