"""The mapping operations behind the commands: import a file, set one, as plain functions that
take the store and a ListSource (so tests and the demo can pass lists directly)."""

from __future__ import annotations

from typing import Any, Literal

from qbsync.errors import InputError
from qbsync.mappings.kinds import check_local_id, check_qbo_id, kind, looks_like_id
from qbsync.mappings.resolve import ListSource, ResolveError, Resolver
from qbsync.mappings.store import Diff, Mapping, apply_diff, diff_entries
from qbsync.mappings.yamlio import MappingsFile, resolve
from qbsync.store.database import Database
from qbsync.store.tx import transaction


def diff_summary(company: str, diff: Diff, *, dry_run: bool, written: bool) -> dict[str, Any]:
    return {
        "company": company,
        "dry_run": dry_run,
        "written": written,
        "added": [c.as_dict() for c in diff.added],
        "changed": [c.as_dict() for c in diff.changed],
        "removed": [c.as_dict() for c in diff.removed],
        "unchanged": diff.unchanged,
        "counts": diff.counts(),
    }


def import_mappings(
    db: Database,
    company: str,
    mfile: MappingsFile,
    source: ListSource | None,
    *,
    prune: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Resolve every entry (names against QuickBooks, ids as they are), diff against the store,
    and write the diff in one transaction unless dry_run. Nothing is written on any error."""
    mappings = resolve(mfile.entries, Resolver(source))  # QuickBooks reads: no transaction yet
    prune_kinds = mfile.kinds if prune else None
    if dry_run:
        diff = diff_entries(db, company, mappings, prune_kinds=prune_kinds)
        return diff_summary(company, diff, dry_run=True, written=False)
    with transaction(db):
        diff = diff_entries(db, company, mappings, prune_kinds=prune_kinds)
        if not diff.empty:
            apply_diff(db, company, diff)
    return diff_summary(company, diff, dry_run=False, written=not diff.empty)


def set_mapping(
    db: Database,
    company: str,
    kind_name: str,
    local_id: str,
    qbo: str,
    source: ListSource | None,
    *,
    by: Literal["auto", "id", "name"] = "auto",
) -> dict[str, Any]:
    """Map one local id. `qbo` is an id when `by` is id, or when auto and it looks like one
    (digits, or TAX/NON for tax codes); otherwise a name resolved against QuickBooks."""
    kind(kind_name)
    try:
        local_id = check_local_id(kind_name, local_id)
        if by == "id" or (by == "auto" and looks_like_id(kind_name, qbo)):
            mapping = Mapping(kind_name, local_id, check_qbo_id(kind_name, qbo), None)
            if (kind_name, local_id) == ("accounts", "discount"):
                name = Resolver(source).check_discount_account(mapping.qbo_id)
                mapping = Mapping(kind_name, local_id, mapping.qbo_id, name)
        else:
            found = Resolver(source).resolve(kind_name, local_id, qbo)
            mapping = Mapping(kind_name, local_id, found.qbo_id, found.qbo_name)
    except (ValueError, ResolveError) as exc:
        raise InputError(f"{kind_name} {local_id}: {exc}") from None
    with transaction(db):
        diff = diff_entries(db, company, [mapping])
        if not diff.empty:
            apply_diff(db, company, diff)
    return diff_summary(company, diff, dry_run=False, written=not diff.empty)
