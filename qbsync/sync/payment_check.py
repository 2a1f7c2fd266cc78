"""A payment qbsync pushed, checked to the cent against the ledger: right after the push, and
whenever QuickBooks hands back a new version of it.

QuickBooks keeps a payment's amount (`TotalAmt`) and, in a multi-currency company, the rate it
books it at (`ExchangeRate`): what it came to in the home currency is the amount at that rate,
rounded to the cent. The ledger keeps the amount and, when the billing system gave one, the
home amount. Either figure differing raises `payment_mismatch` naming both; it closes by itself
when a later version of the payment agrees.
"""

from __future__ import annotations

from typing import Any

from qbsync.money import cents, dec
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions


def differences(pay: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    """What differs between the ledger's payment and QuickBooks', in words with both figures."""
    found = []
    amount, booked = cents(pay["amount"]), cents(doc.get("TotalAmt"))
    if amount != booked:
        found.append(f"amount {amount} in the ledger, {booked} in QuickBooks")
    if pay.get("home_amount") is not None:
        # No ExchangeRate: a company in one currency, where the home amount is the amount.
        rate = dec(doc.get("ExchangeRate") or 1)
        home, ledger_home = cents(dec(doc.get("TotalAmt")) * rate), cents(pay["home_amount"])
        if home != ledger_home:
            found.append(
                f"home amount {ledger_home} in the ledger, {home} in QuickBooks "
                f"({booked} at its exchange rate {rate})"
            )
    return found


def check_payment(
    ctx: CycleContext, payment_id: str, pay: dict[str, Any], doc: dict[str, Any]
) -> None:
    """Raise (or refresh) payment_mismatch for a difference; close it when there is none."""
    found = differences(pay, doc)
    if not found:
        close_exceptions(ctx.db, ctx.company, [Kind.PAYMENT_MISMATCH], "payment", payment_id)
        return
    qbo_id = str(doc["Id"])
    ctx.raise_exception(
        Kind.PAYMENT_MISMATCH,
        "payment",
        payment_id,
        label=f"payment {payment_id}",
        qbo_entity="Payment",
        qbo_id=qbo_id,
        message=f"payment {payment_id}: " + "; ".join(found),
        hint="correct the payment in QuickBooks (its exchange rate, for a home amount): "
        f"{ctx.qbo_url('Payment', qbo_id)}; this closes by itself once they agree. "
        "If the ledger's figure is the wrong one, dismiss it",
    )
