"""Reading many objects at once: the query language over a company's objects, and change data
capture (what changed since a time, deletions included).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from qbsync.sim import query as qlang
from qbsync.sim.clock import parse_datetime
from qbsync.sim.company.model import BY_LOWER, NAME_LISTS
from qbsync.sim.company.records import Records
from qbsync.sim.company.tables import Table, norm
from qbsync.sim.faults import QBOError


class Queries(Records):
    """`query` and `cdc`."""

    def query(self, text: str, *, raw: bool = False) -> dict[str, Any]:
        """The answer to a query. With `raw`, views of objects not in the cache may come as
        their stored JSON text (`values.RawJSON`), for an HTTP answer to take as they are."""
        q = qlang.parse(text)
        entity = BY_LOWER.get(q.entity.lower())
        if entity is None:
            raise QBOError("4001", detail=f"Invalid context declaration : {q.entity}")
        table = self.data[entity]
        known = self.fields[entity] | _QUERYABLE
        for cond in q.where:
            head = cond.field.split(".")[0].lower()
            if head not in known:
                raise QBOError("4001", detail=f"property '{cond.field}' is not queryable")
        by_id = [c for c in q.where if c.field.lower() == "id" and c.op in ("=", "IN")]
        rows: Iterable[dict[str, Any]]
        if by_id:
            # Look ids up directly instead of scanning the table.
            wanted = by_id[0].value if by_id[0].op == "IN" else [by_id[0].value]
            rows = [o for o in (table.get(str(v)) for v in wanted) if o is not None]
        else:
            where, params, rest, index = self._sql_where(entity, q)
            order = _sql_order(table, q.order)
            if not rest and order is not None:
                # Everything the query asks is in the indexes: SQL counts and pages.
                if q.count:
                    return {"totalCount": table.count(where, params, index)}
                return _answer(
                    entity,
                    q.start,
                    table.page(
                        where, params, order, q.max_results, q.start - 1, self.view, index, raw
                    ),
                )
            rows = (o for _, o in table.scan(where, params, index))
        if self.hidden:
            rows = [o for o in rows if (entity, o["Id"]) not in self.hidden]
        if entity in NAME_LISTS and not any(c.field.lower() == "active" for c in q.where):
            rows = [o for o in rows if o.get("Active", True)]
        hits = (o for o in rows if all(qlang.matches(o, c) for c in q.where))
        if q.count:
            return {"totalCount": sum(1 for _ in hits)}
        if not q.order:
            # Rows are already in order: stop once the page is full.
            found = list(itertools.islice(hits, q.start - 1 + q.max_results))
        else:
            found = list(hits)
        # Without ORDERBY rows stay in the order they were first stored (ids only grow).
        for fld, desc in reversed(q.order):
            found.sort(key=functools.partial(_order_key, fld), reverse=desc)
        page = found[q.start - 1 : q.start - 1 + q.max_results]
        return _answer(entity, q.start, [self.view(o) for o in page])

    def _sql_where(self, entity: str, q: qlang.Query) -> tuple[str, list[Any], int, str]:
        """The SQL for the conditions the indexes answer exactly, how many are left for the
        scan (batch visibility and inactive lists are in the SQL too), and the index to use:
        the most selective one named (the planner, without statistics, may prefer walking
        the storage order and testing every row)."""
        table = self.data[entity]
        where = ""
        params: list[Any] = []
        rest = 0
        columns = set()
        for cond in q.where:
            term = _sql_term(table, cond)
            if term is None:
                rest += 1
            else:
                where += term[0]
                params += term[1]
                columns.add(term[2])
        index = next((f" INDEXED BY {_INDEXES[c]}" for c in _INDEXES if c in columns), "")
        hidden = [i for e, i in self.hidden if e == entity]
        if hidden:
            where += f" AND id NOT IN ({','.join('?' * len(hidden))})"
            params += hidden
        if entity in NAME_LISTS and not any(c.field.lower() == "active" for c in q.where):
            where += " AND active = 1"
        return where, params, rest, index

    def cdc(self, entities: list[str], since_ts: float, cap: int = 1000) -> list[dict[str, Any]]:
        # (time, change number, id, entity, object): by last update, and within one second in
        # the order the changes happened, deletions included.
        found: list[tuple[int, int, str, str, dict[str, Any]]] = []
        for entity in entities:
            for oid, o in self.data[entity].scan(" AND ts >= ?", (since_ts,)):
                if o.get("_ts", 0) >= since_ts:
                    found.append((o["_ts"], int(o.get("_seq", 0)), oid, entity, o))
            for oid, (text, ts, seq) in self.tombstones[entity].since(since_ts):
                found.append(
                    (
                        ts,
                        seq,
                        oid,
                        entity,
                        {
                            "Id": oid,
                            "status": "Deleted",
                            "domain": "QBO",
                            "MetaData": {"LastUpdatedTime": text},
                        },
                    )
                )
        found.sort(key=lambda t: (t[0], t[1], int(t[2]) if t[2].isdigit() else 0))
        found = found[:cap]
        out: list[dict[str, Any]] = []
        for entity in entities:
            objs = [
                t[4] if t[4].get("status") == "Deleted" else self.view(t[4])
                for t in found
                if t[3] == entity
            ]
            if objs:
                out.append({entity: objs, "startPosition": 1, "maxResults": len(objs)})
            else:
                out.append({})
        return out


def _answer(entity: str, start: int, page: list[dict[str, Any]]) -> dict[str, Any]:
    if not page:
        return {}
    return {entity: page, "startPosition": start, "maxResults": len(page)}


_EQ_COLUMNS = {"docnumber": "doc_key", "customerref": "customer_key"}
# Columns by how few rows a condition on them usually leaves, and their indexes.
_INDEXES = {
    "doc_key": "objects_doc",
    "customer_key": "objects_customer",
    "updated": "objects_updated",
    "txn_date": "objects_date",
}
_OPS = ("=", "<", ">", "<=", ">=")
_ORDER_COLUMNS = {"metadata.lastupdatedtime": "updated", "txndate": "txn_date"}


def _date_like(text: str) -> bool:
    return len(text) >= 10 and text[:4].isdigit()


def _sql_term(table: Table, cond: qlang.Condition) -> tuple[str, list[Any], str] | None:
    """The SQL that selects exactly what `query.matches` would for this condition, or None
    when the indexes cannot say (then the scan decides)."""
    field = cond.field.lower()
    values = cond.value if cond.op == "IN" else [cond.value]
    if any(isinstance(v, bool) or not isinstance(v, (str, Decimal)) for v in values):
        return None
    texts = [str(v) for v in values]
    if field in _EQ_COLUMNS and cond.op in ("=", "IN"):
        column = _EQ_COLUMNS[field]
        if any(_date_like(t) for t in texts) or table.has_odd(column):
            return None
        marks = ",".join("?" * len(texts))
        return f" AND {column} IN ({marks})", [norm(t) for t in texts], column
    if cond.op not in _OPS:
        return None
    if field == "txndate":
        if table.has_odd("txn_date"):
            return None
        return f" AND txn_date {cond.op} ?", [texts[0].casefold()], "txn_date"
    if field == "metadata.lastupdatedtime":
        if not _date_like(texts[0]) or table.has_odd("updated"):
            return None
        try:
            instant = parse_datetime(texts[0]).timestamp()
        except ValueError:
            return None
        return f" AND updated {cond.op} ?", [instant], "updated"
    return None


def _sql_order(table: Table, order: list[tuple[str, bool]]) -> str | None:
    """ORDER BY terms (before the storage order) equal to sorting by `query.sort_key`, or None
    when SQL cannot order that way."""
    if not order:
        return ""
    if len(order) > 1:
        return None
    field, desc = order[0][0].lower(), order[0][1]
    way = " DESC" if desc else ""
    if field == "id":
        return f"num IS NULL{way}, num{way}, id COLLATE NOCASE{way}, "
    column = _ORDER_COLUMNS.get(field)
    if column is None or table.has_odd(column):
        return None
    return f"{column}{way}, "


_QUERYABLE = {
    "id",
    "active",
    "displayname",
    "name",
    "metadata",
    "docnumber",
    "txndate",
    "duedate",
    "customerref",
    "totalamt",
    "balance",
    "type",
    "accounttype",
    "fullyqualifiedname",
    "companyname",
    "givenname",
    "familyname",
    "primaryemailaddr",
    "privatenote",
    "synctoken",
}


def _order_key(field: str, obj: dict[str, Any]) -> tuple[int, Any]:
    return qlang.sort_key(qlang.lookup(obj, field)[1])
