"""Tax arithmetic as the simulator models QuickBooks: discounts spread over tax codes, tax per
rate on the document's taxable net, tax taken out of tax-inclusive amounts, and the rate that
automated sales tax picks from an address.

Rounding (QuickBooks' documentation is silent on the order of rounding; this is the rule
modelled, see docs/qbo-tax.md):

- tax-exclusive: for each TaxRate, the taxable net of every line whose tax code carries that
  rate is summed over the document (after discounts), and the tax is that net times the rate,
  rounded half-up to the cent, once per rate;
- tax-inclusive: for each tax code, the gross of its lines (after discounts) is split into net
  = gross * 100 / (100 + sum of the code's rates), half-up to the cent, and tax = gross - net;
  a code with several rates gives each rate net * rate half-up, the last rate taking the cent
  left so that the code's taxes add up to gross - net;
- a discount is spread over the tax codes in proportion to their amounts, half-up to the cent,
  the last code taking what is left, so the parts add up to the discount exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from qbsync.sim.values import cents

ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Rate:
    id: str
    name: str
    percent: Decimal


@dataclass
class RateTotal:
    rate: Rate
    net: Decimal
    tax: Decimal


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` split in proportion to `weights`, to the cent, adding up to `total` exactly."""
    if not weights:
        return []
    whole = sum(weights, ZERO)
    if whole == 0:
        return [ZERO] * (len(weights) - 1) + [total]
    parts = [cents(total * w / whole) for w in weights[:-1]]
    parts.append(total - sum(parts, ZERO))
    return parts


def tax_exclusive(nets: dict[str, Decimal], rates: dict[str, list[Rate]]) -> list[RateTotal]:
    """Tax per rate on the document's taxable net, from each tax code's net."""
    per: dict[str, RateTotal] = {}
    for code, net in nets.items():
        for rate in rates.get(code, []):
            entry = per.setdefault(rate.id, RateTotal(rate, ZERO, ZERO))
            entry.net += net
    for entry in per.values():
        entry.tax = cents(entry.net * entry.rate.percent / HUNDRED)
    return list(per.values())


def tax_inclusive(
    grosses: dict[str, Decimal], rates: dict[str, list[Rate]]
) -> tuple[dict[str, Decimal], list[RateTotal]]:
    """Each tax code's net taken out of its gross, and the tax per rate."""
    nets: dict[str, Decimal] = {}
    per: dict[str, RateTotal] = {}
    for code, gross in grosses.items():
        code_rates = rates.get(code, [])
        combined = sum((r.percent for r in code_rates), ZERO)
        net = cents(gross * HUNDRED / (HUNDRED + combined))
        nets[code] = net
        left = gross - net
        for n, rate in enumerate(code_rates):
            tax = left if n == len(code_rates) - 1 else cents(net * rate.percent / HUNDRED)
            left -= tax
            entry = per.setdefault(rate.id, RateTotal(rate, ZERO, ZERO))
            entry.net += net
            entry.tax += tax
    return nets, list(per.values())


# Automated sales tax: QuickBooks picks the rates from the address (the invoice's ShipAddr,
# else its BillAddr, else the customer's). The simulator's rule is a fixed table keyed by
# (state, city) and then by state alone; an address it does not know is taxed at nothing.
# Each entry names TaxRate names seeded by the `us-ast` profile.
AST_JURISDICTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("NY", "NEW YORK"): ("NY State", "New York City", "NY MCTD"),
    ("NY", ""): ("NY State",),
    ("CA", "LOS ANGELES"): ("CA State", "Los Angeles County District"),
    ("CA", ""): ("CA State",),
    ("TX", "AUSTIN"): ("TX State", "Austin City"),
    ("TX", ""): ("TX State",),
    ("OR", ""): (),
}


def ast_rate_names(state: str, city: str) -> tuple[str, ...] | None:
    """The TaxRate names automated sales tax applies at an address; None when unknown."""
    key = (state.strip().upper(), city.strip().upper())
    if key in AST_JURISDICTIONS:
        return AST_JURISDICTIONS[key]
    return AST_JURISDICTIONS.get((key[0], ""))
