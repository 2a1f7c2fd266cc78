"""Payments: one built from a request (what it applies to invoices and credit memos, what is
left unapplied, where it is deposited), a user's bank deposit, and the credit QBO applies by
itself to a new invoice.
"""

from __future__ import annotations

from typing import Any

from qbsync.sim.company.currency import Currencies
from qbsync.sim.company.model import (
    DEPOSIT_TYPES,
    ZERO,
    blank,
    check_len,
    date_field,
    dec,
    ref_id,
)
from qbsync.sim.faults import QBOError
from qbsync.sim.values import cents, to_decimal


class Payments(Currencies):
    """`_build_payment`, deposits and automatically applied credit."""

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
        # A foreign-currency payment carries its ExchangeRate; the invoices it pays keep their
        # Balance in their own currency (the customer's, which the payment must match).
        self._currency(obj, cust, home_rate=False)
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

    def _auto_credit_payment(self, invoice: dict[str, Any]) -> dict[str, Any] | None:
        """With AutoApplyCredit on, QBO spends a customer's open credit memos on a new invoice:
        the payment that records it, or None when there is no credit to spend."""
        if not self.pref("SalesFormsPrefs", "AutoApplyCredit", True):
            return None
        cid = ref_id(invoice.get("CustomerRef"))
        need = dec(invoice.get("Balance"))
        if need <= 0:
            return None
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
            return None
        lines.insert(
            0, {"Amount": used, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
        )
        return {"CustomerRef": {"value": cid}, "TotalAmt": 0, "Line": lines}
