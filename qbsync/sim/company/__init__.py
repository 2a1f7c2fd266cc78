"""One QBO company (realm): its entities and the rules QBO enforces when they change.

Every public operation validates everything first and mutates only after that, so a fault
never leaves half an operation behind (the batch and fault-injection runs rely on it).
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qbsync.sim import query as qlang
from qbsync.sim.clock import Clock
from qbsync.sim.company.balances import Balances
from qbsync.sim.company.model import (
    ACCOUNT_CLASSES,
    BY_LOWER,
    DEPOSIT_TYPES,
    ENTITIES,
    ITEM_TYPES,
    NAME_LISTS,
    PEOPLE,
    READ_ONLY_LISTS,
    SERVER_FIELDS,
    SINGLETONS,
    TXN_COMPUTED,
    TXNS,
    USD,
    ZERO,
    blank,
    check_len,
    date_field,
    dec,
    deep_merge,
    ref_id,
)
from qbsync.sim.faults import QBOError
from qbsync.sim.values import cents, to_decimal


class Company(Balances):
    # ------------------------------------------------------------ write entry points

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
                self._auto_apply_credit(obj)
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
            for line in obj.get("Line") or []:
                if "Amount" in line:
                    line["Amount"] = ZERO
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

    # ------------------------------------------------------------ builders

    def _build(
        self, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        builder = getattr(self, f"_build_{entity.lower()}", None)
        if builder is None:
            return obj
        result: dict[str, Any] = builder(obj, existing)
        return result

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
            for oid, other in self.data[ent].items():
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
        obj["CurrencyRef"] = obj.get("CurrencyRef") or (existing or {}).get("CurrencyRef") or USD
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

    # ------------------------------------------------------------ sales documents

    def _doc_number(
        self, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> None:
        num = obj.get("DocNumber")
        if blank(num):
            obj.pop("DocNumber", None)
            if existing is None and not self.pref("SalesFormsPrefs", "CustomTxnNumbers", False):
                obj["DocNumber"] = self._next_doc_number()
            return
        obj["DocNumber"] = str(num)
        check_len(obj, "DocNumber", 21)
        if self.pref("SalesFormsPrefs", "CustomTxnNumbers", False) and self.pref(
            "SalesFormsPrefs", "WarnDuplicateDocNum", True
        ):
            for ent in ("Invoice", "CreditMemo"):
                for other in self.data[ent].values():
                    if existing is not None and other["Id"] == existing["Id"]:
                        continue
                    if other.get("DocNumber") == obj["DocNumber"]:
                        kind = "Credit Memo" if ent == "CreditMemo" else ent
                        raise QBOError(
                            "6140",
                            element="DocNumber",
                            detail=f"DocNumber={obj['DocNumber']} is assigned to TxnType={kind} with TxnId={other['Id']}",  # noqa: E501
                        )

    def _next_doc_number(self) -> str:
        # QBO continues from the highest number used on a sales form.
        return str(self.top_doc_number + 1)

    def _lines(self, obj: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
        raw = obj.get("Line")
        if not isinstance(raw, list) or not raw:
            raise QBOError("2020", element="Line")
        lines: list[dict[str, Any]] = []
        subtotal = taxable = ZERO
        for src in raw:
            if not isinstance(src, dict):
                raise QBOError("2010", element="Line")
            line = copy.deepcopy(src)
            kind = line.get("DetailType")
            if kind == "SubTotalLineDetail":
                continue  # the server appends its own
            if kind == "DescriptionOnly":
                line.pop("Amount", None)
                line["DescriptionLineDetail"] = line.get("DescriptionLineDetail") or {}
                lines.append(line)
                continue
            if kind != "SalesItemLineDetail":
                raise QBOError(
                    "2010",
                    element="Line.DetailType",
                    detail=f"Line DetailType {kind!r} is not supported here",
                )
            det = dict(line.get("SalesItemLineDetail") or {})
            item = self.ref(
                "Item", det.get("ItemRef"), "Line.SalesItemLineDetail.ItemRef", required=True
            )
            assert item is not None
            det["ItemRef"] = self._named_ref("Item", item)
            qty = to_decimal(det.get("Qty"))
            price = to_decimal(det.get("UnitPrice"))
            amount = to_decimal(line.get("Amount"))
            if amount is None:
                if qty is None or price is None:
                    raise QBOError("2020", element="Line.Amount")
                amount = qty * price
            if qty and price and cents(qty * price) != cents(amount):
                raise QBOError("6070", element="Line.Amount", detail=f"{amount}")
            amount = cents(amount)
            if qty is not None:
                det["Qty"] = qty
            else:
                det.pop("Qty", None)
            if price is not None:
                det["UnitPrice"] = price
            else:
                det.pop("UnitPrice", None)
            code = ref_id(det.get("TaxCodeRef")) or ("TAX" if item.get("Taxable") else "NON")
            if self.visible("TaxCode", code) is None:
                raise QBOError(
                    "2500",
                    element="Line.SalesItemLineDetail.TaxCodeRef",
                    detail=f"TaxCode assigned to this line does not exist. Id={code}",
                )
            det["TaxCodeRef"] = {"value": code}
            if not blank(det.get("ClassRef")):
                cls = self.ref("Class", det["ClassRef"], "Line.SalesItemLineDetail.ClassRef")
                assert cls is not None
                det["ClassRef"] = self._named_ref("Class", cls)
            else:
                det.pop("ClassRef", None)
            if blank(det.get("ServiceDate")):
                det.pop("ServiceDate", None)
            for k in ("TaxInclusiveAmt",):
                det.pop(k, None)
            line["SalesItemLineDetail"] = det
            line["Amount"] = amount
            line.pop("LinkedTxn", None)
            lines.append(line)
            subtotal += amount
            if self.data["TaxCode"][code].get("Taxable"):
                taxable += amount
        if not any(ln.get("DetailType") == "SalesItemLineDetail" for ln in lines):
            raise QBOError("2020", element="Line.SalesItemLineDetail")
        if len(lines) > 750:
            raise QBOError(
                "6000", element="Line", detail="A transaction can have at most 750 lines."
            )
        for n, line in enumerate(lines, start=1):
            line["Id"] = str(n)
            line["LineNum"] = n
        return lines, subtotal, taxable

    def _tax(self, obj: dict[str, Any], taxable: Decimal) -> dict[str, Any]:
        src = obj.get("TxnTaxDetail") or {}
        code_id = ref_id(src.get("TxnTaxCodeRef")) if isinstance(src, dict) else None
        if code_id is None or code_id in ("TAX", "NON"):
            return {"TotalTax": ZERO}
        code = self.ref("TaxCode", code_id, "TxnTaxDetail.TxnTaxCodeRef")
        assert code is not None
        lines = []
        total = ZERO
        for rd in (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []:
            rate = self.data["TaxRate"].get(ref_id(rd.get("TaxRateRef")) or "")
            if rate is None:
                continue
            pct = dec(rate.get("RateValue"))
            amt = cents(taxable * pct / 100)
            total += amt
            lines.append(
                {
                    "Amount": amt,
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "TaxRateRef": {"value": rate["Id"], "name": rate.get("Name", "")},
                        "PercentBased": True,
                        "TaxPercent": pct,
                        "NetAmountTaxable": taxable,
                    },
                }
            )
        return {
            "TxnTaxCodeRef": {"value": code["Id"], "name": code.get("Name", "")},
            "TotalTax": total,
            "TaxLine": lines,
        }

    def _build_sales_doc(
        self, entity: str, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        if existing is not None and existing.get("_voided") and entity == "Invoice":
            raise QBOError("6000", detail="A voided transaction can't be changed.")
        for k in TXN_COMPUTED:
            obj.pop(k, None)
        cust = self.ref(
            "Customer", obj.get("CustomerRef"), "CustomerRef", required=True, inactive_code="2500"
        )
        assert cust is not None
        obj["CustomerRef"] = self._named_ref("Customer", cust)
        lines, subtotal, taxable = self._lines(obj)
        tax = self._tax(obj, taxable)
        lines.append(
            {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
        obj["Line"] = lines
        obj["TxnTaxDetail"] = tax
        obj["TotalAmt"] = subtotal + tax["TotalTax"]
        self._doc_number(entity, obj, existing)
        check_len(obj, "PrivateNote", 4000)
        txn_date = date_field(obj, "TxnDate", self.clock.today())
        assert txn_date is not None
        for field, ent in (("ClassRef", "Class"), ("DepartmentRef", "Department")):
            self._optional_ref(obj, field, ent)
        if entity == "Invoice":
            self._optional_ref(obj, "SalesTermRef", "Term")
            due = date_field(obj, "DueDate", None)
            if due is None:
                obj["DueDate"] = self._due_date(obj, cust, txn_date).isoformat()
        # QBO fills the bill-to details from the customer when the request has none.
        email = (cust.get("PrimaryEmailAddr") or {}).get("Address")
        if blank(obj.get("BillEmail")) and email:
            obj["BillEmail"] = {"Address": email}
        if blank(obj.get("BillAddr")) and cust.get("BillAddr"):
            obj["BillAddr"] = copy.deepcopy(cust["BillAddr"])
        obj["ApplyTaxAfterDiscount"] = bool(obj.get("ApplyTaxAfterDiscount", False))
        if entity == "Invoice":
            obj["Deposit"] = dec(obj.get("Deposit"))
            for flag in (
                "AllowIPNPayment",
                "AllowOnlinePayment",
                "AllowOnlineCreditCardPayment",
                "AllowOnlineACHPayment",
            ):
                obj[flag] = bool(obj.get(flag, False))
        obj["CustomField"] = obj.get("CustomField") or []
        obj["CurrencyRef"] = obj.get("CurrencyRef") or USD
        obj["ExchangeRate"] = dec(obj.get("ExchangeRate"), Decimal(1)) or Decimal(1)
        for k in ("EmailStatus", "PrintStatus"):
            obj[k] = obj.get(k) or "NotSet"
        for k in ("ShipDate",):
            if blank(obj.get(k)):
                obj.pop(k, None)
        applied = self.applied(entity, existing["Id"]) if existing is not None else ZERO
        if applied and ref_id(existing.get("CustomerRef") if existing else None) != cust["Id"]:
            raise QBOError(
                "6000",
                element="CustomerRef",
                detail="The customer can't be changed while payments are applied to this transaction.",  # noqa: E501
            )
        if obj["TotalAmt"] < applied:
            raise QBOError(
                "6000",
                detail=f"The new total {obj['TotalAmt']} is less than the {applied} already applied to this transaction.",  # noqa: E501
            )
        self._derive_open(entity, obj, existing["Id"] if existing is not None else None)
        return obj

    def _due_date(self, obj: dict[str, Any], cust: dict[str, Any], txn_date: date) -> date:
        term_id = ref_id(obj.get("SalesTermRef")) or ref_id(cust.get("SalesTermRef"))
        if term_id is None:
            term_id = ref_id(self.pref("SalesFormsPrefs", "DefaultTerms"))
        term = self.data["Term"].get(term_id or "")
        if term is None:
            return txn_date
        if term.get("Type") == "DATE_DRIVEN" and term.get("DayOfMonthDue"):
            day = int(term["DayOfMonthDue"])
            y, m = txn_date.year, txn_date.month
            if txn_date.day >= day:
                m += 1
                if m > 12:
                    y, m = y + 1, 1
            for d in range(day, 0, -1):
                try:
                    return date(y, m, d)
                except ValueError:
                    continue
        return txn_date + timedelta(days=int(term.get("DueDays") or 0))

    def _build_invoice(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        return self._build_sales_doc("Invoice", obj, existing)

    def _build_creditmemo(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        for k in ("DueDate", "SalesTermRef"):
            obj.pop(k, None)
        return self._build_sales_doc("CreditMemo", obj, existing)

    # ------------------------------------------------------------ payments

    def _build_payment(
        self, obj: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        if existing is not None and existing.get("_deposited"):
            raise QBOError("6540")
        cust = self.ref(
            "Customer", obj.get("CustomerRef"), "CustomerRef", required=True, inactive_code="2500"
        )
        assert cust is not None
        obj["CustomerRef"] = self._named_ref("Customer", cust)
        total = to_decimal(obj.get("TotalAmt"))
        if total is None:
            raise QBOError("2020", element="TotalAmt")
        if total < 0:
            raise QBOError(
                "6000", element="TotalAmt", detail="The payment amount can't be negative."
            )
        total = cents(total)
        obj["TotalAmt"] = total
        pid = existing["Id"] if existing is not None else None
        lines: list[dict[str, Any]] = []
        inv_sum = cm_sum = ZERO
        for src in obj.get("Line") or []:
            amount = to_decimal(src.get("Amount"))
            if amount is None:
                raise QBOError("2020", element="Line.Amount")
            amount = cents(amount)
            linked = src.get("LinkedTxn") or []
            if isinstance(linked, dict):
                linked = [linked]
            if len(linked) != 1:
                raise QBOError("2020", element="Line.LinkedTxn")
            lt = linked[0]
            ttype, tid = str(lt.get("TxnType")), str(lt.get("TxnId"))
            if ttype not in ("Invoice", "CreditMemo"):
                raise QBOError(
                    "2010",
                    element="Line.LinkedTxn.TxnType",
                    detail=f"TxnType {ttype} can't be paid here",
                )
            if amount < 0:
                raise QBOError(
                    "6000", element="Line.Amount", detail="A payment line amount can't be negative."
                )
            doc = self.visible(ttype, tid)
            if doc is None:
                raise QBOError(
                    "2500",
                    element="Line.LinkedTxn.TxnId",
                    detail=f"{ttype} Id={tid} does not exist.",
                )
            if ref_id(doc.get("CustomerRef")) != cust["Id"]:
                raise QBOError(
                    "6000",
                    element="Line.LinkedTxn",
                    detail=f"{ttype} {tid} belongs to another customer.",
                )
            open_amt = dec(doc.get("TotalAmt")) - self.applied(ttype, tid, exclude=pid)
            if amount > open_amt:
                raise QBOError(
                    "6000",
                    element="Line.Amount",
                    detail=f"The amount {amount} applied to {ttype} {tid} exceeds its open balance {open_amt}.",  # noqa: E501
                )
            if amount == 0:
                continue
            lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": tid, "TxnType": ttype}]})
            if ttype == "Invoice":
                inv_sum += amount
            else:
                cm_sum += amount
        if cm_sum > inv_sum:
            raise QBOError(
                "6000", detail="Credits can only be applied to invoices in the same payment."
            )
        if inv_sum - cm_sum > total:
            raise QBOError(
                "6000",
                detail=f"The amount applied {inv_sum - cm_sum} exceeds the payment total {total}.",
            )
        obj["Line"] = lines
        obj["UnappliedAmt"] = total - (inv_sum - cm_sum)
        obj.pop("LinkedTxn", None)
        date_field(obj, "TxnDate", self.clock.today())
        check_len(obj, "PaymentRefNum", 21)
        check_len(obj, "PrivateNote", 4000)
        self._optional_ref(obj, "PaymentMethodRef", "PaymentMethod")
        if blank(obj.get("DepositToAccountRef")):
            undeposited = self.find_by_name("Account", "Undeposited Funds")
            if undeposited is not None:
                obj["DepositToAccountRef"] = {"value": undeposited["Id"]}
        else:
            acct = self.ref("Account", obj["DepositToAccountRef"], "DepositToAccountRef")
            assert acct is not None
            if acct.get("AccountType") not in DEPOSIT_TYPES:
                raise QBOError(
                    "6000",
                    element="DepositToAccountRef",
                    detail="Payments can only be deposited to a Bank or Other Current Asset account.",  # noqa: E501
                )
            obj["DepositToAccountRef"] = {"value": acct["Id"]}
        obj["CurrencyRef"] = obj.get("CurrencyRef") or USD
        obj["ProcessPayment"] = bool(obj.get("ProcessPayment", False))
        return obj

    def deposit(self, payment_id: str, account_id: str) -> dict[str, Any]:
        """A user puts an undeposited payment into a bank deposit: from then on QBO refuses to
        change, void or delete the payment (6540). The Deposit itself is not modelled."""
        pay = self.read("Payment", payment_id)
        acct = self.ref("Account", {"value": account_id}, "DepositToAccountRef")
        assert acct is not None
        if acct.get("AccountType") != "Bank":
            raise QBOError("6000", detail="Deposits go to a Bank account.")
        new = dict(pay)
        new["_deposited"] = True
        new["LinkedTxn"] = [{"TxnId": f"D{payment_id}", "TxnType": "Deposit"}]
        self._touch(new)
        self._put("Payment", new)
        return new

    def _auto_apply_credit(self, invoice: dict[str, Any]) -> None:
        """With AutoApplyCredit on, QBO spends a customer's open credit memos on a new invoice."""
        if not self.pref("SalesFormsPrefs", "AutoApplyCredit", True):
            return
        cid = ref_id(invoice.get("CustomerRef"))
        need = dec(invoice.get("Balance"))
        if need <= 0:
            return
        memos = self.data["CreditMemo"]
        credits = sorted(
            # A credit memo created earlier in the running batch is not visible to this item.
            (
                memos[m]
                for m in self.open_credit.get(cid or "", ())
                if m in memos and ("CreditMemo", m) not in self.hidden
            ),
            key=lambda cm: (cm.get("TxnDate", ""), int(cm["Id"])),
        )
        lines: list[dict[str, Any]] = []
        used = ZERO
        for cm in credits:
            if used >= need:
                break
            take = min(dec(cm.get("RemainingCredit")), need - used)
            used += take
            lines.append(
                {"Amount": take, "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}
            )
        if used == 0:
            return
        lines.insert(
            0, {"Amount": used, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
        )
        self.create(
            "Payment",
            {"CustomerRef": {"value": cid}, "TotalAmt": 0, "Line": lines},
        )

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
