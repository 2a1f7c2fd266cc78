"""Planning an import in chunks (see Planner); plan.py decides each record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync import money as m
from qbsync.ledger.changes import Plan
from qbsync.ledger.clients import COLUMNS as CLIENT_COLUMNS
from qbsync.ledger.clients import check_references, client_row
from qbsync.ledger.models import CreditApplicationIn, InvoiceIn, PaymentIn
from qbsync.ledger.plan import plan_application, plan_invoice, plan_payment, simple_kind
from qbsync.ledger.queries import amounts_by, records_by_id, records_by_ids, reversed_ids
from qbsync.ledger.readers import NO_CHILDREN, RawRecord
from qbsync.ledger.rows import AsAttributes, region_row, stored_rates
from qbsync.ledger.rules import Document
from qbsync.ledger.tax import Rates
from qbsync.ledger.validate import Problems, parse_records
from qbsync.store.database import Database

LIST_KINDS = ("clients", "services", "tax_regions", "terms")
ZERO = Decimal("0.00")


class Planner:
    """An import planned chunk by chunk: the ledger's lists first (all at once: clients refer
    to terms, tax regions and each other), then invoices, payments and credit applications in
    chunks, each checked against only the stored records its ids name. What later chunks need
    of earlier ones is kept small: the lists, and each invoice's type, status and client.
    Problems are collected across chunks; `finish` raises them together."""

    def __init__(self, db: Database, company: str) -> None:
        self.db = db
        self.company = company
        self.problems = Problems()
        self.first_seen: dict[tuple[str, str], RawRecord] = {}  # ids unique within the import
        self.client_currency: dict[str, str | None] = {}
        self.service_ids: set[str] = set()
        self.region_ids: set[str] = set()
        self.terms_ids: set[str] = set()
        self.region_rates: dict[str, Rates | None] = {}
        self.docs: dict[str, Document] = {}  # the import's invoices, as payments see them
        self.gone: dict[str, dict[str, str]] | None = None
        # What this import adds against documents, for credit applications to count: payments
        # by invoice, credit by invoice and by credit note, and the ids added (rows an earlier
        # chunk may have written already, so as to count each once).
        self.paid_here: dict[str, Decimal] = {}
        self.credited_here: dict[str, Decimal] = {}
        self.applied_here: dict[str, Decimal] = {}
        self.new_ids: dict[str, set[str]] = {"payments": set(), "credit_applications": set()}
        self.lists_done = False

    def plan(self, kind: str, records: list[RawRecord]) -> Plan:
        """The writes for one chunk of one kind ("lists": every record of the four lists)."""
        if kind != "lists" and not self.lists_done:
            self.plan("lists", [])
        parsed = parse_records(records, self.problems, self.first_seen)
        plan = Plan(self.company)
        if kind == "lists":
            self._lists(plan, parsed)
        elif kind == "invoices":
            self._invoices(plan, parsed["invoices"])
        elif kind == "payments":
            self._payments(plan, parsed["payments"])
        else:
            self._applications(plan, parsed["credit_applications"])
        for record in records:  # only where each record came from stays (for duplicates)
            record.data, record.children = None, NO_CHILDREN
        return plan

    def finish(self) -> None:
        if not self.lists_done:
            self.plan("lists", [])
        self.problems.raise_if_any()

    def _lists(self, plan: Plan, parsed: dict[str, list[tuple[RawRecord, Any]]]) -> None:
        self.lists_done = True
        db, company = self.db, self.company
        clients = records_by_id(db, company, "clients")
        services = records_by_id(db, company, "services")
        regions = records_by_id(db, company, "tax_regions")
        terms = records_by_id(db, company, "terms")
        client_rows = [(record, AsAttributes(client_row(c))) for record, c in parsed["clients"]]
        simple_kind(plan, "clients", client_rows, clients, CLIENT_COLUMNS)
        simple_kind(plan, "services", parsed["services"], services, ("id", "name"))
        region_rows = [
            (record, AsAttributes(region_row(region))) for record, region in parsed["tax_regions"]
        ]
        simple_kind(plan, "tax_regions", region_rows, regions, ("id", "name", "rate", "components"))
        simple_kind(plan, "terms", parsed["terms"], terms, ("id", "name", "due_days"))
        self.client_currency = {cid: row["currency"] for cid, row in clients.items()}
        self.client_currency.update({c.id: c.currency for _, c in parsed["clients"]})
        self.service_ids = set(services) | {s.id for _, s in parsed["services"]}
        self.region_rates = {rid: stored_rates(row) for rid, row in regions.items()}
        self.region_rates.update({r.id: r.rates() for _, r in parsed["tax_regions"]})
        self.region_ids = set(self.region_rates)
        self.terms_ids = set(terms) | {t.id for _, t in parsed["terms"]}
        check_references(self.problems, parsed["clients"], clients, self.terms_ids, self.region_ids)

    def _invoices(self, plan: Plan, parsed: list[tuple[RawRecord, InvoiceIn]]) -> None:
        stored = records_by_ids(self.db, self.company, "invoices", [i.id for _, i in parsed])
        for record, inv in parsed:
            old = stored.get(inv.id)
            total = plan_invoice(
                self.db,
                plan,
                self.problems,
                record,
                inv,
                old,
                self.client_currency,
                self.service_ids,
                self.region_ids,
                self.terms_ids,
                self.region_rates,
            )
            # A void invoice stays void whatever the file says (kept void, or a problem):
            # payments and credit in the file are held against the void.
            void = old is not None and old["status"] == "void"
            status = "void" if void else inv.status
            self.docs[inv.id] = Document(inv.type, status, inv.client, total)

    def _documents(self, ids: set[str]) -> dict[str, Document]:
        """The import's invoices, and the stored ones it does not hold among `ids`."""
        missing = sorted(i for i in ids if i not in self.docs)
        stored = records_by_ids(self.db, self.company, "invoices", missing)
        found = {
            i: Document(r["type"], r["status"], r["client_id"], r["total"])
            for i, r in stored.items()
        }
        return {**found, **{i: self.docs[i] for i in ids if i in self.docs}}

    def _reversed(self, kind: str) -> dict[str, str]:
        # A payment or credit application the ledger took off (QuickBooks voided what it came
        # from, or its document was voided with --unapply) stays off: the file may still list it.
        if self.gone is None:
            self.gone = {
                k: reversed_ids(self.db, self.company, k) for k in ("payment", "credit_application")
            }
        return self.gone[kind]

    def _payments(self, plan: Plan, parsed: list[tuple[RawRecord, PaymentIn]]) -> None:
        stored = records_by_ids(self.db, self.company, "payments", [p.id for _, p in parsed])
        docs = self._documents({p.invoice for _, p in parsed})
        gone = self._reversed("payment")
        added = plan.kinds["payments"].added
        for record, pay in parsed:
            if pay.id not in stored and pay.id in gone:
                plan.kinds["payments"].reversed += 1
                continue
            before = len(added)
            plan_payment(plan, self.problems, record, pay, stored.get(pay.id), docs)
            if len(added) > before:
                self.paid_here[pay.invoice] = self.paid_here.get(pay.invoice, ZERO) + pay.amount
                self.new_ids["payments"].add(pay.id)

    def _applications(
        self, plan: Plan, parsed: list[tuple[RawRecord, CreditApplicationIn]]
    ) -> None:
        ids = [a.id for _, a in parsed]
        stored = records_by_ids(self.db, self.company, "credit_applications", ids)
        docs = self._documents({d for _, a in parsed for d in (a.credit_note, a.invoice)})
        gone = self._reversed("credit_application")
        used, settled = self._settled(parsed)
        for record, app in parsed:
            if app.id not in stored and app.id in gone:
                plan.kinds["credit_applications"].reversed += 1
                continue
            old = stored.get(app.id)
            if plan_application(plan, self.problems, record, app, old, docs, used, settled):
                note, invoice = app.credit_note, app.invoice
                self.applied_here[note] = self.applied_here.get(note, ZERO) + app.amount
                self.credited_here[invoice] = self.credited_here.get(invoice, ZERO) + app.amount
                self.new_ids["credit_applications"].add(app.id)

    def _settled(
        self, parsed: list[tuple[RawRecord, CreditApplicationIn]]
    ) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """For the credit notes and invoices a chunk of applications names: the credit applied
        from each note, and each invoice's payments and credit applied to it. The store's
        (local rows and those recorded from QuickBooks; rows the ledger took off are gone from
        it) and this import's so far, in every kind before this one, each row counted once:
        three queries per chunk, whatever its size."""
        notes = sorted({a.credit_note for _, a in parsed})
        invoices = sorted({a.invoice for _, a in parsed})
        used = {n: self.applied_here.get(n, ZERO) for n in notes}
        settled = {
            i: self.paid_here.get(i, ZERO) + self.credited_here.get(i, ZERO) for i in invoices
        }
        for kind, column, ids, into in (
            ("credit_applications", "credit_note_id", notes, used),
            ("payments", "invoice_id", invoices, settled),
            ("credit_applications", "invoice_id", invoices, settled),
        ):
            new = self.new_ids[kind]
            for row_id, doc_id, amount in amounts_by(self.db, self.company, kind, column, ids):
                if row_id not in new:
                    into[doc_id] += m.dec(amount)
        return used, settled
