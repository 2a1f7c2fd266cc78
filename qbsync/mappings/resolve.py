"""Resolving QuickBooks names to ids against the company's lists.

Lists come from a `ListSource`: any callable `(entity, include_inactive) -> list of QuickBooks
objects` (each with `Id`, a name in `Name`, `DisplayName` or `FullyQualifiedName`, and
`Active`). The live one reads the company through the QBO client (mappings/live.py); tests
pass lists directly with `static_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from qbsync.errors import QbsyncError
from qbsync.mappings.kinds import (
    DEPOSIT_ACCOUNT_TYPES,
    DISCOUNT_ACCOUNT_TYPES,
    UNUSABLE_ITEM_TYPES,
    entity_for,
)

ListSource = Callable[[str, bool], list[dict[str, Any]]]

SUGGESTIONS = 5


def static_source(lists: Mapping[str, list[dict[str, Any]]]) -> ListSource:
    """A ListSource over fixed lists keyed by entity (inactive records filtered as QBO does)."""

    def source(entity: str, include_inactive: bool) -> list[dict[str, Any]]:
        records = list(lists.get(entity, []))
        if not include_inactive:
            records = [r for r in records if r.get("Active", True) is not False]
        return records

    return source


class ResolveError(ValueError):
    """A name that does not resolve to exactly one usable record; the message lists candidates."""


def record_name(record: Mapping[str, Any]) -> str:
    for key in ("FullyQualifiedName", "DisplayName", "Name"):
        value = record.get(key)
        if value:
            return str(value)
    return str(record.get("Id", "?"))


def _names(record: Mapping[str, Any]) -> set[str]:
    return {str(record[k]) for k in ("FullyQualifiedName", "DisplayName", "Name") if record.get(k)}


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _label(record: Mapping[str, Any]) -> str:
    inactive = "" if record.get("Active", True) is not False else ", inactive"
    return f"{record_name(record)!r} (Id {record.get('Id')}{inactive})"


@dataclass(frozen=True)
class Resolved:
    qbo_id: str
    qbo_name: str


class Resolver:
    """Resolves names for many entries, reading each QuickBooks list once."""

    def __init__(self, source: ListSource | None) -> None:
        self.source = source
        self._lists: dict[str, list[dict[str, Any]]] = {}
        self._indexes: dict[tuple[str, str, str], Any] = {}
        self.fetched: list[str] = []

    def records(self, entity: str) -> list[dict[str, Any]]:
        if entity not in self._lists:
            if self.source is None:
                raise ResolveError(
                    "resolving a name needs the company's QuickBooks lists, and there is no "
                    "connection; map by id instead (qbo: ID)"
                )
            try:
                self._lists[entity] = list(self.source(entity, True))
            except QbsyncError as exc:
                raise QbsyncError(
                    f"reading the QuickBooks {entity} list to resolve names: {exc.message}",
                    exc.hint or "map by id (qbo: ID) to work without a connection",
                    code=exc.code,
                ) from None
            self.fetched.append(entity)
        return self._lists[entity]

    def _index(
        self, kind_name: str, local_id: str
    ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, list[dict]]]:
        """The usable records of a list, indexed by exact and by folded name (built once, so
        that thousands of names resolve in linear time)."""
        entity = entity_for(kind_name, local_id)
        key = (entity, kind_name, local_id if kind_name == "accounts" else "")
        if key not in self._indexes:
            records = [r for r in self.records(entity) if _usable(kind_name, local_id, r)]
            exact: dict[str, list[dict[str, Any]]] = {}
            folded: dict[str, list[dict[str, Any]]] = {}
            for record in records:
                for name in _names(record):
                    exact.setdefault(name, []).append(record)
                for name in {_fold(n) for n in _names(record)}:
                    folded.setdefault(name, []).append(record)
            self._indexes[key] = (records, exact, folded)
        return self._indexes[key]

    def resolve(self, kind_name: str, local_id: str, name: str) -> Resolved:
        entity = entity_for(kind_name, local_id)
        records, exact, folded = self._index(kind_name, local_id)
        wanted = name.strip()
        matches = _unique(exact.get(wanted, [])) or _unique(folded.get(_fold(wanted), []))
        active = [r for r in matches if r.get("Active", True) is not False]
        if len(active) == 1:
            return Resolved(str(active[0]["Id"]), record_name(active[0]))
        if len(active) > 1:
            listed = ", ".join(_label(r) for r in active)
            raise ResolveError(
                f"{name!r} matches {len(active)} QuickBooks {entity} records: {listed}; "
                "map by id (qbo: ID)"
            )
        if matches:
            raise ResolveError(
                f"QuickBooks {entity} {_label(matches[0])} is inactive; reactivate it in "
                "QuickBooks or choose another"
            )
        self._refuse_wrong_type(kind_name, local_id, wanted)
        raise ResolveError(f"no QuickBooks {entity} named {name!r}{self._closest(records, name)}")

    def _refuse_wrong_type(self, kind_name: str, local_id: str, name: str) -> None:
        """A record of that name exists, but of a type this mapping cannot use (a deposit
        account that is not a bank, a discount account that is not income or expense, an item
        that is a category): say so, rather than that there is none."""
        if kind_name not in ("accounts", "items"):
            return
        for record in self.records(entity_for(kind_name, local_id)):
            named = name in _names(record) or _fold(name) in {_fold(n) for n in _names(record)}
            if named and not _usable(kind_name, local_id, record):
                raise ResolveError(_wrong_type(kind_name, local_id, record))

    def check_discount_account(self, qbo_id: str) -> str | None:
        """A discount account mapped by id, checked against the Account list when it can be
        read: its name, or None when the list cannot be read (no connection: an id is taken as
        it is). ResolveError for an account of another type."""
        try:
            records = self.records("Account")
        except (QbsyncError, ResolveError):
            return None
        record = next((r for r in records if str(r.get("Id")) == qbo_id), None)
        if record is None:
            raise ResolveError(f"no QuickBooks Account with Id {qbo_id}")
        if record.get("AccountType") not in DISCOUNT_ACCOUNT_TYPES:
            raise ResolveError(_not_a_discount_account(record))
        return record_name(record)

    def _closest(self, records: list[dict[str, Any]], name: str) -> str:
        candidates = [r for r in records if r.get("Active", True) is not False]
        if not candidates:
            return " (the list is empty)"
        choices = {i: record_name(r) for i, r in enumerate(candidates)}
        best = process.extract(
            name, choices, scorer=fuzz.WRatio, processor=_fold, limit=SUGGESTIONS
        )
        shown = ", ".join(_label(candidates[key]) for _, _, key in best)
        return f" (closest: {shown})"


def _unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {id(r): r for r in records}
    return list(seen.values())


def _usable(kind_name: str, local_id: str, record: Mapping[str, Any]) -> bool:
    if kind_name == "accounts" and local_id == "deposit":
        return record.get("AccountType") in DEPOSIT_ACCOUNT_TYPES
    if kind_name == "accounts" and local_id == "discount":
        return record.get("AccountType") in DISCOUNT_ACCOUNT_TYPES
    if kind_name == "items":
        return record.get("Type") not in UNUSABLE_ITEM_TYPES
    return True


def _wrong_type(kind_name: str, local_id: str, record: Mapping[str, Any]) -> str:
    if kind_name == "items":
        return (
            f"QuickBooks Item {_label(record)} is a {record.get('Type') or 'record of no type'}; "
            "it cannot stand on an invoice line: choose a service or product item"
        )
    if local_id == "discount":
        return _not_a_discount_account(record)
    return (
        f"QuickBooks Account {_label(record)} is of type {record.get('AccountType') or 'unknown'}; "
        f"the {local_id} account must be one of {', '.join(DEPOSIT_ACCOUNT_TYPES)}"
    )


def _not_a_discount_account(record: Mapping[str, Any]) -> str:
    return (
        f"QuickBooks Account {_label(record)} is of type "
        f"{record.get('AccountType') or 'unknown'}; the discount account must be an income or "
        f"expense account ({', '.join(DISCOUNT_ACCOUNT_TYPES)})"
    )
