"""Reading many objects at once: the query language over a company's objects, and change data
capture (what changed since a time, deletions included).
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from qbsync.sim import query as qlang
from qbsync.sim.company.model import BY_LOWER, NAME_LISTS
from qbsync.sim.company.records import Records
from qbsync.sim.faults import QBOError


class Queries(Records):
    """`query` and `cdc`."""

    def query(self, text: str) -> dict[str, Any]:
        q = qlang.parse(text)
        entity = BY_LOWER.get(q.entity.lower())
        if entity is None:
            raise QBOError("4001", detail=f"Invalid context declaration : {q.entity}")
        table = self.data[entity]
        by_id = [c for c in q.where if c.field.lower() == "id" and c.op in ("=", "IN")]
        if by_id:
            # Look ids up directly instead of scanning the table.
            wanted = by_id[0].value if by_id[0].op == "IN" else [by_id[0].value]
            rows = [table[str(v)] for v in wanted if str(v) in table]
        else:
            rows = list(table.values())
        if self.hidden:
            rows = [o for o in rows if (entity, o["Id"]) not in self.hidden]
        known = self.fields[entity] | _QUERYABLE
        for cond in q.where:
            head = cond.field.split(".")[0].lower()
            if head not in known:
                raise QBOError("4001", detail=f"property '{cond.field}' is not queryable")
        if entity in NAME_LISTS and not any(c.field.lower() == "active" for c in q.where):
            rows = [o for o in rows if o.get("Active", True)]
        hits = (o for o in rows if all(qlang.matches(o, c) for c in q.where))
        if q.count:
            return {"totalCount": sum(1 for _ in hits)}
        if not q.order:
            # Rows are already in order: stop once the page is full.
            rows = list(itertools.islice(hits, q.start - 1 + q.max_results))
        else:
            rows = list(hits)
        # Without ORDERBY rows stay in Id order: ids only grow, and dicts keep insertion order.
        for fld, desc in reversed(q.order):
            rows.sort(key=functools.partial(_order_key, fld), reverse=desc)
        page = rows[q.start - 1 : q.start - 1 + q.max_results]
        if not page:
            return {}
        return {
            entity: [self.view(o) for o in page],
            "startPosition": q.start,
            "maxResults": len(page),
        }

    def cdc(self, entities: list[str], since_ts: float, cap: int = 1000) -> list[dict[str, Any]]:
        # (time, change number, id, entity, view): by last update, and within one second in
        # the order the changes happened, deletions included.
        found: list[tuple[int, int, str, str, dict[str, Any]]] = []
        for entity in entities:
            for oid, o in self.data[entity].items():
                if o.get("_ts", 0) >= since_ts:
                    found.append((o["_ts"], int(o.get("_seq", 0)), oid, entity, self.view(o)))
            for oid, (text, ts, seq) in self.tombstones[entity].items():
                if ts >= since_ts:
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
            objs = [t[4] for t in found if t[3] == entity]
            if objs:
                out.append({entity: objs, "startPosition": 1, "maxResults": len(objs)})
            else:
                out.append({})
        return out


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
