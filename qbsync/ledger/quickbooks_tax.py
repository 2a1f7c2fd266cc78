"""QuickBooks' tax taken as the ledger's (`tax.source: quickbooks`).

When the company lets QuickBooks work out sales tax, the figure QuickBooks holds after a write
becomes the document's: its tax, each line's share and the tax per rate. The document's content
stays as the billing system sent it, so a later import of the same file is the same invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from qbsync.money import allocate, cents, dec
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso


@dataclass
class QuickBooksTaxLine:
    """One rate of the tax QuickBooks computed on a document (a TxnTaxDetail.TaxLine)."""

    name: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal


def record_quickbooks_tax(
    db: Database,
    company: str,
    invoice_id: str,
    tax: Decimal,
    rates: list[QuickBooksTaxLine] | None = None,
) -> bool:
    """Take QuickBooks' tax as the document's (`tax.source: quickbooks`): its tax and total,
    each line's tax (QuickBooks' tax spread over the lines in proportion to the tax they held,
    else to the taxed lines' net amounts) and total, the tax per rate when QuickBooks gave its
    rates, and the home-currency total. Balance and status follow (they are read from the
    total). The document's content and content hash stay as the billing system sent them: this
    is a figure QuickBooks worked out, not a change to the document, so nothing is queued and
    a later import of the same file is still the same invoice. Returns whether anything
    changed."""
    row = db.execute(
        "SELECT subtotal, discount, tax, amounts, exchange_rate FROM ledger_invoices "
        "WHERE company = ? AND id = ?",
        [company, invoice_id],
    ).fetchone()
    if row is None:
        return False
    subtotal, discount, old_tax, amounts, exchange_rate = row
    tax = cents(tax)
    if tax == cents(old_tax) and not rates:
        return False
    lines = db.execute(
        "SELECT line_no, amount, discount, tax, tax_region_id FROM ledger_invoice_lines "
        "WHERE company = ? AND invoice_id = ? ORDER BY line_no",
        [company, invoice_id],
    ).fetchall()
    inclusive = amounts == "inclusive"
    zero = Decimal("0.00")
    weights = [max(dec(t), zero) for _, _, _, t, _ in lines]
    if sum(weights, zero) == 0:
        nets = [dec(a) - dec(d) for _, a, d, _, _ in lines]
        weights = [
            max(n, zero) if r is not None else zero for n, (*_, r) in zip(nets, lines, strict=True)
        ]
        if sum(weights, zero) == 0:
            weights = [max(n, zero) for n in nets]
    shares = allocate(tax, weights) if lines and sum(weights, zero) > 0 else [zero for _ in lines]
    now = utc_now_iso()
    with transaction(db):
        for (line_no, amount, line_discount, _, _), share in zip(lines, shares, strict=True):
            line_total = dec(amount) - dec(line_discount) + (zero if inclusive else share)
            db.execute(
                "UPDATE ledger_invoice_lines SET tax = ?, total = ? WHERE company = ? AND "
                "invoice_id = ? AND line_no = ?",
                [str(cents(share)), str(cents(line_total)), company, invoice_id, line_no],
            )
        total = cents(dec(subtotal) - dec(discount) + (zero if inclusive else tax))
        home = None if exchange_rate is None else cents(total * dec(exchange_rate))
        db.execute(
            "UPDATE ledger_invoices SET tax = ?, total = ?, home_total = ?, updated_at = ? "
            "WHERE company = ? AND id = ?",
            [str(tax), str(total), None if home is None else str(home), now, company, invoice_id],
        )
        if rates:
            regions = {r for *_, r in lines if r is not None}
            region = regions.pop() if len(regions) == 1 else "quickbooks"
            db.execute(
                "DELETE FROM ledger_invoice_taxes WHERE company = ? AND invoice_id = ?",
                [company, invoice_id],
            )
            seen: dict[str, QuickBooksTaxLine] = {}
            for line in rates:  # one row per rate name (the table's key)
                if line.name in seen:
                    before = seen[line.name]
                    line = QuickBooksTaxLine(
                        line.name, line.rate, before.base + line.base, before.amount + line.amount
                    )
                seen[line.name] = line
            for line in seen.values():
                db.execute(
                    "INSERT INTO ledger_invoice_taxes (company, invoice_id, tax_region_id, name, "
                    "rate, base, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        company,
                        invoice_id,
                        region,
                        line.name,
                        None if line.rate is None else format(line.rate, "f"),
                        str(cents(line.base)),
                        str(cents(line.amount)),
                    ],
                )
    return True
