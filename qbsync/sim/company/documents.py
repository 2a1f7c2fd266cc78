"""Invoices and credit memos built from a request: lines, tax, totals, document numbers, due
dates, and the balance left after what payments apply to them.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qbsync.sim.company.currency import Currencies
from qbsync.sim.company.model import (
    TXN_COMPUTED,
    ZERO,
    blank,
    check_len,
    date_field,
    dec,
    ref_id,
)
from qbsync.sim.company.tax import Rate, allocate, ast_rate_names, tax_exclusive, tax_inclusive
from qbsync.sim.faults import QBOError
from qbsync.sim.values import cents, to_decimal


class SalesDocuments(Currencies):
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

    def _tax_mode(self, obj: dict[str, Any]) -> str:
        """`US`, or for any other company its GlobalTaxCalculation (TaxExcluded when none is
        sent: the simulator's default, QuickBooks' own is not documented)."""
        if self.country == "US":
            obj.pop("GlobalTaxCalculation", None)
            return "US"
        mode = obj.get("GlobalTaxCalculation") or "TaxExcluded"
        if mode not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
            raise QBOError(
                "2010",
                element="GlobalTaxCalculation",
                detail=f"GlobalTaxCalculation {mode!r} is not one of TaxExcluded, TaxInclusive, NotApplicable",  # noqa: E501
            )
        obj["GlobalTaxCalculation"] = mode
        return str(mode)

    def _line_tax_code(self, sent: str | None, item: dict[str, Any], mode: str) -> str | None:
        element = "Line.SalesItemLineDetail.TaxCodeRef"
        code: str | None
        if mode == "US":
            code = sent or ("TAX" if item.get("Taxable") else "NON")
            if code not in ("TAX", "NON") and self.visible("TaxCode", code) is not None:
                # A US line carries the pseudo-code TAX or NON; the real code goes in
                # TxnTaxDetail.TxnTaxCodeRef. The error code for a real one on a line is not
                # documented: modelled as an invalid reference (2500).
                raise QBOError(
                    "2500",
                    element=element,
                    detail=f"TaxCode Id={code} can't be used on a line in a US company: use TAX or NON.",  # noqa: E501
                )
        else:
            code = sent
            if code is None:
                if mode == "NotApplicable":
                    return None
                # What QuickBooks answers a VAT/GST company whose line has no tax code.
                kind = "GST/HST" if self.country == "CA" else "VAT"
                raise QBOError(
                    "6000",
                    element=element,
                    detail=f"Make sure all your transactions have a {kind} rate before you save.",
                )
        if self.visible("TaxCode", code) is None:
            # Also what a non-US company answers to TAX or NON: it has no such codes.
            raise QBOError(
                "2500",
                element=element,
                detail=f"TaxCode assigned to this line does not exist. Id={code}",
            )
        return code

    def _discount_line(self, line: dict[str, Any]) -> dict[str, Any]:
        det = dict(line.get("DiscountLineDetail") or {})
        element = "Line.DiscountLineDetail"
        if det.get("PercentBased"):
            pct = to_decimal(det.get("DiscountPercent"))
            if pct is None:
                raise QBOError("2020", element=f"{element}.DiscountPercent")
            if not ZERO <= pct <= 100:
                raise QBOError(
                    "6000", element=f"{element}.DiscountPercent", detail=f"{pct} is not 0-100"
                )
            det["PercentBased"] = True
            det["DiscountPercent"] = pct
        else:
            amount = to_decimal(line.get("Amount"))
            if amount is None:
                raise QBOError("2020", element="Line.Amount")
            if amount < 0:
                raise QBOError(
                    "6000", element="Line.Amount", detail="A discount can't be negative."
                )
            det["PercentBased"] = False
            det.pop("DiscountPercent", None)
            line["Amount"] = cents(amount)
        if blank(det.get("DiscountAccountRef")):
            acct = next(
                (
                    a
                    for a in self.data["Account"].values()
                    if a.get("AccountSubType") == "DiscountsRefundsGiven"
                ),
                None,
            )
            if acct is None:
                raise QBOError("2020", element=f"{element}.DiscountAccountRef")
        else:
            acct = self.ref("Account", det["DiscountAccountRef"], f"{element}.DiscountAccountRef")
            assert acct is not None
        det["DiscountAccountRef"] = self._named_ref("Account", acct)
        line["DiscountLineDetail"] = det
        line.pop("LinkedTxn", None)
        return line

    def _lines(
        self, obj: dict[str, Any], mode: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str | None, Decimal]]]:
        """The document's lines, and per sales line its tax code and its base: the amount, or
        under TaxInclusive the gross (TaxInclusiveAmt when sent, else the amount)."""
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
                base = cents(gross) if gross is not None else amount
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

    def _rates(self, code_id: str) -> list[Rate]:
        code = self.data["TaxCode"].get(code_id) or {}
        out = []
        for rd in (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []:
            rate = self.data["TaxRate"].get(ref_id(rd.get("TaxRateRef")) or "")
            if rate is not None:
                out.append(Rate(rate["Id"], rate.get("Name", ""), dec(rate.get("RateValue"))))
        return out

    def _us_tax_code(self, obj: dict[str, Any], cust: dict[str, Any]) -> dict[str, Any] | None:
        """The code whose rates tax the TAX lines: under automated sales tax the one for the
        address (whatever was sent), otherwise TxnTaxDetail.TxnTaxCodeRef."""
        src = obj.get("TxnTaxDetail") or {}
        if self.pref("TaxPrefs", "PartnerTaxEnabled", False):
            addr = obj.get("ShipAddr") or obj.get("BillAddr") or cust.get("BillAddr") or {}
            names = ast_rate_names(
                str(addr.get("CountrySubDivisionCode") or ""), str(addr.get("City") or "")
            )
            if not names:
                return None
            key = " + ".join(names)
            return next((c for c in self.data["TaxCode"].values() if c.get("Name") == key), None)
        code_id = ref_id(src.get("TxnTaxCodeRef")) if isinstance(src, dict) else None
        if code_id is None or code_id in ("TAX", "NON"):
            return None
        return self.ref("TaxCode", code_id, "TxnTaxDetail.TxnTaxCodeRef")

    def _totals(
        self,
        obj: dict[str, Any],
        cust: dict[str, Any],
        mode: str,
        lines: list[dict[str, Any]],
        sales: list[tuple[dict[str, Any], str | None, Decimal]],
        existing: dict[str, Any] | None,
    ) -> tuple[Decimal, dict[str, Any], Decimal]:
        """Subtotal, TxnTaxDetail and TotalAmt. A discount comes off before tax, spread over
        the tax codes (see tax.py)."""
        us_code = self._us_tax_code(obj, cust) if mode == "US" else None
        rates: dict[str, list[Rate]] = {}
        bases: dict[str, Decimal] = {}
        for _line, code, base in sales:
            key = code or ""
            bases[key] = bases.get(key, ZERO) + base
            if key not in rates:
                if mode == "US":
                    taxable = key == "TAX" and us_code is not None
                    rates[key] = self._rates(us_code["Id"]) if taxable and us_code else []
                elif mode == "NotApplicable" or not key:
                    rates[key] = []
                else:
                    rates[key] = self._rates(key)
        gross_total = sum(bases.values(), ZERO)
        discount = ZERO
        for line in lines:
            if line.get("DetailType") == "DiscountLineDetail":
                det = line["DiscountLineDetail"]
                if det.get("PercentBased"):
                    line["Amount"] = cents(gross_total * det["DiscountPercent"] / 100)
                discount = line["Amount"]
        if discount > gross_total:
            raise QBOError(
                "6000", element="Line.Amount", detail="The discount is more than the subtotal."
            )
        keys = list(bases)
        after = {
            k: bases[k] - part
            for k, part in zip(keys, allocate(discount, [bases[k] for k in keys]), strict=True)
        }
        if mode == "TaxInclusive":
            _, per_rate = tax_inclusive(after, rates)
            net_before, _ = tax_inclusive(bases, rates)
            for key in keys:
                group = [ln for ln, code, _b in sales if (code or "") == key]
                for ln, part in zip(
                    group,
                    allocate(
                        net_before[key],
                        [ln["SalesItemLineDetail"]["TaxInclusiveAmt"] for ln in group],
                    ),  # noqa: E501
                    strict=True,
                ):
                    ln["Amount"] = part
            subtotal = sum((ln["Amount"] for ln, _c, _b in sales), ZERO)
            total_tax = sum((r.tax for r in per_rate), ZERO)
            total = gross_total - discount
        else:
            subtotal = gross_total
            per_rate = tax_exclusive(after, rates)
            total_tax = sum((r.tax for r in per_rate), ZERO)
            total = None
        detail: dict[str, Any] = {}
        if us_code is not None:
            detail["TxnTaxCodeRef"] = {"value": us_code["Id"], "name": us_code.get("Name", "")}
        tax_lines: list[dict[str, Any]] = [
            {
                "Amount": r.tax,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": r.rate.id, "name": r.rate.name},
                    "PercentBased": True,
                    "TaxPercent": r.rate.percent,
                    "NetAmountTaxable": r.net,
                },
            }
            for r in per_rate
        ]
        sent = obj.get("TxnTaxDetail") or {}
        sent_tax = to_decimal(sent.get("TotalTax")) if isinstance(sent, dict) else None
        manual_us = mode == "US" and not self.pref("TaxPrefs", "PartnerTaxEnabled", False)
        obj.pop("_tax_override", None)
        if manual_us and us_code is not None and sent_tax is not None:
            sent_tax = cents(sent_tax)
            echoed = (
                existing is not None
                and not existing.get("_tax_override")
                and dec((existing.get("TxnTaxDetail") or {}).get("TotalTax")) == sent_tax
            )
            if sent_tax != total_tax and not echoed:
                # Manual US sales tax: QuickBooks keeps a TotalTax the client sends with the
                # tax code (Intuit's answer on the developer forum: send TxnTaxCodeRef and
                # TotalTax, no TaxLine); TaxLineDetail.OverrideDeltaAmount holds the
                # difference from the computed tax (Intuit's .NET SDK reference).
                if tax_lines:
                    tax_lines[-1]["TaxLineDetail"]["OverrideDeltaAmount"] = sent_tax - total_tax
                total_tax = sent_tax
                obj["_tax_override"] = True
        detail["TotalTax"] = total_tax
        if tax_lines or us_code is not None:
            detail["TaxLine"] = tax_lines
        if total is None:
            total = subtotal - discount + total_tax
        return subtotal, detail, total

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
