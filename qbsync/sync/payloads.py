"""QuickBooks request bodies built from ledger documents and the company's mappings.

A document that cannot be built (a missing mapping, a number too long for QuickBooks) raises
PayloadError naming what to fix; it never reaches QuickBooks half-formed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync.config import CompanySettings
from qbsync.ledger import lookup
from qbsync.mappings.store import lookup as mapping_lookup
from qbsync.money import cents, dec, text, to_json_number
from qbsync.store.database import Database
from qbsync.sync.exceptions import Kind
from qbsync.sync.payload_tax import discount_line, inclusive_amounts, is_us, tax_and_currency

DOC_NUMBER_MAX = 21
US_PSEUDO_CODES = {"TAX", "NON"}
RATE_QUANTUM = Decimal("0.00000001")  # a payment's ExchangeRate: eight places


class PayloadError(Exception):
    def __init__(self, kind: Kind, message: str, hint: str | None = None, *, wait: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint
        self.wait = wait  # True: not an error yet, a prerequisite is still on its way


@dataclass
class CompanyFacts:
    """What the payloads need to know about the QuickBooks company."""

    country: str = "US"
    home_currency: str = "USD"
    multi_currency: bool = False
    automated_sales_tax: bool = False
    custom_txn_numbers: bool = True
    auto_apply_credit: bool = True
    class_per_txn: bool = False

    @classmethod
    def from_qbo(cls, info: dict[str, Any], prefs: dict[str, Any]) -> CompanyFacts:
        currency = prefs.get("CurrencyPrefs") or {}
        sales = prefs.get("SalesFormsPrefs") or {}
        tax = prefs.get("TaxPrefs") or {}
        accounting = prefs.get("AccountingInfoPrefs") or {}
        home = currency.get("HomeCurrency") or {}
        return cls(
            country=str(info.get("Country") or "US"),
            home_currency=str(home.get("value") or "USD"),
            multi_currency=bool(currency.get("MultiCurrencyEnabled", False)),
            automated_sales_tax=bool(tax.get("PartnerTaxEnabled", False)),
            custom_txn_numbers=bool(sales.get("CustomTxnNumbers", True)),
            auto_apply_credit=bool(sales.get("AutoApplyCredit", True)),
            class_per_txn=bool(accounting.get("ClassTrackingPerTxn", False)),
        )


def marker(request_id: str) -> str:
    """Written into PrivateNote of everything qbsync creates: how it recognizes its own writes."""
    return f"qbsync:{request_id}"


def mapped(db: Database, company: str, kind: str, local_id: str | None) -> str | None:
    """The QuickBooks id a local id is mapped to (None: not mapped, or no local id)."""
    if local_id is None:
        return None
    qbo_id = mapping_lookup(db, company, kind, local_id)
    return str(qbo_id) if qbo_id is not None else None


def _need(db: Database, company: str, kind: str, local_id: str, what: str) -> str:
    qbo_id = mapped(db, company, kind, local_id)
    if qbo_id is None:
        raise PayloadError(
            Kind.EXPORT_FAILING,
            f"{what} {local_id!r} has no QuickBooks mapping ({kind})",
            f"map it: qbsync mappings set {kind} {local_id} QBO_ID (or import a mappings file)",
        )
    return qbo_id


def _or_fallback(
    db: Database,
    company: str,
    kind: str,
    local_id: str,
    what: str,
    fallback: str | None,
    used: list[str] | None,
) -> str:
    """The mapped id, else the company's fallback (noted in `used`), else PayloadError."""
    if fallback and mapped(db, company, kind, local_id) is None:
        if used is not None:
            used.append(f"{what} {local_id!r} has no mapping ({kind}): sent as {fallback}")
        return fallback
    return _need(db, company, kind, local_id, what)


