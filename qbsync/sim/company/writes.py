"""The write entry points: create, update (sparse or full, checked against the SyncToken),
delete and void. Each validates everything before it stores anything.
"""

from __future__ import annotations

import copy
from typing import Any

from qbsync.sim.company.documents import SalesDocuments
from qbsync.sim.company.lists import ListBuilders
from qbsync.sim.company.model import (
    READ_ONLY_LISTS,
    SERVER_FIELDS,
    SINGLETONS,
    TXNS,
    ZERO,
    blank,
    deep_merge,
)
from qbsync.sim.company.payments import Payments
from qbsync.sim.faults import QBOError


class Writes(ListBuilders, SalesDocuments, Payments):
    """Create, update, delete and void any entity, through its `_build_<entity>`."""

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity in SINGLETONS or entity in READ_ONLY_LISTS:
            raise QBOError(
                "500",
                type="ValidationFault",
                message="Unsupported Operation",
                detail=f"Operation Create is not supported for {entity}.",
            )
        base = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
        obj = self._build(entity, base, None)
        self._stamp_new(entity, obj)
        self._put(entity, obj)
        if entity == "Invoice":
            try:
                credit = self._auto_credit_payment(obj)
                if credit is not None:
                    self.create("Payment", credit)
            except QBOError:
                # All or nothing, as in QBO: the invoice must not stay behind its own fault.
                self._remove(entity, obj["Id"])
                self.tombstones[entity].pop(obj["Id"], None)
                raise
            obj = self.data["Invoice"][obj["Id"]]
        return obj

    def update(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        check_token: bool = True,
        sparse: bool | None = None,
    ) -> dict[str, Any]:
        if entity in READ_ONLY_LISTS:
            raise QBOError(
                "500",
                message="Unsupported Operation",
                detail=f"Operation Update is not supported for {entity}.",
            )
        existing = self._existing_for_write(entity, body, check_token)
        is_sparse = bool(body.get("sparse")) if sparse is None else sparse
        fields = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
        if entity in SINGLETONS:
            merged = copy.deepcopy(existing)
            deep_merge(merged, fields)
        elif is_sparse:
            merged = {k: v for k, v in copy.deepcopy(existing).items() if k not in SERVER_FIELDS}
            merged.update(fields)
        else:
            # Full update: what is not sent becomes empty; private state carries over.
            merged = {k: v for k, v in existing.items() if k.startswith("_")}
            merged.update(fields)
        obj = merged if entity in SINGLETONS else self._build(entity, merged, existing)
        for k in ("Id", "SyncToken", "MetaData", "domain", "sparse", "_ts"):
            if k in existing:
                obj[k] = existing[k]
        self._touch(obj)
        self._put(entity, obj)
        return self.data[entity][obj["Id"]]

    def _existing_for_write(
        self, entity: str, body: dict[str, Any], check_token: bool
    ) -> dict[str, Any]:
        obj_id = body.get("Id")
        if blank(obj_id):
            raise QBOError("2020", element="Id")
        existing = self.read(entity, str(obj_id))
        if check_token:
            token = body.get("SyncToken")
            if blank(token):
                raise QBOError("2020", element="SyncToken")
            if str(token) != existing["SyncToken"]:
                raise QBOError("5010")
        return existing

    def delete(
        self, entity: str, body: dict[str, Any], *, check_token: bool = True
    ) -> dict[str, Any]:
        if entity not in TXNS:
            raise QBOError(
                "500",
                message="Unsupported Operation",
                detail=f"Operation Delete is not supported for {entity}. Make it inactive instead.",
            )
        existing = self._existing_for_write(entity, body, check_token)
        if existing.get("_deposited"):
            raise QBOError("6540")
        obj_id = existing["Id"]
        if entity in ("Invoice", "CreditMemo"):
            self._unlink_payments(entity, obj_id)
        self._remove(entity, obj_id)
        return {"Id": obj_id, "status": "Deleted", "domain": "QBO"}

    def void(
        self, entity: str, body: dict[str, Any], *, check_token: bool = True
    ) -> dict[str, Any]:
        if entity not in ("Invoice", "Payment"):
            raise QBOError(
                "6000",
                detail=f"{entity} cannot be voided. Delete it instead.",
            )
        existing = self._existing_for_write(entity, body, check_token)
        if existing.get("_voided"):
            return existing  # voiding again changes nothing
        if existing.get("_deposited"):
            raise QBOError("6540")
        obj = copy.deepcopy(existing)
        note = obj.get("PrivateNote") or ""
        obj["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        obj["_voided"] = True
        if entity == "Invoice":
            self._unlink_payments("Invoice", obj["Id"])
            # QBO keeps the lines of a voided invoice but zeroes each one's Qty and Amount.
            for line in obj.get("Line") or []:
                if "Amount" in line:
                    line["Amount"] = ZERO
                detail = line.get("SalesItemLineDetail")
                if isinstance(detail, dict):
                    detail["Qty"] = ZERO
            tax = obj.get("TxnTaxDetail") or {}
            tax["TotalTax"] = ZERO
            for tl in tax.get("TaxLine") or []:
                tl["Amount"] = ZERO
            obj["TotalAmt"] = ZERO
            obj["Balance"] = ZERO
            obj["LinkedTxn"] = []
        else:
            for line in obj.get("Line") or []:
                line["Amount"] = ZERO
            obj["TotalAmt"] = ZERO
            obj["UnappliedAmt"] = ZERO
        self._touch(obj)
        self._put(entity, obj)
        return self.data[entity][obj["Id"]]

    def _build(
        self, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        builder = getattr(self, f"_build_{entity.lower()}", None)
        if builder is None:
            return obj
        result: dict[str, Any] = builder(obj, existing)
        return result
