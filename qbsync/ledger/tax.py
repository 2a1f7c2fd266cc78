"""An invoice's figures: per line and in total its amount, discount, tax and total.

One rounding rule, applied once per rate (docs/ledger.md, "Tax, discounts and totals"):

- A line's amount is quantity x unit price, half-up to the cent. The subtotal is their sum.
- A discount line's discount is its amount, or its percent of the subtotal half-up to the cent.
  Discounts are spread over the item lines in proportion to their amounts (each share half-up,
  the last line taking what rounding left, so the shares sum exactly).
- When the billing system sends no tax figures, the tax of each rate of each tax region is
  computed once, on the region's taxable net (its lines' amounts less their share of the
  taxable discounts), and rounded half-up to the cent:
  exclusive prices: net x rate / 100; inclusive prices: net x rate / (100 + the region's
  combined rate), which is gross - gross / (1 + rate) for a single rate. Each region's tax is
  then spread over its lines in proportion to their taxable net, the same way as discounts.
- When it sends them (`tax_amount` per line, `tax_total` per invoice, or both), they are taken
  as given: a `tax_total` alone is spread over the taxed lines in proportion. A taxed line is
  one in a region that taxes (a rate above 0, or a rate the ledger does not know); tax given
  where nothing is taxed (a `tax_total` with no taxed line, a `tax_amount` on a line with no
  region or a 0 % one) is a problem: it would be tax on lines QuickBooks holds as untaxed.
- Total: exclusive prices, subtotal - discount + tax; inclusive, subtotal - discount (the tax is
  inside the prices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from qbsync import money as m
from qbsync.ledger.models import DiscountLineIn, InvoiceIn, LineIn

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

Rates = list[tuple[str, Decimal]]


@dataclass(frozen=True)
class TaxLine:
    """The tax of one rate of one region on an invoice."""

    region: str
    name: str
    rate: Decimal | None  # None: the billing system's figure, no rate known
    base: Decimal
    amount: Decimal


@dataclass
class Figures:
    """What an invoice comes to. Item line lists follow the file's item lines in order."""

    amounts: list[Decimal]
    line_discounts: list[Decimal]
    line_taxes: list[Decimal]
    line_totals: list[Decimal]
    discounts: list[Decimal]  # one per discount line, in order
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    taxes: list[TaxLine] = field(default_factory=list)
    unrated: list[str] = field(default_factory=list)  # regions whose tax had no rate to use
    problems: list[tuple[tuple[str | int, ...], str]] = field(default_factory=list)
    # Tax given where nothing is taxed: a problem for an invoice being issued; one the ledger
    # issued before this was checked stays as it was (it cannot change, and must still void).
    untaxed: list[tuple[tuple[str | int, ...], str]] = field(default_factory=list)


def _sum(values: list[Decimal]) -> Decimal:
    return sum(values, ZERO)


