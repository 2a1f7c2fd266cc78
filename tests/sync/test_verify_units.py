"""verify.differences: which of QuickBooks' figures differ from the ledger's, line by line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync.sync.outbound.verify import Difference, differences


def ledger(amounts: str = "exclusive") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    inv = {"total": "529.91", "tax": "41.23", "discount": "25.00", "amounts": amounts}
    lines = [{"amount": "199.96"}, {"amount": "99.75"}, {"amount": "213.97"}]
    return inv, lines


def qbo(*amounts: str, total: str = "529.91", tax: str = "41.23", **extra: Any) -> dict[str, Any]:
    lines: list[dict[str, Any]] = [
        {"DetailType": "SalesItemLineDetail", "Amount": a, "SalesItemLineDetail": {}}
        for a in amounts
    ]
    lines.append({"DetailType": "SubTotalLineDetail", "Amount": "513.68"})
    lines.append({"DetailType": "DiscountLineDetail", "Amount": extra.get("discount", "25.00")})
    return {"TotalAmt": total, "TxnTaxDetail": {"TotalTax": tax}, "Line": lines}


def test_agreeing_documents_show_no_difference() -> None:
    inv, lines = ledger()
    assert differences(inv, lines, qbo("199.96", "99.75", "213.97")) == []


def test_each_differing_figure_is_named_with_both_values() -> None:
    inv, lines = ledger()
    doc = qbo("199.96", "99.76", "213.97", total="529.92", tax="41.24", discount="25.01")
    found = differences(inv, lines, doc)
    assert [d.text() for d in found] == [
        "total: ledger 529.91 vs QuickBooks 529.92",
        "tax: ledger 41.23 vs QuickBooks 41.24",
        "line 2: ledger 99.75 vs QuickBooks 99.76",
        "discount: ledger 25.00 vs QuickBooks 25.01",
    ]
    assert found[0].as_dict() == {"what": "total", "ledger": "529.91", "quickbooks": "529.92"}


def test_a_missing_line_and_amounts_sent_as_numbers() -> None:
    inv, lines = ledger()
    doc = qbo("199.96", "99.75")
    doc["TotalAmt"] = 529.91  # JSON numbers are read without binary rounding
    assert differences(inv, lines, doc) == [
        Difference("item lines", Decimal(3), Decimal(2)),
    ]


def test_inclusive_prices_are_compared_gross() -> None:
    inv, lines = ledger("inclusive")
    doc = qbo("166.63", "95.00", "178.31")  # QuickBooks' net amounts
    for line, gross in zip(doc["Line"], ("199.96", "99.75", "213.98"), strict=False):
        line["SalesItemLineDetail"]["TaxInclusiveAmt"] = gross
    assert [d.text() for d in differences(inv, lines, doc)] == [
        "line 3: ledger 213.97 vs QuickBooks 213.98"
    ]
