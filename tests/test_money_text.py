"""A quantity or a unit price read from a file has one text, whatever zeros the file wrote:
trailing zeros trimmed, then at least 0 (quantity) or 2 (unit price) places. Held to that rule
said with strings alone, so that a faster reading cannot drift from it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbsync import money as m


def _canonical(written: str, min_places: int) -> str:
    negative = written.startswith("-")
    whole, _, fraction = written.lstrip("+-").partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    zero = whole == "0" and not fraction.strip("0")
    return ("-" if negative and not zero else "") + whole + (f".{fraction}" if fraction else "")


numbers = st.builds(
    lambda sign, whole, fraction, zeros: (
        f"{sign}{whole}{'.' if fraction or zeros else ''}{fraction}{'0' * zeros}"
    ),
    st.sampled_from(["", "-", "+"]),
    st.integers(min_value=0, max_value=999_999_999_999).map(str)
    | st.sampled_from(["0", "00", "007"]),
    st.text("0123456789", max_size=4),
    st.integers(min_value=0, max_value=3),
)


@given(numbers)
def test_quantity_and_unit_price_text_follow_the_rule(written: str) -> None:
    assert m.text(m.quantity(written)) == _canonical(written, 0)
    assert m.text(m.unit_price(written)) == _canonical(written, 2)


@pytest.mark.parametrize(
    ("written", "quantity", "unit_price"),
    [
        ("10", "10", "10.00"),
        ("1.5000", "1.5", "1.50"),
        ("0.0125", "0.0125", "0.0125"),
        ("-0.00", "0", "0.00"),
        ("150.00", "150", "150.00"),
        ("7.50", "7.5", "7.50"),
    ],
)
def test_worked_examples(written: str, quantity: str, unit_price: str) -> None:
    assert (m.text(m.quantity(written)), m.text(m.unit_price(written))) == (quantity, unit_price)


@pytest.mark.parametrize("written", ["1.00001", "1_000", "1e3x", "NaN", "1000000000000"])
def test_what_is_refused_still_is(written: str) -> None:
    with pytest.raises(ValueError):
        m.quantity(written)


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.builds(
        lambda digits, exp: Decimal(f"{digits}E{exp}"),
        st.integers(-(10**9), 10**9),
        st.integers(-12, 12),
    )
)
def test_stored_text_is_plain_decimal_for_any_value(value: Decimal) -> None:
    assert m.text(value) == format(value, "f")
    assert "E" not in m.text(value).upper()
