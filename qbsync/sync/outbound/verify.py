"""Every write checked to the cent: what QuickBooks holds after each create or update of an
invoice or credit memo, against the ledger; and the currency guard that stops a document
before it is sent to a customer of another currency.

- Verification: QuickBooks' `TotalAmt`, `TxnTaxDetail.TotalTax`, each item line's amount (the
  gross `TaxInclusiveAmt` for tax-inclusive prices) and the discount line, against the ledger's
  total, tax, line amounts and discount. Any difference raises `total_mismatch` naming both
  figures and the lines that differ; a later verification that agrees resolves it.
- `tax.source`: with `ledger`, a tax difference also raises `tax_mismatch` with both amounts;
  with `quickbooks`, QuickBooks' tax is first written into the ledger (through the ledger's
  door, ledger/quickbooks.py), and the total is then checked against the ledger so corrected.
  A document whose tax the ledger does not know (its regions carry no rates and the billing
  system sent no tax figure) left the tax to QuickBooks: its tax is taken in the same way.
- Currency: in a multi-currency company, a document whose currency is not its QuickBooks
  customer's is stopped with `currency_mismatch`; no request is sent for it.
- A refusal over a currency or tax preference means the company's preferences may have changed
  since they were read: they are read again at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync.ledger import lookup
from qbsync.ledger.quickbooks_tax import QuickBooksTaxLine, record_quickbooks_tax
from qbsync.money import cents, dec
from qbsync.outbox import Op
from qbsync.qbo.errors import QboError
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions
from qbsync.sync.outbound.opstate import FATAL, fail
from qbsync.sync.payload_tax import ledger_knows_tax

CUSTOMER_CHUNK = 100  # customer ids per `Id IN (...)` lookup
# What a refusal over a currency or tax preference names (its element or its words).
PREFERENCE_WORDS = re.compile(
    r"currency|exchangerate|taxcode|txntaxdetail|globaltaxcalculation|sales tax|"
    r"\b(?:vat|gst|hst|qst)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Difference:
    """One figure that differs: what it is, the ledger's and QuickBooks'."""

    what: str
    ledger: Decimal
    quickbooks: Decimal

    def text(self) -> str:
        return f"{self.what}: ledger {self.ledger} vs QuickBooks {self.quickbooks}"

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "ledger": str(self.ledger), "quickbooks": str(self.quickbooks)}


def _tax_lines(doc: dict[str, Any]) -> list[QuickBooksTaxLine]:
    detail = doc.get("TxnTaxDetail") or {}
    out = []
    for line in detail.get("TaxLine") or []:
        tax = line.get("TaxLineDetail") or {}
        rate = tax.get("TaxRateRef") or {}
        percent = tax.get("TaxPercent")
        out.append(
            QuickBooksTaxLine(
                name=str(rate.get("name") or rate.get("value") or "tax"),
                rate=None if percent is None else dec(percent),
                base=cents(tax.get("NetAmountTaxable")),
                amount=cents(line.get("Amount")),
            )
        )
    return out


def qbo_tax(doc: dict[str, Any]) -> Decimal:
    return cents((doc.get("TxnTaxDetail") or {}).get("TotalTax"))


def qbo_discount(doc: dict[str, Any]) -> Decimal:
    """What QuickBooks' discount line takes off (0.00 without one)."""
    return sum(
        (
            cents(ln.get("Amount"))
            for ln in doc.get("Line") or []
            if ln.get("DetailType") == "DiscountLineDetail"
        ),
        Decimal("0.00"),
    )


