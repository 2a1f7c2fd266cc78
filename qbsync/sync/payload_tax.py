"""The tax, discount and currency parts of an Invoice or CreditMemo body.

- US company, manual sales tax: each line is `TAX` or `NON` (taxed or not); the transaction's
  tax code goes in `TxnTaxDetail.TxnTaxCodeRef` and, when the ledger knows its tax (rates or the
  billing system's figures), that tax in `TxnTaxDetail.TotalTax`, which QuickBooks keeps.
  Under automated sales tax QuickBooks picks the rates and any sent figure is ignored: nothing
  is sent.
- Any other company: each line carries its mapped TaxCode id, and `GlobalTaxCalculation` is
  `TaxExcluded` or `TaxInclusive` as the invoice's `amounts` say. An inclusive line sends its
  net (the price less the tax it holds) in `Amount`, the gross in
  `SalesItemLineDetail.TaxInclusiveAmt`, and a net `UnitPrice`: QuickBooks reads a line's
  `Amount` as net of tax even under `TaxInclusive`, and holds tax-inclusive documents so
  (sources in docs/qbo-tax.md, "Tax-inclusive lines").
- Discounts: QuickBooks takes one `DiscountLineDetail` per document, taken before tax. One
  discount line goes as it is (a percent or an amount); several go as one amount, their sum.
  A discount the ledger takes after tax (`taxable: false`) cannot be expressed outside manual US
  tax (where the sent `TotalTax` holds the ledger's tax) and is refused. The discount account
  is the company's `accounts discount` mapping, sent as `DiscountAccountRef`; without one none
  is sent, and QuickBooks books the discount to its default discount account (sub-type
  DiscountsRefundsGiven).
- Currency: `CurrencyRef` for a foreign document, and `ExchangeRate` when the invoice has one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from qbsync.ledger import queries
from qbsync.mappings.store import lookup as mapping_lookup
from qbsync.money import cents, dec, to_json_number
from qbsync.store.database import Database
from qbsync.sync.exceptions import Kind

if TYPE_CHECKING:
    from qbsync.sync.payloads import CompanyFacts

US_NAMES = ("US", "USA", "UNITED STATES")
UNIT_PRICE_PLACES = Decimal("0.0000001")  # QuickBooks keeps a derived unit price to 7 places


def is_us(facts: CompanyFacts) -> bool:
    return facts.country.upper() in US_NAMES


def _error(message: str, hint: str | None = None) -> Exception:
    from qbsync.sync.payloads import PayloadError

    return PayloadError(Kind.EXPORT_FAILING, message, hint)


def ledger_knows_tax(db: Database, company: str, inv: dict[str, Any]) -> bool:
    """Whether the ledger holds the document's tax (from rates or the billing system's figures),
    rather than leaving it to QuickBooks."""
    if inv.get("tax_total") is not None:
        return True
    return bool(queries.invoice_taxes(db, company, str(inv["id"])))


def inclusive_amounts(line: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal | None]:
    """An inclusive line's (net Amount, gross TaxInclusiveAmt, net unit price or None).

    The gross is the line's amount as the billing system priced it. The ledger's line tax is
    the tax its gross holds after the line's share of the discount, so the same fraction of the
    undiscounted gross is its tax: net = gross - gross x tax / (gross - discount), half-up
    (without a discount, exactly gross - tax). The unit price is net / quantity to 7 places,
    so that quantity x unit price rounds to the net."""
    gross = cents(line["amount"])
    after = gross - cents(line.get("discount") or 0)
    tax = cents(line.get("tax") or 0)
    net = gross if tax == 0 or after == 0 else gross - cents(gross * tax / after)
    quantity = dec(line.get("quantity") or 0)
    unit = None if quantity == 0 else (net / quantity).quantize(UNIT_PRICE_PLACES)
    return net, gross, unit


def discount_line(
    db: Database, company: str, facts: CompanyFacts, inv: dict[str, Any]
) -> dict[str, Any] | None:
    """The document's one DiscountLineDetail line (None: no discount)."""
    rows = queries.invoice_discounts(db, company, str(inv["id"]))
    if not rows:
        return None
    manual_us = is_us(facts) and not facts.automated_sales_tax
    after_tax = [r for r in rows if not r["taxable"]]
    if after_tax and not manual_us:
        raise _error(
            f"invoice {inv['number']}: discount {after_tax[0]['description'] or ''!r} is taken "
            "after tax (taxable: false), which QuickBooks cannot do in this company",
            "issue the discount before tax (taxable: true) or as a separate credit note",
        )
    detail: dict[str, Any] = {}
    line: dict[str, Any] = {"DetailType": "DiscountLineDetail"}
    if len(rows) == 1 and rows[0]["percent"] is not None:
        detail["PercentBased"] = True
        detail["DiscountPercent"] = to_json_number(dec(rows[0]["percent"]))
    else:
        detail["PercentBased"] = False
    account = mapping_lookup(db, company, "accounts", "discount")
    if account is not None:
        detail["DiscountAccountRef"] = {"value": account}
    line["Amount"] = to_json_number(cents(sum((dec(r["discount"]) for r in rows), Decimal(0))))
    line["DiscountLineDetail"] = detail
    descriptions = [str(r["description"]) for r in rows if r["description"]]
    if descriptions:
        line["Description"] = "; ".join(descriptions)[:4000]
    return line


def tax_and_currency(
    db: Database,
    company: str,
    facts: CompanyFacts,
    inv: dict[str, Any],
    body: dict[str, Any],
    txn_tax_code: str | None,
) -> None:
    """Add the document-level tax fields and the exchange rate to `body`."""
    if is_us(facts):
        if txn_tax_code and not facts.automated_sales_tax:
            detail: dict[str, Any] = {"TxnTaxCodeRef": {"value": txn_tax_code}}
            if ledger_knows_tax(db, company, inv):
                detail["TotalTax"] = to_json_number(cents(inv["tax"]))
            body["TxnTaxDetail"] = detail
    else:
        inclusive = inv.get("amounts") == "inclusive"
        body["GlobalTaxCalculation"] = "TaxInclusive" if inclusive else "TaxExcluded"
    if "CurrencyRef" in body and inv.get("exchange_rate") is not None:
        body["ExchangeRate"] = to_json_number(dec(inv["exchange_rate"]))
