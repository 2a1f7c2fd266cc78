"""Runs every check in the order a person would want to read them; a check that raises a
domain error becomes a failed check with the error's hint as its fix. A store that cannot be read
is one failed `store` check; the checks that need the store are then named as not run, and the
others (config, secrets, clock) still run. A new check goes into its group's module and into
CHECKS here."""

from __future__ import annotations

from qbsync.doctor import connection, local, lock, mappings, preferences, secret_store
from qbsync.doctor.check import Check, CheckFn
from qbsync.errors import QbsyncError
from qbsync.store.database import StoreDamaged
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
    damaged = False
    not_run: list[str] = []
    for fn in ([preferences.refresh_preferences] if refresh else []) + CHECKS:
        # Named as the check names itself when it passes: check_qbo_app -> "qbo app".
        name = fn.__name__.removeprefix("check_").replace("_", " ")
        try:
            results.extend(fn(ws, company))
        except StoreDamaged as exc:
            if not damaged:
                damaged = True
                results.append(Check("store", "fail", exc.message, exc.hint))
            elif fn is not local.check_store:
                not_run.append(name)
        except QbsyncError as exc:
            results.append(Check(name, "fail", exc.message, exc.hint))
    if not_run:
        results.append(
            Check(
                "not run",
                "warn",
                f"{', '.join(not_run)}: not checked without a readable store",
                "restore the store (see store above), then run qbsync doctor again",
            )
        )
    return results
