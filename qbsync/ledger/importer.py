"""`ledger import`: read every file, validate the whole import, then write it in one
transaction (or, with dry_run, only report what would change)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qbsync.ledger.plan import build_plan
from qbsync.ledger.readers import expand, read_files
from qbsync.ledger.store import apply_plan
from qbsync.store.database import Database
from qbsync.store.tx import transaction


def import_files(
    db: Database, company: str, paths: Iterable[Path], *, dry_run: bool = False
) -> dict[str, Any]:
    paths = list(paths)
    records = read_files(paths)
    if dry_run:
        plan = build_plan(db, company, records)
    else:
        # Validated inside the write transaction, so that what was checked (a payment id still
        # free, an invoice still a draft) is what gets written, whatever runs alongside.
        with transaction(db):
            plan = build_plan(db, company, records)
            if plan.changes or plan.ops:
                apply_plan(db, plan)
    return {
        "company": company,
        "files": [str(p) for p in expand(paths)],
        "dry_run": dry_run,
        "changed": plan.changes > 0,
        **plan.summary(),
    }