def document(
    db: Database,
    company: str,
    settings: CompanySettings,
    facts: CompanyFacts,
    invoice_id: str,
    request_id: str,
    used: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The Invoice or CreditMemo body for a finalized ledger document. A fallback item or tax
    code the company set, used for want of a mapping, is noted in `used`."""
    inv = lookup.invoice(db, company, invoice_id)
    if inv is None:
        raise PayloadError(Kind.EXPORT_FAILING, f"invoice {invoice_id!r} is not in the ledger")
    entity = "CreditMemo" if inv["type"] == "credit_note" else "Invoice"
    body: dict[str, Any] = {
        "CustomerRef": {"value": _need(db, company, "customers", inv["client_id"], "client")},
        "TxnDate": inv["date"],
        "PrivateNote": marker(request_id),
    }
    if inv.get("memo"):
        body["CustomerMemo"] = {"value": str(inv["memo"])[:1000]}
    if settings.numbering == "ledger":
        number = str(inv["number"])
        if len(number) > DOC_NUMBER_MAX:
            raise PayloadError(
                Kind.EXPORT_FAILING,
                f"invoice number {number!r} is longer than QuickBooks' {DOC_NUMBER_MAX} characters",
                "shorten the number in the billing system, or let QuickBooks number invoices "
                "(qbsync config set companies.KEY.numbering quickbooks)",
            )
        body["DocNumber"] = number
    if inv.get("due_date") and entity == "Invoice":
        body["DueDate"] = inv["due_date"]
    if inv.get("terms_id") and entity == "Invoice":
        body["SalesTermRef"] = {"value": _need(db, company, "terms", inv["terms_id"], "terms")}
    currency = inv.get("currency")
    if currency and currency != facts.home_currency:
        if not facts.multi_currency:
            raise PayloadError(
                Kind.EXPORT_FAILING,
                f"invoice is in {currency} but the QuickBooks company has no multi-currency "
                f"(home currency {facts.home_currency})",
                "turn on multi-currency in QuickBooks, or issue the invoice in the home currency",
            )
        body["CurrencyRef"] = {"value": currency}
    if settings.send_bill_address:
        from qbsync.ledger import clients as ledger_clients  # loads the import models

        client = ledger_clients.get(db, company, inv["client_id"])
        if client and client.get("email"):
            body["BillEmail"] = {"Address": client["email"]}
        if client and client.get("cc_email"):
            body["BillEmailCc"] = {"Address": client["cc_email"]}
        for key, field in (("bill_address", "BillAddr"), ("ship_address", "ShipAddr")):
            value = address((client or {}).get(key))
            if value and (field == "BillAddr" or entity == "Invoice"):
                body[field] = value

    if entity == "Invoice" and settings.online_card_payment:
        body["AllowOnlineCreditCardPayment"] = True
    if entity == "Invoice" and settings.online_ach_payment:
        body["AllowOnlineACHPayment"] = True

    class_id = mapped(db, company, "defaults", "class")
    department_id = mapped(db, company, "defaults", "department")
    if department_id:
        body["DepartmentRef"] = {"value": department_id}
    if class_id and facts.class_per_txn:
        body["ClassRef"] = {"value": class_id}

    us = is_us(facts)
    inclusive = not us and inv.get("amounts") == "inclusive"
    if us and inv.get("amounts") == "inclusive" and cents(inv.get("tax") or 0) != 0:
        # US QuickBooks has no tax-inclusive prices: sent as they are, it would add the tax on
        # top of prices that hold it already. Refused before anything is sent.
        raise PayloadError(
            Kind.EXPORT_FAILING,
            f"its prices include tax ({text(cents(inv['tax']))} of "
            f"{text(cents(inv['total']))}), which a US QuickBooks company cannot hold: it would "
            "add the tax again on top",
            "issue it with prices before tax (amounts: exclusive) in the billing system, then: "
            "qbsync exceptions resolve ID --retry",
        )
    txn_tax_code: str | None = None
    lines = []
    for line in lookup.invoice_lines(db, company, invoice_id):
        detail: dict[str, Any] = {
            "ItemRef": {
                "value": _or_fallback(
                    db,
                    company,
                    "items",
                    line["service_id"],
                    "service",
                    settings.fallback_item,
                    used,
                )
            },
        }
        if settings.post_quantities:
            detail["Qty"] = to_json_number(dec(line["quantity"]))
            detail["UnitPrice"] = to_json_number(dec(line["unit_price"]))
        if line.get("service_date"):
            detail["ServiceDate"] = line["service_date"]
        if class_id and not facts.class_per_txn:
            detail["ClassRef"] = {"value": class_id}
        region = line.get("tax_region_id")
        code = (
            _or_fallback(
                db, company, "tax_codes", region, "tax region", settings.fallback_tax_code, used
            )
            if region
            else None
        )
        if us:
            if code is None or code == "NON":
                detail["TaxCodeRef"] = {"value": "NON"}
            else:
                detail["TaxCodeRef"] = {"value": "TAX"}
                if code not in US_PSEUDO_CODES:
                    txn_tax_code = txn_tax_code or code
        elif code is not None:
            detail["TaxCodeRef"] = {"value": code}
        amount = cents(line["amount"])
        if inclusive:
            amount, gross, unit_price = inclusive_amounts(line)
            detail["TaxInclusiveAmt"] = to_json_number(gross)
            if settings.post_quantities and unit_price is not None:
                detail["UnitPrice"] = to_json_number(unit_price)
        out: dict[str, Any] = {
            "DetailType": "SalesItemLineDetail",
            "Amount": to_json_number(amount),
            "SalesItemLineDetail": detail,
        }
        if line.get("description"):
            out["Description"] = str(line["description"])[:4000]
        lines.append(out)
    if not lines:
        raise PayloadError(Kind.EXPORT_FAILING, f"invoice {inv['number']} has no lines")
    discount = discount_line(db, company, facts, inv)
    if discount is not None:
        lines.append(discount)
        body["ApplyTaxAfterDiscount"] = True
    body["Line"] = lines
    tax_and_currency(db, company, facts, inv, body, txn_tax_code)
    return entity, body


def payment(
    db: Database,
    company: str,
    settings: CompanySettings,
    payment_id: str,
    invoice_qbo_id: str,
    request_id: str,
) -> dict[str, Any]:
    pay = lookup.payment(db, company, payment_id)
    if pay is None:
        raise PayloadError(
            Kind.PAYMENT_INVOICE_NOT_IN_QBO, f"payment {payment_id!r} is not in the ledger"
        )
    inv = lookup.invoice(db, company, pay["invoice_id"]) or {}
    customer = mapped(db, company, "customers", inv.get("client_id"))
    if customer is None:
        raise PayloadError(
            Kind.PAYMENT_CUSTOMER_NOT_MAPPED,
            f"payment {payment_id}: client {inv.get('client_id')!r} has no QuickBooks customer",
            f"map it: qbsync mappings set customers {inv.get('client_id')} QBO_ID",
        )
    amount = cents(pay["amount"]) if settings.round_payments else dec(pay["amount"])
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer},
        "TotalAmt": to_json_number(amount),
        "TxnDate": pay["date"],
        "PrivateNote": marker(request_id),
        "Line": [
            {
                "Amount": to_json_number(amount),
                "LinkedTxn": [{"TxnId": invoice_qbo_id, "TxnType": "Invoice"}],
            }
        ],
    }
    if pay.get("home_amount") is not None and amount != 0:
        # The rate the ledger's home amount implies, so that QuickBooks books it at that and
        # not at its own rate of the day. Eight places keep amount x rate within half a cent
        # of the home amount below a million.
        rate = (dec(pay["home_amount"]) / amount).quantize(RATE_QUANTUM)
        body["ExchangeRate"] = to_json_number(rate)
    if pay.get("reference"):
        body["PaymentRefNum"] = str(pay["reference"])[:21]
    method = mapped(db, company, "payment_methods", pay.get("method"))
    if method:
        body["PaymentMethodRef"] = {"value": method}
    deposit = mapped(db, company, "accounts", "deposit")
    if deposit:
        body["DepositToAccountRef"] = {"value": deposit}
    return body


def credit_application(
    customer_qbo_id: str,
    invoice_qbo_id: str,
    credit_memo_qbo_id: str,
    amount: Any,
    txn_date: str,
    request_id: str,
) -> dict[str, Any]:
    """A zero-total Payment that links the credit memo and the invoice: how QuickBooks applies
    a credit."""
    value = to_json_number(cents(amount))
    return {
        "CustomerRef": {"value": customer_qbo_id},
        "TotalAmt": 0,
        "TxnDate": txn_date,
        "PrivateNote": marker(request_id),
        "Line": [
            {"Amount": value, "LinkedTxn": [{"TxnId": invoice_qbo_id, "TxnType": "Invoice"}]},
            {
                "Amount": value,
                "LinkedTxn": [{"TxnId": credit_memo_qbo_id, "TxnType": "CreditMemo"}],
            },
        ],
    }


ADDRESS_FIELDS = {
    "line1": "Line1",
    "line2": "Line2",
    "city": "City",
    "region": "CountrySubDivisionCode",
    "postal_code": "PostalCode",
    "country": "Country",
}


def address(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ledger address as QuickBooks' BillAddr/ShipAddr (None when the client has none)."""
    if not value:
        return None
    return {qbo: value[ours] for ours, qbo in ADDRESS_FIELDS.items() if value.get(ours)}


def customer(
    db: Database,
    company: str,
    facts: CompanyFacts,
    client: dict[str, Any],
    parent_qbo_id: str | None,
) -> dict[str, Any]:
    """The Customer body for a ledger client (qbsync.ledger.clients.get): the currency only on
    create (QuickBooks fixes it afterwards), a parent as ParentRef with Job true."""
    body: dict[str, Any] = {"DisplayName": client["name"], "CompanyName": client["name"]}
    body |= contact(db, company, client)
    if client.get("currency") and facts.multi_currency:
        body["CurrencyRef"] = {"value": client["currency"]}
    if parent_qbo_id is not None:
        body["ParentRef"] = {"value": parent_qbo_id}
        body["Job"] = True
    return body


def contact(db: Database, company: str, client: dict[str, Any]) -> dict[str, Any]:
    """What a customer update may change: e-mail, phone, addresses, terms and taxability."""
    body: dict[str, Any] = {}
    if client.get("email"):
        body["PrimaryEmailAddr"] = {"Address": client["email"]}
    if client.get("phone"):
        body["PrimaryPhone"] = {"FreeFormNumber": client["phone"]}
    for key, field in (("bill_address", "BillAddr"), ("ship_address", "ShipAddr")):
        value = address(client.get(key))
        if value:
            body[field] = value
    terms = mapped(db, company, "terms", client.get("terms_id"))
    if terms:
        body["SalesTermRef"] = {"value": terms}
    if client.get("tax_exempt"):
        body["Taxable"] = False
    return body


def client_shape(client: dict[str, Any]) -> dict[str, Any]:
    """The fields a client and its customer are compared on (drift, updates)."""
    return {
        "name": client.get("name"),
        "email": client.get("email") or None,
        "phone": client.get("phone") or None,
        "bill_address": client.get("bill_address") or None,
        "ship_address": client.get("ship_address") or None,
    }


def qbo_shape(doc: dict[str, Any]) -> dict[str, Any]:
    """The same fields as QuickBooks' customer holds them."""

    def addr(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            return None
        out = {ours: value[qbo] for ours, qbo in ADDRESS_FIELDS.items() if value.get(qbo)}
        return out or None

    return {
        "name": doc.get("DisplayName"),
        "email": (doc.get("PrimaryEmailAddr") or {}).get("Address") or None,
        "phone": (doc.get("PrimaryPhone") or {}).get("FreeFormNumber") or None,
        "bill_address": addr(doc.get("BillAddr")),
        "ship_address": addr(doc.get("ShipAddr")),
    }
