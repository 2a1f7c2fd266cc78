"""A company's objects: storage per entity, ids and change stamps, what a running batch may
see, the cached public views, and references between objects.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qbsync.sim.clock import Clock, iso_seconds
from qbsync.sim.company.extra_tables import Replay, Tombstones
from qbsync.sim.company.model import ENTITIES, PEOPLE, TXNS, blank, ref_id
from qbsync.sim.company.tables import Table
from qbsync.sim.faults import QBOError
from qbsync.sim.storage import CACHE_SIZE, Store
from qbsync.sim.values import render


class Records:
    """The objects of one company and the ways to find them."""

    def __init__(
        self,
        realm_id: str,
        name: str,
        clock: Clock,
        country: str = "US",
        store: Store | None = None,
    ) -> None:
        self.realm_id = realm_id
        self.name = name
        self.country = country
        self.clock = clock
        # Objects live in the store (SQLite); a company made on its own gets a store in memory.
        self.store = store if store is not None else Store()
        self.data: dict[str, Table] = {e: Table(self.store, realm_id, e) for e in ENTITIES}
        # entity -> id -> (LastUpdatedTime text, epoch seconds, change number): what CDC
        # reports as Deleted.
        self.tombstones: dict[str, Tombstones] = {
            e: Tombstones(self.store, realm_id, e) for e in ENTITIES
        }
        # Counts every change (create, update, delete), so CDC can order changes made within
        # the same second in the order they happened.
        self.change_seq = 0
        self.counters: dict[str, int] = {}
        # requestid -> (status, body): the original answer, returned again on a repeat.
        self.replay = Replay(self.store, realm_id)
        # Objects created earlier in the running batch: invisible to its later items.
        self.hidden: set[tuple[str, str]] = set()
        # Rendered views, keyed by object identity: objects are replaced, not edited, on change.
        # Bounded like the store's cache, so memory does not grow with the company.
        self._views: OrderedDict[int, tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()
        self._singletons: dict[str, str] = {}  # entity -> the id of its one object
        # Lower-case field names seen per entity (what a WHERE clause may name).
        self.fields: dict[str, set[str]] = {e: set() for e in ENTITIES}

    # ------------------------------------------------------------ ids and stamps

    def _now(self) -> tuple[str, int]:
        now = self.clock.now().replace(microsecond=0)
        return iso_seconds(now), int(now.timestamp())

    def _next_change(self) -> int:
        self.change_seq += 1
        return self.change_seq

    def next_id(self, entity: str) -> str:
        # Transactions share one sequence, as QBO's TxnIds do; lists count on their own.
        key = "txn" if entity in TXNS else entity
        n = self.counters.get(key, 0) + 1
        self.counters[key] = n
        return str(n)

    def _stamp_new(self, entity: str, obj: dict[str, Any], obj_id: str | None = None) -> None:
        text, ts = self._now()
        obj["Id"] = obj_id or self.next_id(entity)
        obj["SyncToken"] = "0"
        obj["domain"] = "QBO"
        obj["sparse"] = False
        obj["MetaData"] = {"CreateTime": text, "LastUpdatedTime": text}
        obj["_ts"] = ts
        obj["_seq"] = self._next_change()

    def _touch(self, obj: dict[str, Any]) -> None:
        text, ts = self._now()
        obj["SyncToken"] = str(int(obj.get("SyncToken", "0")) + 1)
        meta = dict(obj.get("MetaData") or {})
        meta["LastUpdatedTime"] = text
        obj["MetaData"] = meta
        obj["_ts"] = ts
        obj["_seq"] = self._next_change()

    def visible(self, entity: str, obj_id: str | None) -> dict[str, Any] | None:
        if obj_id is None or (entity, obj_id) in self.hidden:
            return None
        return self.data[entity].get(obj_id)

    @contextmanager
    def batch_scope(self) -> Iterator[None]:
        self.hidden = set()
        try:
            yield
        finally:
            self.hidden = set()

    def singleton(self, entity: str) -> dict[str, Any]:
        oid = self._singletons.get(entity)
        obj = None if oid is None else self.data[entity].get(oid)
        if obj is None:
            oid = self.data[entity].first_id()
            if oid is None:
                raise StopIteration(entity)
            self._singletons[entity] = oid
            obj = self.data[entity][oid]
        result: dict[str, Any] = obj
        return result

    @property
    def prefs(self) -> dict[str, Any]:
        return self.singleton("Preferences")

    def pref(self, section: str, key: str, default: Any = None) -> Any:
        return (self.prefs.get(section) or {}).get(key, default)

    # ------------------------------------------------------------ references

    def ref(
        self,
        entity: str,
        ref: Any,
        element: str,
        *,
        required: bool = False,
        inactive_code: str = "610",
    ) -> dict[str, Any] | None:
        """Resolve a reference: missing gives 2500, inactive gives 610 (2500 for customers)."""
        rid = ref_id(ref)
        if rid is None:
            if required:
                raise QBOError("2020", element=element)
            return None
        obj = self.visible(entity, rid)
        if obj is None:
            raise QBOError(
                "2500",
                element=element,
                detail=f"{entity} assigned to this transaction has been deleted or does not exist. Id={rid}",  # noqa: E501
            )
        if obj.get("Active") is False:
            name = obj.get("DisplayName") or obj.get("Name") or rid
            if inactive_code == "2500":
                raise QBOError(
                    "2500",
                    element=element,
                    detail=f"{entity} assigned to this transaction has been deleted. Before you can modify this transaction, you must restore {name} (deleted).",  # noqa: E501
                )
            raise QBOError("610", element=element)
        return obj

    def _named_ref(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj.get("DisplayName") or obj.get("Name") or ""
        return {"value": obj["Id"], "name": name}

    def _optional_ref(self, obj: dict[str, Any], field: str, entity: str) -> None:
        if blank(obj.get(field)):
            obj.pop(field, None)
            return
        r = self.ref(entity, obj[field], field)
        assert r is not None
        obj[field] = self._named_ref(entity, r)

    def find_by_name(self, entity: str, name: str) -> dict[str, Any] | None:
        field = "DisplayName" if entity in PEOPLE else "Name"
        key = name.casefold()
        for _, obj in self.data[entity].with_name(name):
            if str(obj.get(field, "")).casefold() == key:
                return obj
        return None

    # ------------------------------------------------------------ reads

    def read(self, entity: str, obj_id: str) -> dict[str, Any]:
        obj = self.visible(entity, obj_id)
        if obj is None:
            raise QBOError(
                "610",
                detail=f"Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. ({entity} Id={obj_id})",  # noqa: E501
            )
        return obj

    def view(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The public rendering of a stored object (cached; callers must not mutate it)."""
        hit = self._views.get(id(obj))
        if hit is not None and hit[0] is obj:
            self._views.move_to_end(id(obj))
            return hit[1]
        out: dict[str, Any] = render(obj)
        self._views[id(obj)] = (obj, out)
        self._views.move_to_end(id(obj))
        while len(self._views) > CACHE_SIZE:
            self._views.popitem(last=False)
        return out

    def _forget_view(self, obj: dict[str, Any] | None) -> None:
        if obj is not None:
            self._views.pop(id(obj), None)
