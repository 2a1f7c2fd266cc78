"""Storing a change, and the state derived from the stored objects: customer balances, which
payments are applied to which documents, document balances and open credit.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from qbsync.sim.clock import Clock
from qbsync.sim.company.extra_tables import Links, OpenCredit
from qbsync.sim.company.model import ZERO, dec, ref_id
from qbsync.sim.company.records import Records
from qbsync.sim.storage import Store


class Balances(Records):
    """Puts and removes objects and keeps everything derived from them in step."""

    def __init__(
        self,
        realm_id: str,
        name: str,
        clock: Clock,
        country: str = "US",
        store: Store | None = None,
    ) -> None:
        super().__init__(realm_id, name, clock, country, store)
        # (TxnType, TxnId) -> {payment id: amount applied}; derived from payments, kept in
        # the store beside them.
        self.links = Links(self.store, realm_id)
        # Customer id -> ids of its credit memos with credit left (for AutoApplyCredit): read
        # from the memos' indexed rows.
        self.open_credit = OpenCredit(self.store, realm_id)
        # The highest number on a sales form: QBO numbers the next one after it.
        self.top_doc_number = 1000

    def _contribution(self, entity: str, obj: dict[str, Any] | None) -> tuple[str | None, Decimal]:
        if obj is None:
            return None, ZERO
        cid = ref_id(obj.get("CustomerRef"))
        if entity == "Invoice":
            return cid, dec(obj.get("Balance"))
        if entity == "CreditMemo":
            return cid, -dec(obj.get("RemainingCredit"))
        if entity == "Payment":
            return cid, -dec(obj.get("UnappliedAmt"))
        return None, ZERO

    def _adjust_customer(self, cid: str | None, delta: Decimal) -> None:
        if cid is None or delta == 0:
            return
        cust = self.data["Customer"].get(cid)
        if cust is not None:
            self._forget_view(cust)
            cust["Balance"] = dec(cust.get("Balance")) + delta
            cust["BalanceWithJobs"] = cust["Balance"]
            self.data["Customer"][cid] = cust

    def _put(self, entity: str, obj: dict[str, Any]) -> None:
        old = self.data[entity].get(obj["Id"])
        self._forget_view(old)
        self._forget_view(obj)
        c_old, v_old = self._contribution(entity, old)
        self.data[entity][obj["Id"]] = obj
        self.fields[entity].update(k.lower() for k in obj)
        num = str(obj.get("DocNumber") or "")
        if entity in ("Invoice", "CreditMemo") and num.isdigit():
            self.top_doc_number = max(self.top_doc_number, int(num))
        c_new, v_new = self._contribution(entity, obj)
        self._adjust_customer(c_old, -v_old)
        self._adjust_customer(c_new, v_new)
        if entity == "Payment":
            self._relink(obj["Id"], old, obj)

    def _remove(self, entity: str, obj_id: str) -> None:
        old = self.data[entity].pop(obj_id)
        self._forget_view(old)
        c_old, v_old = self._contribution(entity, old)
        self._adjust_customer(c_old, -v_old)
        self.tombstones[entity][obj_id] = (*self._now(), self._next_change())
        if entity == "Payment":
            self._relink(obj_id, old, None)

    @staticmethod
    def _payment_links(p: dict[str, Any] | None) -> dict[tuple[str, str], Decimal]:
        out: dict[tuple[str, str], Decimal] = {}
        for line in (p or {}).get("Line") or []:
            amt = dec(line.get("Amount"))
            for lt in line.get("LinkedTxn") or []:
                key = (str(lt.get("TxnType")), str(lt.get("TxnId")))
                out[key] = out.get(key, ZERO) + amt
        return out

    def _relink(self, pid: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        before = self._payment_links(old)
        after = self._payment_links(new)
        for key in before:
            if key not in after or after[key] == 0:
                self.links.drop(key, pid)
        for key, amt in after.items():
            if amt != 0:
                self.links.put(key, pid, amt)
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                self._refresh_target(*key)

    def applied(self, txn_type: str, txn_id: str, exclude: str | None = None) -> Decimal:
        links = self.links.get((txn_type, txn_id), {})
        return sum((a for p, a in links.items() if p != exclude), ZERO)

    def _linked(self, txn_type: str, txn_id: str) -> list[dict[str, str]]:
        links = self.links.get((txn_type, txn_id), {})
        return [{"TxnId": p, "TxnType": "Payment"} for p in sorted(links, key=int) if links[p] != 0]

    def _refresh_target(self, txn_type: str, txn_id: str) -> None:
        """A payment changed what is applied to a document: its balance, links and token move."""
        table = self.data.get(txn_type)
        doc = table.get(txn_id) if table is not None else None
        if doc is None:
            return
        # Stored objects are never edited in place, so a shallow copy is enough here.
        new = dict(doc)
        self._derive_open(txn_type, new)
        if new != doc:
            self._touch(new)
            self._put(txn_type, new)

    def _derive_open(self, entity: str, doc: dict[str, Any], doc_id: str | None = "") -> None:
        """Balance (and RemainingCredit) and LinkedTxn from the payments applied to the document.
        doc_id None: a document being created, which nothing is applied to yet."""
        did = doc["Id"] if doc_id == "" else doc_id
        open_amt = dec(doc.get("TotalAmt")) - (self.applied(entity, did) if did else ZERO)
        doc["LinkedTxn"] = self._linked(entity, did) if did else []
        if entity == "Invoice":
            doc["Balance"] = open_amt
        else:
            doc["RemainingCredit"] = open_amt
            doc["Balance"] = open_amt

    def _unlink_payments(self, entity: str, doc_id: str) -> None:
        """Voiding or deleting a document turns what was applied to it back into credit."""
        for pid in sorted(self.links.get((entity, doc_id), {}), key=int):
            p = copy.deepcopy(self.data["Payment"][pid])
            p["Line"] = [
                ln
                for ln in p.get("Line") or []
                if not any(
                    str(lt.get("TxnType")) == entity and str(lt.get("TxnId")) == doc_id
                    for lt in ln.get("LinkedTxn") or []
                )
            ]
            self._rebalance(p)
            self._touch(p)
            self._put("Payment", p)

    @staticmethod
    def _rebalance(p: dict[str, Any]) -> None:
        """Keep a payment coherent after lines were dropped: credit used <= invoices paid <=
        credit used + total."""

        def sums() -> tuple[Decimal, Decimal]:
            inv = cm = ZERO
            for ln in p.get("Line") or []:
                kinds = {str(lt.get("TxnType")) for lt in ln.get("LinkedTxn") or []}
                if "CreditMemo" in kinds:
                    cm += dec(ln.get("Amount"))
                elif "Invoice" in kinds:
                    inv += dec(ln.get("Amount"))
            return inv, cm

        def shrink(kind: str, excess: Decimal) -> None:
            for ln in reversed(p.get("Line") or []):
                if excess <= 0:
                    break
                kinds = {str(lt.get("TxnType")) for lt in ln.get("LinkedTxn") or []}
                if kind in kinds:
                    cut = min(excess, dec(ln.get("Amount")))
                    ln["Amount"] = dec(ln.get("Amount")) - cut
                    excess -= cut
            p["Line"] = [ln for ln in p.get("Line") or [] if dec(ln.get("Amount")) != 0]

        inv, cm = sums()
        if cm > inv:
            shrink("CreditMemo", cm - inv)
        inv, cm = sums()
        total = dec(p.get("TotalAmt"))
        if inv - cm > total:
            shrink("Invoice", inv - cm - total)
        inv, cm = sums()
        p["UnappliedAmt"] = total - (inv - cm)

    def rebuild_links(self) -> None:
        self.links.clear()
        for pid, p in self.data["Payment"].items():
            for key, amt in self._payment_links(p).items():
                if amt != 0:
                    self.links.put(key, pid, amt)