def differences(
    inv: dict[str, Any], lines: list[dict[str, Any]], doc: dict[str, Any]
) -> list[Difference]:
    """What QuickBooks' document and the ledger's disagree on, to the cent."""
    found: list[Difference] = []
    total, theirs = cents(inv["total"]), cents(doc.get("TotalAmt"))
    if total != theirs:
        found.append(Difference("total", total, theirs))
    tax, their_tax = cents(inv["tax"]), qbo_tax(doc)
    if tax != their_tax:
        found.append(Difference("tax", tax, their_tax))
    qbo_lines = doc.get("Line") or []
    items = [ln for ln in qbo_lines if ln.get("DetailType") == "SalesItemLineDetail"]
    inclusive = inv.get("amounts") == "inclusive"
    if len(items) != len(lines):
        found.append(Difference("item lines", Decimal(len(lines)), Decimal(len(items))))
    for number, (ours, line) in enumerate(zip(lines, items, strict=False), start=1):
        detail = line.get("SalesItemLineDetail") or {}
        if inclusive and detail.get("TaxInclusiveAmt") is not None:
            amount = cents(detail["TaxInclusiveAmt"])
        elif inclusive:
            continue  # QuickBooks gave only the net: the total and tax above cover it
        else:
            amount = cents(line.get("Amount"))
        if cents(ours["amount"]) != amount:
            found.append(Difference(f"line {number}", cents(ours["amount"]), amount))
    discount = qbo_discount(doc)
    if cents(inv["discount"]) != discount:
        found.append(Difference("discount", cents(inv["discount"]), discount))
    return found


