"""A sales document's tax: its tax mode, each line's tax code, the discount line, and the
totals (TxnTaxDetail, subtotal, TotalAmt) as QuickBooks computes them, with tax.py's
arithmetic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync.sim.company.currency import Currencies
from qbsync.sim.company.model import ZERO, blank, dec, ref_id
from qbsync.sim.company.tax import Rate, allocate, ast_rate_names, tax_exclusive, tax_inclusive
from qbsync.sim.faults import QBOError
from qbsync.sim.values import cents, to_decimal


class DocumentTax(Currencies):
    """Tax codes, discounts and totals for invoices and credit memos."""

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
                    ),
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
