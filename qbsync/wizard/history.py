"""The history step: link invoices (and credit memos) that already exist in QuickBooks to the
ledger's, so that the sync never exports them again; then read back their payments.

Confident = the same document number, the same total to the cent, and the same customer when
the ledger client is mapped. The total is what the customer owes: the ledger's total (after
discount, tax included) against QuickBooks' TotalAmt, exact decimals to the cent. Where the
ledger leaves tax to QuickBooks (no rate and no tax figure from the billing system: its tax is
0.00), its total holds no tax, and is compared with TotalAmt less TxnTaxDetail.TotalTax: the
sum of QuickBooks' SalesItemLine amounts must equal the ledger subtotal, and what the total
holds besides those lines and the tax must be the ledger's discount, so that a discount or
shipping line in QuickBooks (which changes what the customer owes) cannot pass as the same
document. A difference is never accepted: the proposal goes to review with both figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qbsync.ledger import lookup
from qbsync.ledger.quickbooks import DocumentTotals, document_totals
from qbsync.money import cents
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.sync import links, qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.inbound.payments import apply_payment, retry_waiting_payments
from qbsync.sync.outbound.verify import take_quickbooks_tax
from qbsync.views.unlinked import unlinked_documents
from qbsync.wizard import decisions

ENTITY_OF = {"standard": "Invoice", "credit_note": "CreditMemo"}
ID_CHUNK = 200  # ids per `Id IN (...)` query (sent by POST when long)


def net_amount(doc: dict[str, Any]) -> Decimal:
    """The sum of the sales lines: QuickBooks' counterpart of the ledger subtotal."""
    return sum((cents(line.get("Amount")) for line in links.sales_lines(doc)), Decimal(0))


def other_charges(doc: dict[str, Any]) -> Decimal:
    """What the total holds besides the sales lines and tax (discounts, shipping)."""
    tax = cents((doc.get("TxnTaxDetail") or {}).get("TotalTax"))
    return cents(doc.get("TotalAmt")) - tax - net_amount(doc)


def amount_difference(ledger: DocumentTotals, doc: dict[str, Any]) -> str | None:
    """Why the QuickBooks document does not hold the ledger's amounts (None: it does)."""
    qbo_total = cents(doc.get("TotalAmt"))
    qbo_tax = cents((doc.get("TxnTaxDetail") or {}).get("TotalTax"))
    net = net_amount(doc)
    voided = " (voided in QuickBooks?)" if qbo_total == 0 else ""
    if ledger.knows_tax:
        if ledger.total == qbo_total:
            return None
        parts = []
        if ledger.subtotal != net:
            parts.append(f"lines {ledger.subtotal} and {net}")
        if ledger.tax != qbo_tax:
            parts.append(f"tax {ledger.tax} and {qbo_tax}")
        extra = qbo_total - qbo_tax - net
        if -ledger.discount != extra:
            parts.append(f"discount and other charges {-ledger.discount} and {extra}")
        detail = f" ({'; '.join(parts)})" if parts else ""
        return (
            f"total differs: ledger {ledger.total}, QuickBooks {qbo_total} "
            f"tax included{detail}{voided}"
        )
    # The ledger leaves tax to QuickBooks: compare what precedes it.
    if net != ledger.subtotal:
        return f"amount differs: ledger {ledger.subtotal}, QuickBooks {net} before tax{voided}"
    extra = other_charges(doc)
    if extra != -ledger.discount:
        if ledger.discount:
            return (
                f"discount differs: ledger {ledger.discount}, QuickBooks' total holds {extra} "
                "besides lines and tax"
            )
        return f"QuickBooks' total holds {extra} besides lines and tax (discount or shipping)"
    return None


@dataclass
class DocProposal:
    invoice_id: str
    number: str
    entity: str
    client_id: str
    subtotal: Decimal
    status: str  # confident | review | missing
    why: str
    qbo_id: str | None = None
    qbo_customer: str | None = None
    qbo_net: Decimal | None = None
    doc: dict[str, Any] | None = field(default=None, repr=False)
    total: Decimal | None = None
    qbo_total: Decimal | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoice": self.invoice_id,
            "number": self.number,
            "type": self.entity,
            "client": self.client_id,
            "subtotal": self.subtotal,
            "status": self.status,
            "why": self.why,
            "qbo_id": self.qbo_id,
            "qbo_customer": self.qbo_customer,
            "qbo_net": self.qbo_net,
            "total": self.total,
            "qbo_total": self.qbo_total,
        }


async def fetch_documents(client: Any) -> dict[str, list[dict[str, Any]]]:
    """Every invoice and credit memo in the company, 1000 to a page."""
    return {e: await client.query_all(e) for e in ("Invoice", "CreditMemo")}


