"""Name-list objects built from a request: customers, vendors, employees, items, accounts,
terms, classes, locations and payment methods (names, uniqueness, references, defaults).
"""

from __future__ import annotations

import re
from typing import Any

from qbsync.sim.company.currency import currency_ref
from qbsync.sim.company.model import (
    ACCOUNT_CLASSES,
    ITEM_TYPES,
    PEOPLE,
    USD,
    blank,
    check_len,
    dec,
    ref_id,
)
from qbsync.sim.company.records import Records
from qbsync.sim.company.tables import name_field
from qbsync.sim.faults import QBOError


class ListBuilders(Records):
    """`_build_<entity>` for the name lists."""

    def _active(self, obj: dict[str, Any]) -> None:
        a = obj.get("Active", True)
        obj["Active"] = not (a is False or (isinstance(a, str) and a.lower() == "false"))

    def _unique_name(
        self,
        entities: tuple[str, ...],
        field: str,
        name: str,
        me: tuple[str, str] | None,
        detail: str,
    ) -> None:
        key = name.strip().casefold()
        for ent in entities:
            table = self.data[ent]
            same = table.with_name(name) if field == name_field(ent) else table.items()
            for oid, other in same:
                if me is not None and me == (ent, oid):
                    continue
                if str(other.get(field) or "").strip().casefold() == key:
                    raise QBOError("6240", element=field, detail=f"{detail} Id={oid}")

    def _build_person(
        self, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._active(obj)
        name = obj.get("DisplayName")
        if blank(name):
            parts = [
                obj.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
            ]
            name = " ".join(str(p) for p in parts if not blank(p)) or obj.get("CompanyName")
        if blank(name):
            raise QBOError("2020", element="DisplayName")
        name = str(name).strip()
        if re.search(r"[:\t\n]", name):
            raise QBOError(
                "6000",
                element="DisplayName",
                detail="The name can't contain a colon, tab or newline.",
            )
        obj["DisplayName"] = name
        check_len(obj, "DisplayName", 500)
        self._unique_name(
            PEOPLE,
            "DisplayName",
            name,
            (entity, existing["Id"]) if existing else None,
            "Another customer, vendor or employee is already using this name. Please use a different name.",  # noqa: E501
        )
        obj.setdefault("PrintOnCheckName", name)
        obj["FullyQualifiedName"] = name
        return obj

    def _build_customer(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        obj = self._build_person("Customer", obj, existing)
        for field, ent in (
            ("SalesTermRef", "Term"),
            ("PaymentMethodRef", "PaymentMethod"),
        ):
            if not blank(obj.get(field)):
                r = self.ref(ent, obj[field], field)
                assert r is not None
                obj[field] = self._named_ref(ent, r)
            else:
                obj.pop(field, None)
        if existing is not None and ref_id(existing.get("CurrencyRef")) not in (
            None,
            ref_id(obj.get("CurrencyRef")) or ref_id(existing.get("CurrencyRef")),
        ):
            raise QBOError("6000", element="CurrencyRef", detail="The currency can't be changed.")
        obj["CurrencyRef"] = (
            obj.get("CurrencyRef")
            or (existing or {}).get("CurrencyRef")
            or currency_ref(ref_id(self.pref("CurrencyPrefs", "HomeCurrency")) or "USD")
        )
        obj["Taxable"] = bool(obj.get("Taxable", True))
        obj["Job"] = bool(obj.get("Job", False))
        obj["BillWithParent"] = bool(obj.get("BillWithParent", False))
        obj["PreferredDeliveryMethod"] = obj.get("PreferredDeliveryMethod") or "Print"
        # Balance is derived from open documents; never taken from the client.
        obj["Balance"] = dec((existing or {}).get("Balance"))
        obj["BalanceWithJobs"] = obj["Balance"]
        return obj

    def _build_vendor(self, obj: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        obj = self._build_person("Vendor", obj, existing)
        obj["Balance"] = dec((existing or {}).get("Balance"))
        return obj

    def _build_employee(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        return self._build_person("Employee", obj, existing)

    def _build_named(
        self,
        entity: str,
        obj: dict[str, Any],
        existing: dict[str, Any] | None,
        what: str,
        max_len: int = 100,
    ) -> dict[str, Any]:
        self._active(obj)
        name = obj.get("Name")
        if blank(name):
            raise QBOError("2020", element="Name")
        obj["Name"] = str(name).strip()
        check_len(obj, "Name", max_len)
        self._unique_name(
            (entity,),
            "Name",
            obj["Name"],
            (entity, existing["Id"]) if existing else None,
            f"Another {what} is already using this name. Please use a different name.",
        )
        obj["FullyQualifiedName"] = obj["Name"]
        return obj

    def _build_item(self, obj: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        obj = self._build_named("Item", obj, existing, "product or service")
        obj["Type"] = obj.get("Type") or "Service"
        if obj["Type"] not in ITEM_TYPES:
            raise QBOError("2010", element="Type", detail=f"Invalid item type {obj['Type']}")
        for field in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
            if blank(obj.get(field)):
                obj.pop(field, None)
                continue
            acct = self.ref("Account", obj[field], field)
            assert acct is not None
            obj[field] = self._named_ref("Account", acct)
        if obj["Type"] in ("Service", "NonInventory") and "IncomeAccountRef" not in obj:
            raise QBOError("2020", element="IncomeAccountRef")
        obj["UnitPrice"] = dec(obj.get("UnitPrice"))
        obj["Taxable"] = bool(obj.get("Taxable", False))
        obj["TrackQtyOnHand"] = bool(obj.get("TrackQtyOnHand", False))
        return obj

    def _build_account(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        obj = self._build_named("Account", obj, existing, "account")
        atype = obj.get("AccountType")
        if blank(atype):
            raise QBOError("2020", element="AccountType")
        if atype not in ACCOUNT_CLASSES:
            raise QBOError("2010", element="AccountType", detail=f"Invalid AccountType {atype}")
        obj["Classification"] = ACCOUNT_CLASSES[str(atype)]
        obj.setdefault("AccountSubType", str(atype).replace(" ", ""))
        obj["SubAccount"] = bool(obj.get("SubAccount", False))
        obj["CurrentBalance"] = dec((existing or {}).get("CurrentBalance"))
        obj["CurrentBalanceWithSubAccounts"] = obj["CurrentBalance"]
        obj["CurrencyRef"] = obj.get("CurrencyRef") or USD
        return obj

    def _build_term(self, obj: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        obj = self._build_named("Term", obj, existing, "term", 31)
        obj.pop("FullyQualifiedName", None)
        if blank(obj.get("DueDays")) and blank(obj.get("DayOfMonthDue")):
            raise QBOError("2020", element="DueDays")
        if not blank(obj.get("DueDays")):
            obj["DueDays"] = int(dec(obj["DueDays"]))
            obj["Type"] = "STANDARD"
        else:
            obj["DayOfMonthDue"] = int(dec(obj["DayOfMonthDue"]))
            obj["Type"] = "DATE_DRIVEN"
        obj["DiscountPercent"] = dec(obj.get("DiscountPercent"))
        return obj

    def _build_class(self, obj: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        obj = self._build_named("Class", obj, existing, "class")
        obj["SubClass"] = bool(obj.get("SubClass", False))
        return obj

    def _build_department(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        obj = self._build_named("Department", obj, existing, "location")
        obj["SubDepartment"] = bool(obj.get("SubDepartment", False))
        return obj

    def _build_paymentmethod(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        obj = self._build_named("PaymentMethod", obj, existing, "payment method", 31)
        obj.pop("FullyQualifiedName", None)
        obj["Type"] = obj.get("Type") or "NON_CREDIT_CARD"
        if obj["Type"] not in ("CREDIT_CARD", "NON_CREDIT_CARD"):
            raise QBOError("2010", element="Type", detail=f"Invalid Type {obj['Type']}")
        return obj
