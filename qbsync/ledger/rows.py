"""The rows an import writes for a tax region and for an invoice's lines, discount lines and
tax per rate (plan.py decides whether to write them)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from qbsync import money as m
from qbsync.ledger import tax
from qbsync.ledger.changes import Rows
from qbsync.ledger.content import opt_text
from qbsync.ledger.models import InvoiceIn, LineIn, TaxRegionIn
from qbsync.ledger.tax import Rates


def region_row(region: TaxRegionIn) -> dict[str, Any]:
    components = (
        None
        if region.components is None
        else json.dumps([{"name": c.name, "rate": m.text(c.rate)} for c in region.components])
    )
    return {
        "id": region.id,
        "name": region.name,
        "rate": opt_text(region.rate),
        "components": components,
    }


class AsAttributes:
    """A stored row read as attributes (what _simple_kind compares)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


def stored_rates(row: dict[str, Any]) -> Rates | None:
    if row.get("components"):
        return [(c["name"], Decimal(c["rate"])) for c in json.loads(row["components"])]
    if row.get("rate") is not None:
        return [(row["name"], Decimal(row["rate"]))]
    return None


def invoice_rows(company: str, inv: InvoiceIn, figures: tax.Figures) -> tuple[Rows, Rows, Rows]:
    """The invoice's item lines, discount lines and tax per rate, as rows to write:
    (company, *LINE_COLUMNS), (company, *DISCOUNT_COLUMNS) and (company, *TAX_COLUMNS) of
    store.py, tuples and not dicts because an import writes hundreds of thousands of them."""
    items = iter(
        zip(
            figures.amounts,
            figures.line_discounts,
            figures.line_taxes,
            figures.line_totals,
            strict=True,
        )
    )
    discounts = iter(figures.discounts)
    lines: Rows = []
    discount_rows: Rows = []
    text = m.text
    for index, line in enumerate(inv.lines):
        if isinstance(line, LineIn):
            amount, discount, line_tax, total = next(items)
            lines.append(
                (
                    company,
                    inv.id,
                    index + 1,
                    line.service,
                    line.description,
                    text(line.quantity),
                    text(line.unit_price),
                    text(amount),
                    line.tax_region,
                    opt_text(line.service_date),
                    opt_text(line.tax_amount),
                    text(discount),
                    text(line_tax),
                    text(total),
                )
            )
        else:
            discount_rows.append(
                (
                    company,
                    inv.id,
                    index + 1,
                    line.description,
                    opt_text(line.amount),
                    opt_text(line.percent),
                    int(line.taxable),
                    text(next(discounts)),
                )
            )
    taxes: Rows = [
        (company, inv.id, t.region, t.name, opt_text(t.rate), text(t.base), text(t.amount))
        for t in figures.taxes
    ]
    return lines, discount_rows, taxes
