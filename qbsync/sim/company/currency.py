"""A document's currency: the home currency, the customer's currency, and the exchange rate
QuickBooks fills in when a client sends none.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync.sim.company.balances import Balances
from qbsync.sim.company.model import ref_id
from qbsync.sim.faults import QBOError
from qbsync.sim.values import to_decimal

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
}
# Home-currency units per unit of foreign currency, what QuickBooks' daily rate feed would give
# for a document that sends no ExchangeRate. Fixed, so tests can compute home amounts by hand.
EXCHANGE_RATES = {
    ("EUR", "USD"): Decimal("1.0850"),
    ("GBP", "USD"): Decimal("1.2700"),
    ("CAD", "USD"): Decimal("0.7400"),
    ("USD", "CAD"): Decimal("1.3500"),
    ("USD", "GBP"): Decimal("0.7900"),
    ("EUR", "GBP"): Decimal("0.8550"),
}


def currency_ref(code: str) -> dict[str, str]:
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


class Currencies(Balances):
    """`home_currency` and `_currency` for documents and payments."""

    @property
    def home_currency(self) -> str:
        return ref_id(self.pref("CurrencyPrefs", "HomeCurrency")) or "USD"

    def _currency(self, obj: dict[str, Any], cust: dict[str, Any], home_rate: bool = True) -> None:
        """Set CurrencyRef and ExchangeRate, refusing a currency the company cannot take.

        The error codes are modelled: QuickBooks answers both cases with a business
        validation error (6000); the exact wording is not documented."""
        home = self.home_currency
        cust_cur = ref_id(cust.get("CurrencyRef")) or home
        sent = ref_id(obj.get("CurrencyRef"))
        cur = sent or cust_cur
        multi = bool(self.pref("CurrencyPrefs", "MultiCurrencyEnabled", False))
        if cur != home and not multi:
            raise QBOError(
                "6000",
                element="CurrencyRef",
                detail=f"Multicurrency is off: the transaction must be in the home currency {home}, not {cur}.",  # noqa: E501
            )
        if cur != cust_cur:
            raise QBOError(
                "6000",
                element="CurrencyRef",
                detail=f"The transaction currency {cur} must match the customer's currency {cust_cur}.",  # noqa: E501
            )
        obj["CurrencyRef"] = currency_ref(cur)
        if cur == home:
            if home_rate or multi:
                obj["ExchangeRate"] = Decimal(1)
            else:
                obj.pop("ExchangeRate", None)
            return
        rate = to_decimal(obj.get("ExchangeRate"))
        if rate is None:
            rate = EXCHANGE_RATES.get((cur, home))
            if rate is None:
                raise QBOError("2020", element="ExchangeRate")
        if rate <= 0:
            raise QBOError("6000", element="ExchangeRate", detail="ExchangeRate must be positive.")
        obj["ExchangeRate"] = rate
