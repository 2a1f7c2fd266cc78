"""Invoices and credit memos built from a request: lines, tax, totals, document numbers, due
dates, and the balance left after what payments apply to them.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qbsync.sim.company.model import (
    TXN_COMPUTED,
    ZERO,
    blank,
    check_len,
    date_field,
    dec,
    ref_id,
)
from qbsync.sim.company.taxing import DocumentTax
from qbsync.sim.faults import QBOError
from qbsync.sim.values import cents, to_decimal


class SalesDocuments(DocumentTax):
    """`_build_<entity>` for invoices and credit memos."""

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
                for other in self.data[ent].with_doc_number(obj["DocNumber"]):
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

    def _gross(self, amount: Decimal, sent: Decimal | None, code: str | None) -> Decimal:
        """A TaxInclusive line's gross. QuickBooks reads the line's `Amount` as net of tax
        even under TaxInclusive (docs/qbo-tax.md, "Tax-inclusive lines": a gross sent in
        `Amount` gets the tax added on top); the gross is the net plus its tax at the code's
        rates, each half-up. A `TaxInclusiveAmt` that agrees with that to within a cent per rate
        (the rounding between the two directions) fixes the gross exactly, so that an inclusive
        price comes out as priced. One that does not is ignored: the net governs (modelled;
        Intuit does not document which field wins)."""
        rates = self._rates(code) if code else []
        from_net = amount + sum((cents(amount * r.percent / 100) for r in rates), ZERO)
        if sent is not None and abs(cents(sent) - from_net) <= Decimal("0.01") * max(1, len(rates)):
            return cents(sent)
        return from_net

    def _lines(
        self, obj: dict[str, Any], mode: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str | None, Decimal]]]:
        """The document's lines, and per sales line its tax code and its base: the amount, or
        under TaxInclusive the gross (see `_gross`)."""
        raw = obj.get("Line")
        if not isinstance(raw, list) or not raw:
            raise QBOError("2020", element="Line")
        lines: list[dict[str, Any]] = []
        sales: list[tuple[dict[str, Any], str | None, Decimal]] = []
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
            if kind == "DiscountLineDetail":
                if any(ln.get("DetailType") == kind for ln in lines):
                    raise QBOError(
                        "6000", element="Line", detail="A transaction can have one discount line."
                    )
                lines.append(self._discount_line(line))
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
            code = self._line_tax_code(ref_id(det.get("TaxCodeRef")), item, mode)
            if code is not None:
                det["TaxCodeRef"] = {"value": code}
            else:
                det.pop("TaxCodeRef", None)
            if not blank(det.get("ClassRef")):
                cls = self.ref("Class", det["ClassRef"], "Line.SalesItemLineDetail.ClassRef")
                assert cls is not None
                det["ClassRef"] = self._named_ref("Class", cls)
            else:
                det.pop("ClassRef", None)
            if blank(det.get("ServiceDate")):
                det.pop("ServiceDate", None)
            base = amount
            gross = to_decimal(det.pop("TaxInclusiveAmt", None))
            if mode == "TaxInclusive":
                base = self._gross(amount, gross, code)
                det["TaxInclusiveAmt"] = base
            line["SalesItemLineDetail"] = det
            line["Amount"] = amount
            line.pop("LinkedTxn", None)
            lines.append(line)
            sales.append((line, code, base))
        if not sales:
            raise QBOError("2020", element="Line.SalesItemLineDetail")
        if len(lines) > 750:
            raise QBOError(
                "6000", element="Line", detail="A transaction can have at most 750 lines."
            )
        for n, line in enumerate(lines, start=1):
            line["Id"] = str(n)
            line["LineNum"] = n
        return lines, sales

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
        mode = self._tax_mode(obj)
        lines, sales = self._lines(obj, mode)
        subtotal, tax, total = self._totals(obj, cust, mode, lines, sales, existing)
        # QuickBooks puts the subtotal before the discount line.
        at = next(
            (n for n, ln in enumerate(lines) if ln.get("DetailType") == "DiscountLineDetail"),
            len(lines),
        )
        lines.insert(
            at, {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
        obj["Line"] = lines
        obj["TxnTaxDetail"] = tax
        obj["TotalAmt"] = total
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
        self._currency(obj, cust)
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
        if obj["CurrencyRef"]["value"] != self.home_currency:
            obj["HomeTotalAmt"] = cents(obj["TotalAmt"] * obj["ExchangeRate"])
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
