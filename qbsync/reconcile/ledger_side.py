"""The ledger's side of a reconciliation: every document, payment and credit application with
the figures QuickBooks is held to, read through the ledger's and the links' own reads.

`document_figures` is the one place that says what the ledger believes a document's total, tax,
balance and status are: the total including tax, the tax, and the balance on that total; for a
document in another currency, what its total comes to in the home currency when the ledger holds
a rate for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qbsync.ledger import lookup
from qbsync.ledger.queries import records_by_id
from qbsync.ledger.store import invoice_balance, invoice_status
from qbsync.mappings.store import lookup as mapping_lookup
from qbsync.money import cents, dec
from qbsync.store.database import Database
from qbsync.sync import links, qbo_payments

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Figures:
    total: Decimal
    tax: Decimal
    balance: Decimal
    status: str  # open, partially_paid, paid, void
    # The total in the home currency (home_total, from the document's exchange_rate): None when
    # the ledger holds no rate for it, and for a void document.
    home_total: Decimal | None = None
    exchange_rate: Decimal | None = None


def document_figures(db: Database, company: str, invoice_id: str) -> Figures:
    """What the ledger holds of a document: total, tax, balance and status, to the cent."""
    status = invoice_status(db, company, invoice_id).value  # NotFoundError when there is none
    if status == "void":
        return Figures(ZERO, ZERO, ZERO, status)
    row = lookup.invoice(db, company, invoice_id)
    assert row is not None
    rate = row.get("exchange_rate")
    home = row.get("home_total")
    return Figures(
        cents(row["total"]),
        cents(row["tax"]),
        cents(invoice_balance(db, company, invoice_id)),
        status,
        home_total=None if home is None or rate is None else cents(home),
        exchange_rate=None if rate is None else dec(rate),
    )


@dataclass
class LedgerDocument:
    id: str
    number: str
    entity: str  # Invoice or CreditMemo
    customer: str | None  # the QuickBooks customer the client is mapped to
    currency: str
    figures: Figures
    link: links.Link | None


@dataclass
class LedgerPayment:
    """Money the ledger holds against one QuickBooks Payment (or that it has not sent yet)."""

    id: str  # the ledger's payment id, or qbo-ID for a payment recorded in QuickBooks
    qbo_id: str | None
    customer: str | None
    currency: str | None
    amount: Decimal
    kind: str  # local, quickbooks, credit_application
    state: str | None = None  # qbo_payments' state for a payment seen in QuickBooks
    invoices: list[str] = field(default_factory=list)
    # What it came to in the home currency, when the ledger holds that (a local payment's
    # home_amount; for one recorded from QuickBooks, the sum of its lines' home amounts, each
    # line rounded to the cent, when every line has one). None: the ledger holds no such figure.
    home_amount: Decimal | None = None
    lines: list[Decimal] = field(default_factory=list)  # the amount of each line


@dataclass
class LedgerSide:
    documents: list[LedgerDocument]
    payments: list[LedgerPayment]
    known_qbo_payments: set[str]


def read(db: Database, company: str, home_currency: str) -> LedgerSide:
    """Every finalized or void document and every payment of the company, as the ledger has
    them. Drafts never reach QuickBooks and are left out; so are void documents never linked."""
    clients = records_by_id(db, company, "clients")
    invoices = records_by_id(db, company, "invoices")

    def customer_of(client_id: str | None) -> str | None:
        return mapping_lookup(db, company, "customers", client_id) if client_id else None

    def currency_of(row: dict[str, Any]) -> str:
        client = clients.get(row["client_id"]) or {}
        return str(row.get("currency") or client.get("currency") or home_currency)

    documents = []
    for inv_id, row in sorted(invoices.items()):
        if row["status"] == "draft":
            continue
        link = links.by_local(db, company, "invoice", inv_id)
        if row["status"] == "void" and link is None:
            continue
        documents.append(
            LedgerDocument(
                id=inv_id,
                number=str(row["number"]),
                entity="CreditMemo" if row["type"] == "credit_note" else "Invoice",
                customer=customer_of(row["client_id"]),
                currency=currency_of(row),
                figures=document_figures(db, company, inv_id),
                link=link,
            )
        )

    payments: list[LedgerPayment] = []
    from_quickbooks: dict[str, LedgerPayment] = {}
    for pay_id, row in sorted(records_by_id(db, company, "payments").items()):
        inv = invoices.get(row["invoice_id"]) or {}
        if row["source"] == "quickbooks":
            qbo_id = str(row["qbo_id"])
            found = from_quickbooks.get(qbo_id)
            if found is None:
                found = from_quickbooks[qbo_id] = LedgerPayment(
                    id=f"qbo-{qbo_id}",
                    qbo_id=qbo_id,
                    customer=customer_of(inv.get("client_id")),
                    currency=currency_of(inv) if inv else None,
                    amount=ZERO,
                    kind="quickbooks",
                    home_amount=ZERO,
                )
            found.amount += cents(row["amount"])
            found.lines.append(cents(row["amount"]))
            found.invoices.append(row["invoice_id"])
            if found.home_amount is not None:
                home = row.get("home_amount")
                found.home_amount = None if home is None else found.home_amount + cents(home)
            continue
        link = links.by_local(db, company, "payment", pay_id)
        payments.append(
            LedgerPayment(
                id=pay_id,
                qbo_id=link.qbo_id if link else (str(row["qbo_id"]) if row["qbo_id"] else None),
                customer=customer_of(inv.get("client_id")),
                currency=currency_of(inv) if inv else None,
                amount=cents(row["amount"]),
                kind="local",
                invoices=[row["invoice_id"]],
                home_amount=None if row.get("home_amount") is None else cents(row["home_amount"]),
                lines=[cents(row["amount"])],
            )
        )
    for app_id, row in sorted(records_by_id(db, company, "credit_applications").items()):
        link = links.by_local(db, company, "credit_application", app_id)
        if link is None:
            continue  # not sent yet: the invoice and the credit note show it in their balance
        inv = invoices.get(row["invoice_id"]) or {}
        payments.append(
            LedgerPayment(
                id=app_id,
                qbo_id=link.qbo_id,
                customer=customer_of(inv.get("client_id")),
                currency=currency_of(inv) if inv else None,
                amount=ZERO,  # a credit moves no money
                kind="credit_application",
                invoices=[row["invoice_id"]],
            )
        )

    # Payments seen in QuickBooks that the ledger holds no row of: a credit moved by QuickBooks
    # (netted to nothing), one waiting for an invoice, one held as an overpayment.
    known = qbo_payments.known_ids(db, company)
    for qbo_id in sorted(known - set(from_quickbooks)):
        seen = qbo_payments.get(db, company, qbo_id)
        if seen is None or seen.state in ("ours", "deleted"):
            continue
        from_quickbooks[qbo_id] = LedgerPayment(
            id=f"qbo-{qbo_id}",
            qbo_id=qbo_id,
            customer=None,
            currency=None,
            amount=ZERO,
            kind="quickbooks",
        )
    for qbo_id, pay in from_quickbooks.items():
        seen = qbo_payments.get(db, company, qbo_id)
        pay.state = seen.state if seen else None
    payments.extend(from_quickbooks.values())
    return LedgerSide(documents, payments, known)