def figures(inv: InvoiceIn, rates: dict[str, Rates | None]) -> Figures:
    """The invoice's figures; `rates` gives each tax region's rates (None: no rate). Problems
    (a discount above the subtotal, tax_total disagreeing with the lines) are returned with the
    place in the file they concern."""
    items: list[LineIn] = []
    discount_lines: list[tuple[int, DiscountLineIn]] = []
    amounts: list[Decimal] = []
    given = False  # a line carries the billing system's tax_amount
    for index, line in enumerate(inv.lines):
        if isinstance(line, LineIn):
            items.append(line)
            amounts.append(m.line_amount(line.quantity, line.unit_price))
            given = given or line.tax_amount is not None
        else:
            discount_lines.append((index, line))
    problems: list[tuple[tuple[str | int, ...], str]] = []
    untaxed: list[tuple[tuple[str | int, ...], str]] = []
    subtotal = _sum(amounts)

    discounts = [
        d.amount if d.amount is not None else m.cents(subtotal * (d.percent or 0) / 100)
        for _, d in discount_lines
    ]
    discount = _sum(discounts)
    if discount_lines:
        taxable_discount = _sum(
            [v for v, (_, d) in zip(discounts, discount_lines, strict=True) if d.taxable]
        )
        if discount > subtotal:
            problems.append(
                (
                    ("lines", discount_lines[-1][0]),
                    f"the discounts ({m.text(discount)}) exceed the item lines' sum "
                    f"({m.text(subtotal)})",
                )
            )
            taxable_discount = discount = min(discount, subtotal)
        weights = [a if a > 0 else ZERO for a in amounts]
        line_discounts = m.allocate(discount, weights)
        taxable_shares = m.allocate(taxable_discount, weights)
        nets = [a - s for a, s in zip(amounts, taxable_shares, strict=True)]
    else:  # most invoices: no discount to spread, each line's net is its amount
        line_discounts = [ZERO] * len(amounts)
        nets = amounts

    taxes: list[TaxLine] = []
    unrated: list[str] = []
    if given or inv.tax_total is not None:
        # Only a line in a region that taxes can carry tax: one with a rate above 0, or one
        # whose rate the ledger does not know (the billing system's figure is then the tax).
        taxing = [_taxing(line, rates) for line in items]
        if given:
            line_taxes = [
                line.tax_amount if line.tax_amount is not None else ZERO for line in items
            ]
            for position, (line, tax, taxed) in enumerate(
                zip(items, line_taxes, taxing, strict=True)
            ):
                if tax != 0 and not taxed:
                    untaxed.append(
                        (
                            ("lines", _item_index(inv, position), "tax_amount"),
                            f"tax_amount {m.text(tax)} on a line {_untaxed(line)}, which "
                            "carries 0.00 of tax; give the line a region that taxes, or leave "
                            "tax_amount out",
                        )
                    )
            if inv.tax_total is not None and inv.tax_total != _sum(line_taxes):
                problems.append(
                    (
                        ("tax_total",),
                        f"tax_total {m.text(inv.tax_total)} differs from the sum of the lines' "
                        f"tax_amount ({m.text(_sum(line_taxes))})",
                    )
                )
        else:
            assert inv.tax_total is not None
            weights = [
                (n if n > 0 else ZERO) if taxed else ZERO
                for n, taxed in zip(nets, taxing, strict=True)
            ]
            if _sum(weights) == 0:  # the taxed lines were discounted to nothing
                weights = [Decimal(1) if taxed else ZERO for taxed in taxing]
            if inv.tax_total != 0 and not any(taxing):
                untaxed.append(
                    (
                        ("tax_total",),
                        f"tax_total {m.text(inv.tax_total)} on an invoice none of whose lines is "
                        "taxed (they carry 0.00 of tax: no line has a tax region, or only "
                        "regions at 0 %); give the taxed lines a region that taxes, or leave "
                        "tax_total out",
                    )
                )
                line_taxes = [ZERO] * len(items)
            else:
                line_taxes = m.allocate(inv.tax_total, weights)
        by_region: dict[str, tuple[Decimal, Decimal]] = {}
        for line, net, tax in zip(items, nets, line_taxes, strict=True):
            if line.tax_region is not None or tax != 0:
                key = line.tax_region or ""
                base, amount = by_region.get(key, (ZERO, ZERO))
                by_region[key] = (base + net, amount + tax)
        for region, (base, amount) in by_region.items():
            taxes.append(TaxLine(region, region, None, base, amount))
    else:
        line_taxes = [ZERO] * len(items)
        regions: dict[str, list[int]] = {}
        for position, line in enumerate(items):
            if line.tax_region is not None:
                regions.setdefault(line.tax_region, []).append(position)
        for region, positions in regions.items():
            region_rates = rates.get(region)
            if region_rates is None:
                unrated.append(region)
                continue
            base = _sum([nets[p] for p in positions])
            if inv.amounts == "inclusive":
                divisor = 100 + sum((r for _, r in region_rates), Decimal(0))
            else:
                divisor = HUNDRED
            region_tax = ZERO
            for name, rate in region_rates:
                amount = m.cents(base * rate / divisor)
                taxes.append(TaxLine(region, name, rate, base, amount))
                region_tax += amount
            shares = m.allocate(region_tax, [nets[p] if nets[p] > 0 else ZERO for p in positions])
            for p, share in zip(positions, shares, strict=True):
                line_taxes[p] = share

    tax = _sum(line_taxes)
    if inv.amounts == "inclusive":
        line_totals = [a - d for a, d in zip(amounts, line_discounts, strict=True)]
        total = subtotal - discount
    else:
        line_totals = [
            a - d + t for a, d, t in zip(amounts, line_discounts, line_taxes, strict=True)
        ]
        total = subtotal - discount + tax
    return Figures(
        amounts,
        line_discounts,
        line_taxes,
        line_totals,
        discounts,
        subtotal,
        discount,
        tax,
        total,
        taxes,
        unrated,
        problems,
        untaxed,
    )


def _taxing(line: LineIn, rates: dict[str, Rates | None]) -> bool:
    """Whether a line's tax region taxes it: a rate above 0, or a rate the ledger does not know
    (a region without one, whose tax is the billing system's or QuickBooks')."""
    if line.tax_region is None:
        return False
    region_rates = rates.get(line.tax_region)
    return region_rates is None or sum((r for _, r in region_rates), Decimal(0)) > 0


def _untaxed(line: LineIn) -> str:
    """Why a line carries no tax, in words."""
    if line.tax_region is None:
        return "with no tax region"
    return f"in tax region {line.tax_region} at 0 %"


def _item_index(inv: InvoiceIn, position: int) -> int:
    """The index among all the invoice's lines of its `position`-th item line."""
    return [i for i, line in enumerate(inv.lines) if isinstance(line, LineIn)][position]


def home_total(total: Decimal, exchange_rate: Decimal | None) -> Decimal | None:
    """The total in the home currency (total x exchange rate, half-up to the cent)."""
    return None if exchange_rate is None else m.cents(total * exchange_rate)
