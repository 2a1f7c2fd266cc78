"""Numbers: before a document is created in QuickBooks, look for one that already carries its
number (keyed by hand, sent by the CSV fallback, left there by an earlier system).

One query per entity for a whole batch (`DocNumber IN (...)`), never one per document. What is
found decides the op: one document with the same customer and currency that holds the ledger's
money is the same document, linked (`matched_number`) and nothing created. Its money is compared
like with like, to the cent: the item lines before discount, the discount (QuickBooks' discount
line), and the total after discount, tax included when the tax is the ledger's to give (the
ledger knows it and `tax.source` is `ledger`), else before tax. So an invoice whose discount
QuickBooks does not hold is not the same document, nor is one with shipping or another charge.
The link is then verified as a created document is (verify.py: lines, tax, total), so what the
comparison leaves out (a line split differently) is a `total_mismatch`, never silence.
Anything else under that number (several documents, or one that differs) is a
`duplicate_number` exception showing both and the figures that differ, and nothing is created
while it stands. The op
keeps coming back each interval, so the exception closes itself once the cause is gone: the
accountant renumbers or deletes theirs (ours is created), makes it match (linked), or voids
ours in the ledger (nothing to export).

Invoices the CSV fallback wrote (marked in the ledger: qbsync/ledger/csvmarks.py) are looked up
by number whatever the numbering, and never created while their mark holds: found, linked as
above; not found, held under a `csv_not_imported` exception until the file is imported (then
linked, and the exception closes) or a person releases them (`qbsync invoices release`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync.ledger import csvmarks, lookup, quickbooks
from qbsync.money import cents, dec
from qbsync.outbox import Op
from qbsync.sync import links, payloads
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind
from qbsync.sync.outbound.opstate import FATAL
from qbsync.sync.outbound.verify import qbo_discount, qbo_tax
from qbsync.sync.payload_tax import ledger_knows_tax

LOOKUP_NUMBERS = 100  # DocNumbers per lookup query
LOOKUP_CONCURRENCY = 4  # lookup queries in flight at once (Intuit allows 10 per company)
LINKED_BY = "matched_number"


@dataclass
class Ours:
    entity: str
    number: str
    customer: str | None  # the QuickBooks customer the client is mapped to
    client: str
    net: Decimal  # the ledger's subtotal: its item lines before discount and tax
    discount: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    total: Decimal | None = None  # after discount, tax included (None: net - discount + tax)
    currency: str | None = None  # the document's currency (None: the home currency)
    tax_compared: bool = True  # the ledger's tax is the figure QuickBooks must hold
    inclusive: bool = False  # prices include tax: QuickBooks' gross line amounts compare

    @property
    def owed(self) -> Decimal:
        return self.total if self.total is not None else self.net - self.discount + self.tax


@dataclass
class Verdict:
    """What a lookup by number says about one op: link to `match`, or a conflict with
    `theirs`; or, for an invoice the CSV fallback wrote that QuickBooks does not hold yet
    (`csv`, theirs empty), hold it."""

    ours: Ours
    match: dict[str, Any] | None
    theirs: list[dict[str, Any]]
    csv: csvmarks.Mark | None = None

    @property
    def kind(self) -> Kind:
        return Kind.CSV_NOT_IMPORTED if self.csv is not None else Kind.DUPLICATE_NUMBER

    @property
    def hint(self) -> str:
        return CSV_HINT if self.csv is not None else HINT


def net(doc: dict[str, Any]) -> Decimal:
    """The sum of a QuickBooks document's sales lines: its amount before tax."""
    return cents(sum((dec(line.get("Amount")) for line in links.sales_lines(doc)), Decimal(0)))


def voided(doc: dict[str, Any]) -> bool:
    """A voided document keeps its number with every amount at zero: it no longer counts."""
    return dec(doc.get("TotalAmt")) == 0 and all(
        dec(line.get("Amount")) == 0 for line in links.sales_lines(doc)
    )


def gross(doc: dict[str, Any]) -> Decimal:
    """The sales lines as a tax-inclusive ledger prices them: each line's `TaxInclusiveAmt`
    where QuickBooks gives it, else its `Amount`."""
    total = Decimal(0)
    for line in links.sales_lines(doc):
        detail = line.get("SalesItemLineDetail") or {}
        inclusive = detail.get("TaxInclusiveAmt")
        total += dec(inclusive if inclusive is not None else line.get("Amount"))
    return cents(total)


