"""The ledger's payment and void rules, once for every door."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from qbsync.ledger.models import PaymentIn
from qbsync.ledger.rules import (
    Document,
    NoPayment,
    payment_refusal,
    payment_row,
    replay,
    void_op,
)
from qbsync.outbox import OpKind


@pytest.mark.parametrize(
    ("doc", "refusal"),
    [
        (None, NoPayment.UNKNOWN),
        (Document("credit_note", "finalized", "CL-1"), NoPayment.CREDIT_NOTE),
        (Document("standard", "draft", "CL-1"), NoPayment.NOT_FINALIZED),
        (Document("standard", "void", "CL-1"), NoPayment.NOT_FINALIZED),
        (Document("standard", "finalized", "CL-1"), None),
    ],
)
def test_only_a_finalized_standard_invoice_takes_payments(
    doc: Document | None, refusal: NoPayment | None
) -> None:
    assert payment_refusal(doc) is refusal


def test_a_payment_again_must_be_the_identical_local_one() -> None:
    pay = PaymentIn(
        id="P1", invoice="INV-1", amount=Decimal("10.5"), date=dt.date(2026, 10, 5), method="check"
    )
    row = payment_row(pay)
    assert row == {
        "id": "P1",
        "invoice_id": "INV-1",
        "amount": "10.50",
        "date": "2026-10-05",
        "method": "check",
        "reference": None,
        "home_amount": None,
    }
    stored = {**row, "source": "local"}
    assert replay(stored, row).identical
    changed = replay({**stored, "amount": "11.00", "date": "2026-10-06"}, row)
    assert not changed.identical and changed.changed == ["amount", "date"]
    from_qbo = replay({**stored, "source": "quickbooks"}, row)
    assert not from_qbo.identical and from_qbo.from_quickbooks and not from_qbo.changed


def test_voiding_queues_only_for_a_finalized_document() -> None:
    assert void_op("standard", "finalized") is OpKind.VOID_INVOICE
    assert void_op("credit_note", "finalized") is OpKind.DELETE_CREDIT_MEMO  # cannot be voided
    assert void_op("standard", "draft") is None  # QuickBooks never saw it
    assert void_op("credit_note", "void") is None