def propose(
    db: Database, company: str, documents: dict[str, list[dict[str, Any]]]
) -> list[DocProposal]:
    """A proposal per finalized ledger document not linked yet."""
    linked = set(links.qbo_index(db, company))
    by_number: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entity, docs in documents.items():
        for doc in docs:
            number = str(doc.get("DocNumber") or "").strip()
            if number and (entity, str(doc["Id"])) not in linked:
                by_number[(entity, number)].append(doc)
    mapped = decisions.customer_mappings(db, company)
    totals = document_totals(db, company)
    out: list[DocProposal] = []
    for row in unlinked_documents(db, company):
        entity = ENTITY_OF[row["type"]]
        subtotal = cents(row["subtotal"])
        p = DocProposal(row["id"], row["number"], entity, row["client_id"], subtotal, "missing", "")
        figures = totals.get(row["id"]) or DocumentTotals(
            subtotal, Decimal("0.00"), Decimal("0.00"), subtotal, False
        )
        p.total = figures.total
        out.append(p)
        found = by_number.get((entity, row["number"].strip()), [])
        if not found:
            p.why = f"no {entity} numbered {row['number']} in QuickBooks"
            continue
        if len(found) > 1:
            p.status = "review"
            p.why = (
                f"{len(found)} QuickBooks {entity}s carry number {row['number']} "
                f"(ids {', '.join(str(d['Id']) for d in found)})"
            )
            continue
        doc = found[0]
        p.doc, p.qbo_id = doc, str(doc["Id"])
        p.qbo_customer = (doc.get("CustomerRef") or {}).get("value")
        p.qbo_net = net_amount(doc)
        p.qbo_total = cents(doc.get("TotalAmt"))
        problems = []
        differs = amount_difference(figures, doc)
        if differs:
            problems.append(differs)
        customer = mapped.get(p.client_id)
        if customer is not None and str(customer) != str(p.qbo_customer):
            name = (doc.get("CustomerRef") or {}).get("name") or p.qbo_customer
            problems.append(
                f"customer differs: client {p.client_id} is mapped to customer {customer}, "
                f"the QuickBooks {entity} is for customer {name}"
            )
        if problems:
            p.status, p.why = "review", "; ".join(problems)
        else:
            p.status = "confident"
            p.why = ("same number and total" if figures.knows_tax else "same number and amount") + (
                ", same customer" if customer is not None else " (client not mapped yet)"
            )
    # One QuickBooks document claimed by two ledger documents: both to review.
    claims: dict[tuple[str, str], list[DocProposal]] = defaultdict(list)
    for p in out:
        if p.status == "confident" and p.qbo_id:
            claims[(p.entity, p.qbo_id)].append(p)
    for (entity, qbo_id), claimants in claims.items():
        if len(claimants) > 1:
            for p in claimants:
                p.status = "review"
                p.why = f"{len(claimants)} ledger documents match QuickBooks {entity} {qbo_id}"
    return out


@dataclass
class LinkResult:
    linked: int
    payments_read: int
    payments_applied: int
    waiting: int


async def link_documents(
    ctx: CycleContext, chosen: list[tuple[str, str, dict[str, Any]]], *, source: str
) -> LinkResult:
    """Link (invoice id, entity, QuickBooks document) in one transaction, then read back the
    payments QuickBooks holds for them and apply them as the sync cycle would."""
    db, company = ctx.db, ctx.company
    with transaction(db):
        for invoice_id, entity, doc in chosen:
            links.save(db, company, "invoice", invoice_id, entity, doc, linked_by="wizard")
            # Linked on what precedes the tax when the ledger leaves the tax to QuickBooks:
            # QuickBooks' tax is then the ledger's too, as for a document qbsync sends.
            inv = lookup.invoice(db, company, invoice_id)
            if inv is not None:
                take_quickbooks_tax(ctx, inv, doc)
        decisions.record_many(
            db,
            company,
            "history",
            [(invoice_id, "link", str(doc["Id"]), entity) for invoice_id, entity, doc in chosen],
            source=source,
        )
    payment_ids = sorted(
        {
            str(txn["TxnId"])
            for _, _, doc in chosen
            for txn in doc.get("LinkedTxn") or []
            if txn.get("TxnType") == "Payment"
        },
        key=lambda s: (len(s), s),
    )
    payments: list[dict[str, Any]] = []
    for start in range(0, len(payment_ids), ID_CHUNK):
        chunk = payment_ids[start : start + ID_CHUNK]
        where = "Id IN (" + ", ".join(f"'{i}'" for i in chunk) + ")"
        payments += await ctx.client.query_all("Payment", where)
    before = ctx.stats.payments_applied
    with transaction(db):
        known = qbo_payments.known_ids(db, company)
        for payment in payments:
            if str(payment["Id"]) not in known:
                apply_payment(ctx, payment)
        retry_waiting_payments(ctx)
        waiting = qbo_payments.count_waiting(db, company)
    applied = ctx.stats.payments_applied - before
    return LinkResult(len(chosen), len(payments), applied, int(waiting))


def record_skip(db: Database, company: str, invoice_id: str, *, source: str) -> None:
    decisions.record(db, company, "history", invoice_id, "skip", source=source)