def money_differences(ours: Ours, doc: dict[str, Any]) -> list[str]:
    """Where QuickBooks' document and ours disagree on money, to the cent ("discount: ledger
    51.04 vs QuickBooks 0.00"); empty when they agree. Like with like: item lines before
    discount, the discount, and the total after discount: with tax when the ledger's tax is the
    one QuickBooks must hold, else before tax (QuickBooks' tax is then taken at verification)."""
    their_lines = gross(doc) if ours.inclusive else net(doc)
    their_total, their_tax = cents(doc.get("TotalAmt")), qbo_tax(doc)
    pairs = [("item lines", ours.net, their_lines), ("discount", ours.discount, qbo_discount(doc))]
    if ours.tax_compared:
        pairs += [("tax", ours.tax, their_tax), ("total", ours.owed, their_total)]
    else:
        pairs.append(("total before tax", ours.owed - ours.tax, their_total - their_tax))
    return [
        f"{what}: ledger {mine} vs QuickBooks {theirs}"
        for what, mine, theirs in pairs
        if mine != theirs
    ]


def currency(doc: dict[str, Any], home: str) -> str:
    return str((doc.get("CurrencyRef") or {}).get("value") or home)


def same(ours: Ours, doc: dict[str, Any], home: str = "USD") -> bool:
    """The same document: our customer, our currency, and our money to the cent
    (money_differences): a discount QuickBooks does not hold, or a charge the ledger does
    not, makes it another document."""
    customer = (doc.get("CustomerRef") or {}).get("value")
    return (
        ours.customer is not None
        and str(customer) == ours.customer
        and currency(doc, home) == (ours.currency or home)
        and not money_differences(ours, doc)
    )


def theirs_summary(doc: dict[str, Any]) -> dict[str, Any]:
    customer = doc.get("CustomerRef") or {}
    return {
        "id": str(doc.get("Id")),
        "number": doc.get("DocNumber"),
        "customer": customer.get("value"),
        "customer_name": customer.get("name"),
        "total": str(cents(doc.get("TotalAmt"))),
        "net": str(net(doc)),
        "discount": str(qbo_discount(doc)),
        "tax": str(qbo_tax(doc)),
        "currency": (doc.get("CurrencyRef") or {}).get("value"),
        "date": doc.get("TxnDate"),
    }


def _quote(number: str) -> str:
    return "'" + number.replace("'", "\\'") + "'"


def _ours(ctx: CycleContext, op: Op, csv_held: dict[str, csvmarks.Mark]) -> Ours | None:
    inv = lookup.invoice(ctx.db, ctx.company, op.subject_id)
    if inv is None:
        return None
    if ctx.settings.numbering != "ledger" and op.subject_id not in csv_held:
        return None  # QuickBooks numbers it: nothing of ours to collide with
    entity = "CreditMemo" if inv["type"] == "credit_note" else "Invoice"
    knows_tax = ledger_knows_tax(ctx.db, ctx.company, inv)
    return Ours(
        entity=entity,
        number=str(inv["number"]),
        customer=payloads.mapped(ctx.db, ctx.company, "customers", inv["client_id"]),
        client=str(inv["client_id"]),
        net=cents(inv["subtotal"]),
        discount=cents(inv["discount"]),
        tax=cents(inv["tax"]),
        total=cents(inv["total"]),
        currency=inv.get("currency") or None,
        tax_compared=knows_tax and ctx.settings.tax.source == "ledger",
        inclusive=inv.get("amounts") == "inclusive",
    )


async def check(ctx: CycleContext, ops: list[Op]) -> dict[int, Verdict]:
    """Look the ops' numbers up in QuickBooks: one query per entity and LOOKUP_NUMBERS numbers.
    Returns a verdict for each op whose number QuickBooks already holds, and for each op of an
    invoice a CSV mark holds back (found or not)."""
    ours: dict[int, Ours] = {}
    home = (await ctx.facts()).home_currency if ops else "USD"
    csv_held = csvmarks.holding(ctx.db, ctx.company, sorted({op.subject_id for op in ops}))
    for op in ops:
        found = _ours(ctx, op, csv_held)
        if found is not None:
            ours[op.id] = found
    wanted: dict[str, set[str]] = defaultdict(set)
    for doc_ours in ours.values():
        wanted[doc_ours.entity].add(doc_ours.number)
    held: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entity, doc in await _look_up(ctx, wanted):
        number = str(doc.get("DocNumber") or "")
        if number in wanted[entity] and not voided(doc):
            held[(entity, number)].append(doc)
    verdicts: dict[int, Verdict] = {}
    taken: set[tuple[str, str]] = set()  # claimed by an op earlier in this batch
    for op in ops:
        o = ours.get(op.id)
        if o is None:
            continue
        if not held.get((o.entity, o.number)):
            if op.subject_id in csv_held:
                verdicts[op.id] = Verdict(o, None, [], csv=csv_held[op.subject_id])
            continue
        docs = held[(o.entity, o.number)]
        match = None
        if len(docs) == 1 and same(o, docs[0], home):
            key = (o.entity, str(docs[0].get("Id")))
            # Never two ledger documents on one of theirs.
            if key not in taken and links.by_qbo(ctx.db, ctx.company, *key) is None:
                match = docs[0]
                taken.add(key)
        verdicts[op.id] = Verdict(o, match, docs)
    return verdicts


