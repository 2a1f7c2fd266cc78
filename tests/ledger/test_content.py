"""An invoice's content hash is written from its rows (store.apply_plan) and compared, on the
next import, with the content of the file's record (plan.py): the two ways must give the same
content, digit for digit and key for key, for any invoice an import takes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qbsync.ledger import store, tax
from qbsync.ledger.changes import Plan
from qbsync.ledger.content import content_hash, invoice_content, rows_content
from qbsync.ledger.models import InvoiceIn
from qbsync.ledger.plan import plan_invoice
from qbsync.ledger.readers import RawRecord
from qbsync.ledger.validate import Problems
from qbsync.store.database import Database

RATES: dict[str, tax.Rates | None] = {
    "TR-NY": [("NY State", Decimal("4")), ("NYC", Decimal("4.875"))],
    "TR-VAT": [("VAT", Decimal("20"))],
    "TR-NONE": None,
}
TEXT = st.text(alphabet=st.sampled_from("aZ 9-é€ü漢\"\\/'"), min_size=1, max_size=12)
BLANK = st.sampled_from(["", "  ", None])


def _money(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda cents: str(Decimal(cents) / 100))


item = st.fixed_dictionaries(
    {
        "service": st.sampled_from(["S-1", " S-2 ", "S-é"]),
        "quantity": st.sampled_from(["1", "2", "1.5", "0.333", "10.00"]),
        "unit_price": st.one_of(_money(-5000, 99999), st.just("12.3456")),
    },
    optional={
        "description": st.one_of(TEXT, BLANK),
        "tax_region": st.one_of(st.sampled_from(list(RATES)), BLANK),
        "service_date": st.one_of(st.just("2026-10-02"), BLANK),
        "tax_amount": st.one_of(_money(0, 2000), BLANK),
        "kind": st.sampled_from(["item", ""]),
    },
)
discount = st.fixed_dictionaries(
    {"kind": st.just("discount")},
    optional={"description": st.one_of(TEXT, BLANK), "taxable": st.booleans()},
).flatmap(
    lambda d: st.one_of(
        _money(1, 500).map(lambda a: {**d, "amount": a}),
        st.sampled_from(["5", "12.5"]).map(lambda p: {**d, "percent": p}),
    )
)
invoice = st.fixed_dictionaries(
    {
        "id": st.just("INV-1"),
        "number": st.sampled_from(["1001", " A-7 ", "Nº 5"]),
        "client": st.just("CL-1"),
        "date": st.just("2026-10-01"),
        "status": st.sampled_from(["draft", "finalized"]),
        "lines": st.lists(st.one_of(item, item, discount), min_size=1, max_size=5),
    },
    optional={
        "due_date": st.one_of(st.just("2026-10-31"), BLANK),
        "terms": st.one_of(st.just("NET30"), BLANK),
        "type": st.sampled_from(["standard", "credit_note", ""]),
        "currency": st.one_of(st.sampled_from(["USD", "EUR"]), BLANK),
        "memo": st.one_of(TEXT, BLANK),
        "amounts": st.sampled_from(["exclusive", "inclusive", ""]),
        "tax_total": _money(0, 5000),
        "exchange_rate": st.sampled_from(["1.0825", "0.9", ""]),
    },
)


@settings(max_examples=300, deadline=None)
@given(record=invoice, currency=st.sampled_from(["USD", "CAD", None]))
def test_the_rows_hold_the_content_the_record_gives(
    record: dict[str, Any], currency: str | None
) -> None:
    inv = InvoiceIn.model_validate(record)
    plan, problems = Plan("acme"), Problems()
    plan_invoice(
        Database(memory=True),  # a new invoice: nothing stored is read
        plan,
        problems,
        RawRecord("invoices", record, "test"),
        inv,
        None,
        {"CL-1": currency},
        {"S-1", "S-2", "S-é"},
        set(RATES),
        {"NET30"},
        RATES,
    )
    if problems.count:  # a discount above the lines, a tax_total the lines disagree with
        return
    (row,) = plan.kinds["invoices"].added
    lines, discounts = plan.lines[inv.id], plan.discounts[inv.id]
    given_content = invoice_content(inv, row["currency"])
    as_lines = [dict(zip(("company", *store.LINE_COLUMNS), ln, strict=True)) for ln in lines]
    as_discounts = [
        dict(zip(("company", *store.DISCOUNT_COLUMNS), ln, strict=True)) for ln in discounts
    ]
    assert rows_content(row, as_lines, as_discounts) == given_content
    assert store._written_hash(row, lines, discounts) == content_hash(given_content)
