"""Mapping rows in the store: read, set, delete, and apply a whole import's diff at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso


@dataclass(frozen=True)
class Mapping:
    kind: str
    local_id: str
    qbo_id: str
    qbo_name: str | None
    updated_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Change:
    kind: str
    local_id: str
    qbo_id: str
    qbo_name: str | None
    old_qbo_id: str | None = None
    old_qbo_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, str | None] = {
            "kind": self.kind,
            "local_id": self.local_id,
            "qbo_id": self.qbo_id,
            "qbo_name": self.qbo_name,
        }
        if self.old_qbo_id is not None:
            out["old_qbo_id"] = self.old_qbo_id
            out["old_qbo_name"] = self.old_qbo_name
        return out


@dataclass
class Diff:
    added: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    unchanged_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return sum(self.unchanged_by_kind.values())

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per kind: added, changed, removed, unchanged (kinds that appear at all)."""
        out: dict[str, dict[str, int]] = {}
        for name, changes in (
            ("added", self.added),
            ("changed", self.changed),
            ("removed", self.removed),
        ):
            for change in changes:
                row = out.setdefault(
                    change.kind, {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}
                )
                row[name] += 1
        for kind, n in self.unchanged_by_kind.items():
            row = out.setdefault(kind, {"added": 0, "changed": 0, "removed": 0, "unchanged": 0})
            row["unchanged"] += n
        return out


def list_mappings(db: Database, company: str, kind: str | None = None) -> list[Mapping]:
    sql = "SELECT kind, local_id, qbo_id, qbo_name, updated_at FROM mappings WHERE company = ?"
    params: list[Any] = [company]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    rows = db.execute(sql + " ORDER BY kind, local_id", params).fetchall()
    return [Mapping(*row) for row in rows]


def lookup(db: Database, company: str, kind: str, local_id: str) -> str | None:
    """The QuickBooks id a local id maps to, or None (what the sync engine asks)."""
    row = db.execute(
        "SELECT qbo_id FROM mappings WHERE company = ? AND kind = ? AND local_id = ?",
        [company, kind, local_id],
    ).fetchone()
    return row[0] if row else None


def mapped_to(db: Database, company: str, kind: str, qbo_id: str) -> str | None:
    """The local id mapped to a QuickBooks id (the first by local id when several are)."""
    row = db.execute(
        "SELECT local_id FROM mappings WHERE company = ? AND kind = ? AND qbo_id = ? "
        "ORDER BY local_id LIMIT 1",
        [company, kind, qbo_id],
    ).fetchone()
    return row[0] if row else None


def get_mapping(db: Database, company: str, kind: str, local_id: str) -> Mapping | None:
    row = db.execute(
        "SELECT kind, local_id, qbo_id, qbo_name, updated_at FROM mappings "
        "WHERE company = ? AND kind = ? AND local_id = ?",
        [company, kind, local_id],
    ).fetchone()
    return Mapping(*row) if row else None


def diff_entries(
    db: Database,
    company: str,
    entries: list[Mapping],
    *,
    prune_kinds: set[str] | None = None,
) -> Diff:
    """What writing `entries` would change. An entry without a name keeps the stored label of
    the same id. With `prune_kinds`, stored mappings of those kinds that are not among the
    entries are removed."""
    existing = {(m.kind, m.local_id): m for m in list_mappings(db, company)}
    diff = Diff()
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.kind, entry.local_id)
        seen.add(key)
        old = existing.get(key)
        if old is None:
            diff.added.append(Change(entry.kind, entry.local_id, entry.qbo_id, entry.qbo_name))
        elif old.qbo_id != entry.qbo_id or (
            entry.qbo_name is not None and entry.qbo_name != old.qbo_name
        ):
            diff.changed.append(
                Change(
                    entry.kind,
                    entry.local_id,
                    entry.qbo_id,
                    entry.qbo_name,
                    old.qbo_id,
                    old.qbo_name,
                )
            )
        else:
            diff.unchanged_by_kind[entry.kind] = diff.unchanged_by_kind.get(entry.kind, 0) + 1
    if prune_kinds:
        for key, old in existing.items():
            if key[0] in prune_kinds and key not in seen:
                diff.removed.append(Change(old.kind, old.local_id, old.qbo_id, old.qbo_name))
    return diff


def apply_diff(db: Database, company: str, diff: Diff) -> None:
    """Write a diff in one transaction."""
    now = utc_now_iso()
    rows = [
        [company, c.kind, c.local_id, c.qbo_id, c.qbo_name, now]
        for c in (*diff.added, *diff.changed)
    ]
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO mappings (company, kind, local_id, qbo_id, qbo_name, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (company, kind, local_id) DO UPDATE SET "
            "qbo_id = excluded.qbo_id, qbo_name = excluded.qbo_name, "
            "updated_at = excluded.updated_at",
            rows,
        )
        db.conn.executemany(
            "DELETE FROM mappings WHERE company = ? AND kind = ? AND local_id = ?",
            [[company, c.kind, c.local_id] for c in diff.removed],
        )


def delete_mapping(db: Database, company: str, kind: str, local_id: str) -> Mapping | None:
    """Remove one mapping; returns what was removed (None when there was none)."""
    old = get_mapping(db, company, kind, local_id)
    if old is not None:
        with transaction(db):
            db.execute(
                "DELETE FROM mappings WHERE company = ? AND kind = ? AND local_id = ?",
                [company, kind, local_id],
            )
    return old