async def _look_up(ctx: CycleContext, wanted: dict[str, set[str]]) -> list[tuple[str, Any]]:
    """Every document QuickBooks holds under the wanted numbers: the queries run
    LOOKUP_CONCURRENCY at a time (the client's pacer keeps Intuit's limits), so that 10,000
    numbers cost seconds before the first create, not half a minute. A failed query fails the
    look-up (a connection failure first), after the others have finished."""
    queries = [
        (entity, ", ".join(_quote(n) for n in ordered[start : start + LOOKUP_NUMBERS]))
        for entity, numbers in wanted.items()
        for ordered in [sorted(numbers)]
        for start in range(0, len(ordered), LOOKUP_NUMBERS)
    ]
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def query(entity: str, chunk: str) -> list[tuple[str, Any]]:
        async with gate:
            docs = await ctx.client.query_all(entity, f"DocNumber IN ({chunk})")
        return [(entity, doc) for doc in docs]

    answers = await asyncio.gather(*(query(e, c) for e, c in queries), return_exceptions=True)
    failed = [a for a in answers if isinstance(a, BaseException)]
    if failed:
        raise next((f for f in failed if isinstance(f, FATAL)), failed[0])
    return [
        found for answer in answers if not isinstance(answer, BaseException) for found in answer
    ]


def conflict_message(verdict: Verdict) -> tuple[str, dict[str, Any]]:
    """The exception's message and data: ours and theirs, side by side (or, for an invoice the
    CSV fallback wrote, when and where)."""
    o = verdict.ours
    if verdict.csv is not None:
        mark = verdict.csv
        return (
            f"{o.entity} number {o.number} is not in QuickBooks yet and was {mark.why()}. "
            "Nothing was created.",
            {"number": o.number, "file": mark.file, "written_at": mark.written_at},
        )
    theirs = [theirs_summary(doc) for doc in verdict.theirs]
    ours = {
        "number": o.number,
        "client": o.client,
        "customer": o.customer,
        "net": str(o.net),
        "discount": str(o.discount),
        "tax": str(o.tax),
        "total": str(o.owed),
        "currency": o.currency,
    }
    shown = "; ".join(
        f"Id {t['id']}, customer {t['customer_name'] or t['customer']}, total {t['total']} "
        f"({t['net']} in lines"
        + (f", discount {t['discount']}" if Decimal(t["discount"]) else "")
        + f", tax {t['tax']}), dated {t['date']}"
        for t in theirs
    )
    differ = money_differences(o, verdict.theirs[0]) if len(verdict.theirs) == 1 else []
    message = (
        f"QuickBooks already holds {o.entity} number {o.number} ({shown}); ours is for "
        f"client {o.client} (customer {o.customer or 'not mapped'}), total {o.owed} "
        f"({o.net} in lines"
        + (f", discount {o.discount}" if o.discount else "")
        + f", tax {o.tax})"
        + (f"; they differ: {'; '.join(differ)}" if differ else "")
        + ". Nothing was created."
    )
    data: dict[str, Any] = {"ours": ours, "theirs": theirs, "entity": o.entity}
    if differ:
        data["differences"] = differ
    return message, data


HINT = (
    "if theirs is this document, make its customer and amounts match ours, discount and tax "
    "included (it is then linked); "
    "otherwise renumber or delete theirs in QuickBooks, or void ours in the ledger. The next "
    "cycle looks again and closes this by itself."
)
CSV_HINT = (
    "import the CSV file into QuickBooks (Settings > Import data > Invoices): the next cycle "
    "finds the invoice by its number, links it and closes this. If the file will not be "
    "imported: qbsync invoices release ID, and the next cycle creates it."
)


def linked(ctx: CycleContext, invoice_id: str, doc: dict[str, Any]) -> None:
    """What the ledger learns when an export links a document (created, found by its marker or
    by its number): with `numbering: quickbooks`, the number QuickBooks gave it; and a CSV mark
    holding it has done its job. Through the ledger's doors; call inside the transaction that
    records the link."""
    if ctx.settings.numbering == "quickbooks":
        quickbooks.record_number(ctx.db, ctx.company, invoice_id, doc.get("DocNumber"))
    csvmarks.release(ctx.db, ctx.company, invoice_id, outcome="linked")
