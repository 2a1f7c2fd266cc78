"""Splitting an amount over lines in proportion: the shares always sum to the amount exactly,
to the cent, and nothing split gives zeros."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from qbsync.money import allocate

cents_ = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
weights_ = st.lists(
    st.integers(min_value=0, max_value=1_000_000).map(lambda c: Decimal(c) / 100),
    min_size=1,
    max_size=8,
)


@given(cents_, weights_)
def test_shares_sum_to_the_amount_to_the_cent(total: Decimal, weights: list[Decimal]) -> None:
    shares = allocate(total, weights)
    assert len(shares) == len(weights)
    if sum(weights) == 0:
        assert shares == [Decimal("0.00")] * len(weights)
        return
    assert sum(shares) == total
    assert all(s == s.quantize(Decimal("0.01")) for s in shares)
    assert all(s == 0 for s, w in zip(shares, weights, strict=True) if w == 0)


def test_nothing_to_split_gives_zeros() -> None:
    assert allocate(Decimal("0.00"), [Decimal("10"), Decimal("5")]) == [Decimal("0.00")] * 2
    assert allocate(Decimal("10.00"), [Decimal("3"), Decimal("3"), Decimal("3")]) == [
        Decimal("3.33"),
        Decimal("3.33"),
        Decimal("3.34"),
    ]


def _general_rule(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    # The rule as written before its shortcuts: each share half-up, the last weighted line
    # taking what rounding left.
    whole = sum(weights, Decimal(0))
    if whole == 0:
        return [Decimal("0.00") for _ in weights]
    shares = [
        (total * w / whole).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") for w in weights
    ]
    last = max(i for i, w in enumerate(weights) if w != 0)
    shares[last] = total - sum((s for i, s in enumerate(shares) if i != last), Decimal("0.00"))
    return shares


@given(cents_, weights_)
def test_shortcuts_give_the_general_rule_digit_for_digit(
    total: Decimal, weights: list[Decimal]
) -> None:
    # Stored as text: 8.25 and 8.250 are different rows, so equal is not enough.
    assert [str(s) for s in allocate(total, weights)] == [
        str(s) for s in _general_rule(total, weights)
    ]
    assert [str(s) for s in allocate(total, weights[:1])] == [
        str(s) for s in _general_rule(total, weights[:1])
    ]
