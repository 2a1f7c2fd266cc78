"""A company's tables in the simulator's store, each with the dict-like face the company code
uses (`get`, `[id]`, `in`, `len`, `values`, `items`), plus the indexed look-ups that replace
scans: by DocNumber, by name, by customer, by change time, and query pages in SQL.

The look-up columns hold what the query language compares (`query.lookup` and `_coerce`): a
number-like text by its integer, other text case-folded. A value the language would compare
some other way (a number, a boolean, a time where a date is expected) is stored as `ODD`, which
tells a look-up that the column cannot answer alone; it then falls back to a scan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from qbsync.sim import query as qlang
from qbsync.sim.clock import parse_datetime
from qbsync.sim.company.model import PEOPLE, dec
from qbsync.sim.storage import Store, pack, unpack
from qbsync.sim.values import RawJSON, public_text

ODD = "\x01"

_UPSERT = (
    "INSERT INTO objects (realm, entity, id, num, doc_key, customer_key, name_key, txn_date, "
    "updated, ts, active, open_credit, body, view) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (realm, entity, id) DO UPDATE SET num = excluded.num, "
    "doc_key = excluded.doc_key, customer_key = excluded.customer_key, "
    "name_key = excluded.name_key, txn_date = excluded.txn_date, updated = excluded.updated, "
    "ts = excluded.ts, active = excluded.active, open_credit = excluded.open_credit, "
    "body = excluded.body, view = excluded.view"
)


def norm(text: str) -> str:
    """How the query language compares two texts for equality: digits by value, else folded."""
    return str(int(text)) if text.isdigit() else text.casefold()


def eq_key(obj: dict[str, Any], path: str) -> str | None:
    found, value = qlang.lookup(obj, path)
    if not found or value is None:
        return None
    return norm(value) if isinstance(value, str) else ODD


def date_key(obj: dict[str, Any], path: str) -> str | None:
    found, value = qlang.lookup(obj, path)
    if not found or value is None:
        return None
    if not isinstance(value, str) or value.isdigit() or (len(value) > 10 and "T" in value):
        return ODD
    return value.casefold()


def time_key(obj: dict[str, Any], path: str) -> float | str | None:
    found, value = qlang.lookup(obj, path)
    if not found or value is None:
        return None
    if isinstance(value, str) and len(value) > 10 and "T" in value and value[:4].isdigit():
        try:
            return parse_datetime(value).timestamp()
        except ValueError:
            pass
    return ODD


def name_field(entity: str) -> str:
    return "DisplayName" if entity in PEOPLE else "Name"


def encode(key: tuple[str, str, str], obj: dict[str, Any]) -> tuple[Any, ...]:
    return row(*key, obj)


def row(realm: str, entity: str, oid: str, obj: dict[str, Any]) -> tuple[Any, ...]:
    name = obj.get(name_field(entity))
    return (
        realm,
        entity,
        oid,
        int(oid) if oid.isdigit() and len(oid) < 18 else None,
        eq_key(obj, "DocNumber"),
        eq_key(obj, "CustomerRef"),
        None if name is None else str(name).strip().casefold(),
        date_key(obj, "TxnDate"),
        time_key(obj, "MetaData.LastUpdatedTime"),
        int(obj.get("_ts", 0) or 0),
        1 if obj.get("Active", True) else 0,
        1 if entity == "CreditMemo" and dec(obj.get("RemainingCredit")) > 0 else 0,
        pack(obj),
        public_text(obj),
    )


def view_of(text: str) -> dict[str, Any]:
    """A view from its stored text."""
    result: dict[str, Any] = json.loads(text)
    return result


class Table:
    """One entity's objects of one company, in the order they were first stored."""

    def __init__(self, store: Store, realm: str, entity: str) -> None:
        self.store = store
        self.realm = realm
        self.entity = entity
        self._where = "realm = ? AND entity = ?"
        self._args: tuple[str, str] = (realm, entity)
        store.encode = encode
        store.upsert = _UPSERT

    # -------------------------------------------------------------- one object

    def get(self, oid: str, default: Any = None) -> Any:
        key = (self.realm, self.entity, oid)
        obj = self.store.staged(key) or self.store.cached(key)
        if obj is not None:
            return obj
        found = self.store.one(
            f"SELECT body FROM objects WHERE {self._where} AND id = ?", (*self._args, oid)
        )
        if found is None:
            return default
        obj = unpack(found[0])
        self.store.remember(key, obj)
        return obj

    def __getitem__(self, oid: str) -> dict[str, Any]:
        obj = self.get(oid)
        if obj is None:
            raise KeyError(oid)
        result: dict[str, Any] = obj
        return result

    def __contains__(self, oid: object) -> bool:
        if not isinstance(oid, str):
            return False
        key = (self.realm, self.entity, oid)
        if self.store.staged(key) is not None or self.store.cached(key) is not None:
            return True
        return (
            self.store.one(
                f"SELECT 1 FROM objects WHERE {self._where} AND id = ?", (*self._args, oid)
            )
            is not None
        )

    def __setitem__(self, oid: str, obj: dict[str, Any]) -> None:
        self.store.stage((self.realm, self.entity, oid), obj)

    def load(self, objs: list[tuple[str, dict[str, Any]]]) -> None:
        """Store many objects at once (converting a state file), without caching them."""
        self.store.write_many(_UPSERT, [row(self.realm, self.entity, i, o) for i, o in objs])

    def pop(self, oid: str, *default: Any) -> Any:
        obj = self.get(oid)
        if obj is None:
            if default:
                return default[0]
            raise KeyError(oid)
        self.store.unstage((self.realm, self.entity, oid))
        self.store.write(f"DELETE FROM objects WHERE {self._where} AND id = ?", (*self._args, oid))
        return obj

    def __delitem__(self, oid: str) -> None:
        self.pop(oid)

    # -------------------------------------------------------------- many

    def __len__(self) -> int:
        found = self.store.one(f"SELECT count(*) FROM objects WHERE {self._where}", self._args)
        return int(found[0]) if found else 0

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        return [
            r[0]
            for r in self.store.rows(
                f"SELECT id FROM objects WHERE {self._where} ORDER BY rowid", self._args
            )
        ]

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every object, in order, a chunk at a time (a scan: prefer the look-ups below)."""
        return self.scan("", ())

    def values(self) -> Iterator[dict[str, Any]]:
        return (obj for _, obj in self.scan("", ()))

    def scan(
        self, where: str, params: Sequence[Any], index: str = ""
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, object) for the rows matching an extra SQL condition, in order. Bodies are
        read only for objects not in the cache."""
        sql = f"SELECT rowid, id FROM objects{index} WHERE {self._where}{where}"
        for chunk in self.store.iter_chunks(sql, (*self._args, *params)):
            small = len(chunk) < 64
            objs = {}
            missing = []
            for _, oid in chunk:
                obj = self.store.cached((self.realm, self.entity, oid))
                if obj is None:
                    missing.append(oid)
                else:
                    objs[oid] = obj
            if missing:
                for oid, body in self.store.rows(
                    f"SELECT id, body FROM objects WHERE {self._where} "
                    f"AND id IN ({','.join('?' * len(missing))})",
                    (*self._args, *missing),
                ):
                    objs[oid] = obj = unpack(body)
                    if small:  # short lists (accounts, tax codes) stay at hand
                        self.store.remember((self.realm, self.entity, oid), obj)
            for _, oid in chunk:
                if oid in objs:
                    yield oid, objs[oid]

    def page(
        self,
        where: str,
        params: Sequence[Any],
        order: str,
        limit: int,
        offset: int,
        view: Callable[[dict[str, Any]], dict[str, Any]],
        index: str = "",
        raw: bool = False,
    ) -> list[Any]:
        """The public views of one page of objects matching an SQL condition, in an SQL order,
        then first stored. An object not in the cache is not read: its view comes from the
        view's stored text, parsed, or with `raw` as that text (`values.RawJSON`), which an
        HTTP answer takes as it is."""
        found = self.store.rows(
            f"SELECT id, view FROM objects{index} WHERE {self._where}{where} "
            f"ORDER BY {order}rowid LIMIT ? OFFSET ?",
            (*self._args, *params, limit, offset),
        )
        out: list[Any] = []
        for oid, text in found:
            obj = self.store.cached((self.realm, self.entity, oid))
            if obj is not None:
                out.append(view(obj))
            else:
                out.append(RawJSON(text) if raw else view_of(text))
        return out

    def count(self, where: str, params: Sequence[Any], index: str = "") -> int:
        found = self.store.one(
            f"SELECT count(*) FROM objects{index} WHERE {self._where}{where}",
            (*self._args, *params),
        )
        return int(found[0]) if found else 0

    def first_id(self) -> str | None:
        found = self.store.one(
            f"SELECT id FROM objects WHERE {self._where} ORDER BY rowid LIMIT 1", self._args
        )
        return None if found is None else str(found[0])

    def has_odd(self, column: str) -> bool:
        """Whether some object holds a value in `column` the index cannot compare."""
        return (
            self.store.one(
                f"SELECT 1 FROM objects WHERE {self._where} AND {column} = ? LIMIT 1",
                (*self._args, ODD),
            )
            is not None
        )

    # -------------------------------------------------------------- look-ups

    def with_doc_number(self, number: str) -> list[dict[str, Any]]:
        """Objects whose DocNumber is exactly `number`, in order."""
        return [
            obj
            for _, obj in self.scan(
                " AND doc_key IN (?, ?)", (norm(number), ODD), " INDEXED BY objects_doc"
            )
            if obj.get("DocNumber") == number
        ]

    def with_name(self, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, object) whose name, trimmed and folded, is `name`'s."""
        return self.scan(
            " AND name_key = ?", (name.strip().casefold(),), " INDEXED BY objects_name"
        )