def take_quickbooks_tax(ctx: CycleContext, inv: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Under `tax.source: quickbooks`, or for a document whose tax the ledger does not know (its
    regions carry no rates and the billing system sent no figure), QuickBooks' tax is the one:
    written into the ledger when it differs. Returns whether QuickBooks' tax is the one."""
    db, company, invoice_id = ctx.db, ctx.company, str(inv["id"])
    if ctx.settings.tax.source != "quickbooks" and ledger_knows_tax(db, company, inv):
        return False
    their_tax = qbo_tax(doc)
    if cents(inv["tax"]) != their_tax:
        record_quickbooks_tax(db, company, invoice_id, their_tax, _tax_lines(doc))
    close_exceptions(db, company, [Kind.TAX_MISMATCH], "invoice", invoice_id, resolution="verified")
    return True


def verify(ctx: CycleContext, invoice_id: str, entity: str, doc: dict[str, Any]) -> bool:
    """Check what QuickBooks answered to a create or update against the ledger (call inside
    the transaction that records the result). Returns whether they agree."""
    db, company = ctx.db, ctx.company
    inv = lookup.invoice(db, company, invoice_id)
    if inv is None or not doc:
        return True
    noun = "credit note" if inv["type"] == "credit_note" else "invoice"
    name = f"{noun} {inv['number']}"
    qbo_id = str(doc.get("Id")) if doc.get("Id") is not None else None
    close_exceptions(db, company, [Kind.CURRENCY_MISMATCH], "invoice", invoice_id)
    their_tax = qbo_tax(doc)
    # A ledger that holds no tax figure for the document (no rates, none from billing) left
    # the tax to QuickBooks: QuickBooks' is the only figure there is, and it is taken.
    if take_quickbooks_tax(ctx, inv, doc):
        inv = lookup.invoice(db, company, invoice_id) or inv
    elif cents(inv["tax"]) != their_tax:
        ctx.raise_exception(
            Kind.TAX_MISMATCH,
            "invoice",
            invoice_id,
            label=name,
            qbo_entity=entity,
            qbo_id=qbo_id,
            message=f"{name}: QuickBooks' tax {their_tax} differs from the ledger's "
            f"{cents(inv['tax'])} (tax.source: ledger)",
            hint="check the tax region's rates and the mapped tax code; under automated sales "
            f"tax let QuickBooks decide: qbsync config set companies.{company}.tax.source "
            "quickbooks",
            data={"ledger_tax": str(cents(inv["tax"])), "quickbooks_tax": str(their_tax)},
        )
    else:
        close_exceptions(
            db, company, [Kind.TAX_MISMATCH], "invoice", invoice_id, resolution="verified"
        )
    found = differences(inv, lookup.invoice_lines(db, company, invoice_id), doc)
    if not found:
        close_exceptions(
            db, company, [Kind.TOTAL_MISMATCH], "invoice", invoice_id, resolution="verified"
        )
        return True
    total = next((d for d in found if d.what == "total"), None)
    rest = "; ".join(d.text() for d in found if d.what != "total")
    if total is None:
        summary = f"{name}: the totals agree at {cents(inv['total'])}, but {rest}"
    else:
        summary = f"{name}: ledger {total.ledger} vs QuickBooks {total.quickbooks}" + (
            f" ({rest})" if rest else ""
        )
    ctx.raise_exception(
        Kind.TOTAL_MISMATCH,
        "invoice",
        invoice_id,
        label=name,
        qbo_entity=entity,
        qbo_id=qbo_id,
        message=summary,
        hint="compare the document in QuickBooks with the ledger's; once they agree (a "
        "re-export, a correction in QuickBooks or in the ledger) the next verification "
        "resolves this",
        data={
            "ledger_total": str(cents(inv["total"])),
            "quickbooks_total": str(cents(doc.get("TotalAmt"))),
            "ledger_tax": str(cents(inv["tax"])),
            "quickbooks_tax": str(their_tax),
            "differences": [d.as_dict() for d in found],
        },
    )
    return False


def preference_error(err: QboError) -> bool:
    """QuickBooks refused a document over a currency or tax preference or validation."""
    words = " ".join(str(x or "") for x in (err.element, err.detail, err.message))
    return PREFERENCE_WORDS.search(words) is not None


async def after_refusal(ctx: CycleContext, errors: list[QboError]) -> None:
    """Read the company's preferences again when a refusal may come from a stale copy."""
    if any(preference_error(err) for err in errors):
        try:
            await ctx.refresh_facts()
        except FATAL:
            raise
        except QboError:
            return  # the next cycle reads them again in any case


async def customer_currencies(
    ctx: CycleContext, customer_ids: set[str], known: dict[str, str]
) -> dict[str, str]:
    """Each QuickBooks customer's currency (its CurrencyRef, else the home currency), looked
    up once per cycle for all of them; `known` caches what was already read."""
    facts = await ctx.facts()
    missing = sorted(customer_ids - set(known))
    for start in range(0, len(missing), CUSTOMER_CHUNK):
        chunk = ", ".join(f"'{c}'" for c in missing[start : start + CUSTOMER_CHUNK])
        for customer in await ctx.client.query_all("Customer", f"Id IN ({chunk})"):
            ref = customer.get("CurrencyRef") or {}
            known[str(customer["Id"])] = str(ref.get("value") or facts.home_currency)
    return known


async def currency_guard(
    ctx: CycleContext,
    ready: list[tuple[Op, str, dict[str, Any]]],
    known: dict[str, str],
) -> list[tuple[Op, str, dict[str, Any]]]:
    """The documents of `ready` whose currency is their QuickBooks customer's; the others fail
    with `currency_mismatch` and are not sent. Only a multi-currency company can hold a
    customer in another currency (in any other, the payload already refuses a foreign
    document)."""
    facts = await ctx.facts()
    if not facts.multi_currency or not ready:
        return ready
    ids = {str(body["CustomerRef"]["value"]) for _, _, body in ready}
    try:
        currencies = await customer_currencies(ctx, ids, known)
    except FATAL:
        raise
    except QboError as err:  # nothing was sent: look again on the next attempt
        for op, _, _ in ready:
            fail(ctx, op, f"could not look the customer's currency up in QuickBooks: {err.message}")
        return []
    kept = []
    for op, entity, body in ready:
        customer = str(body["CustomerRef"]["value"])
        ours = str((body.get("CurrencyRef") or {}).get("value") or facts.home_currency)
        theirs = currencies.get(customer)
        if theirs is None or theirs == ours:
            kept.append((op, entity, body))
            continue
        inv = lookup.invoice(ctx.db, ctx.company, op.subject_id) or {}
        client = lookup.client(ctx.db, ctx.company, str(inv.get("client_id"))) or {}
        who = f"QuickBooks customer {customer}" + (
            f" ({client['name']})" if client.get("name") else ""
        )
        fail(
            ctx,
            op,
            f"the document is in {ours} but {who} is billed in {theirs}; nothing was sent",
            kind=Kind.CURRENCY_MISMATCH,
            hint="issue the document in the customer's currency, or map the client to a "
            f"QuickBooks customer in {ours} (qbsync mappings set customers "
            f"{inv.get('client_id')} QBO_ID), then: qbsync exceptions resolve ID --retry",
            needs_person=True,
            data={"document_currency": ours, "customer_currency": theirs, "customer": customer},
        )
    return kept
