"""One QBO company (realm): its entities and the rules QBO enforces when they change.

Every public operation validates everything first and mutates only after that, so a fault
never leaves half an operation behind (the batch and fault-injection runs rely on it).
"""

from __future__ import annotations

import functools
import itertools
from decimal import Decimal
from typing import Any

from qbsync.sim import query as qlang
from qbsync.sim.clock import Clock
from qbsync.sim.company.model import BY_LOWER, ENTITIES, NAME_LISTS, ZERO, dec, deep_merge, ref_id
from qbsync.sim.company.writes import Writes
from qbsync.sim.faults import QBOError


class Company(Writes):
    # ------------------------------------------------------------ query and CDC

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
        found: list[tuple[int, int, str, str, dict[str, Any]]] = []
        for rank, entity in enumerate(entities):
            for oid, o in self.data[entity].items():
                if o.get("_ts", 0) >= since_ts:
                    found.append((o["_ts"], rank, oid, entity, self.view(o)))
            for oid, (text, ts) in self.tombstones[entity].items():
                if ts >= since_ts:
                    found.append(
                        (
                            ts,
                            rank,
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

    # ------------------------------------------------------------ consistency

    def check_invariants(self) -> list[str]:
        """Problems found (empty when consistent). Recomputes derived state from scratch."""
        problems: list[str] = []
        links: dict[tuple[str, str], dict[str, Decimal]] = {}
        for pid, p in self.data["Payment"].items():
            inv = cm = ZERO
            for (ttype, tid), amt in self._payment_links(p).items():
                if amt == 0:
                    continue
                links.setdefault((ttype, tid), {})[pid] = amt
                if self.data.get(ttype, {}).get(tid) is None:
                    problems.append(f"Payment {pid} links missing {ttype} {tid}")
                if ttype == "Invoice":
                    inv += amt
                else:
                    cm += amt
            total = dec(p.get("TotalAmt"))
            if cm > inv:
                problems.append(f"Payment {pid} uses more credit than it pays")
            if dec(p.get("UnappliedAmt")) != total - (inv - cm) or dec(p.get("UnappliedAmt")) < 0:
                problems.append(f"Payment {pid} UnappliedAmt {p.get('UnappliedAmt')} wrong")
        clean = {k: v for k, v in self.links.items() if v}
        if clean != links:
            problems.append("payment link index out of date")
        balances: dict[str, Decimal] = {}
        for entity in ("Invoice", "CreditMemo"):
            for did, doc in self.data[entity].items():
                applied = sum(links.get((entity, did), {}).values(), ZERO)
                sales = [
                    ln
                    for ln in doc.get("Line") or []
                    if ln.get("DetailType") == "SalesItemLineDetail"
                ]
                subtotal = sum((dec(ln.get("Amount")) for ln in sales), ZERO)
                tax = dec((doc.get("TxnTaxDetail") or {}).get("TotalTax"))
                if dec(doc.get("TotalAmt")) != subtotal + tax:
                    problems.append(f"{entity} {did} TotalAmt != lines + tax")
                open_amt = dec(doc.get("TotalAmt")) - applied
                if dec(doc.get("Balance")) != open_amt or open_amt < 0:
                    problems.append(
                        f"{entity} {did} Balance {doc.get('Balance')} != total - applied {open_amt}"
                    )
                if entity == "CreditMemo" and dec(doc.get("RemainingCredit")) != open_amt:
                    problems.append(f"CreditMemo {did} RemainingCredit wrong")
                cid = ref_id(doc.get("CustomerRef")) or ""
                sign = 1 if entity == "Invoice" else -1
                balances[cid] = balances.get(cid, ZERO) + sign * open_amt
        for p in self.data["Payment"].values():
            cid = ref_id(p.get("CustomerRef")) or ""
            balances[cid] = balances.get(cid, ZERO) - dec(p.get("UnappliedAmt"))
        for cid, cust in self.data["Customer"].items():
            if dec(cust.get("Balance")) != balances.get(cid, ZERO):
                problems.append(
                    f"Customer {cid} Balance {cust.get('Balance')} != {balances.get(cid)}"
                )
        for entity in ENTITIES:
            for oid, o in self.data[entity].items():
                if oid in self.tombstones[entity]:
                    problems.append(f"{entity} {oid} is both live and deleted")
                if not str(o.get("SyncToken", "")).isdigit():
                    problems.append(f"{entity} {oid} bad SyncToken")
        return problems

    # ------------------------------------------------------------ persistence

    def to_state(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "name": self.name,
            "country": self.country,
            "data": self.data,
            "tombstones": {
                e: {i: list(v) for i, v in t.items()} for e, t in self.tombstones.items()
            },
            "counters": self.counters,
            "replay": {k: list(v) for k, v in self.replay.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], clock: Clock) -> Company:
        c = cls(state["realm_id"], state["name"], clock, state.get("country", "US"))
        for e in ENTITIES:
            c.data[e] = state["data"].get(e, {})
            c.tombstones[e] = {
                i: (str(v[0]), int(v[1])) for i, v in state["tombstones"].get(e, {}).items()
            }
        c.counters = dict(state["counters"])
        c.replay = {k: (int(v[0]), v[1]) for k, v in state.get("replay", {}).items()}
        c.rebuild_links()
        for memo in c.data["CreditMemo"].values():
            c._index_credit(None, memo)
        for e in ENTITIES:
            for obj in c.data[e].values():
                c.fields[e].update(k.lower() for k in obj)
                num = str(obj.get("DocNumber") or "")
                if e in ("Invoice", "CreditMemo") and num.isdigit():
                    c.top_doc_number = max(c.top_doc_number, int(num))
        return c


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


__all__ = ["BY_LOWER", "ENTITIES", "Company", "deep_merge"]
