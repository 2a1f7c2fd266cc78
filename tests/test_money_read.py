"""money(), quantity() and unit_price() read plain text (digits, a point, up to 4 places) on a
fast path: it must give what the whole way gives, to the digit and the exponent, and refuse
what the whole way refuses with the same words."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest

from qbsync import money as m

WHOLE_WAY: dict[str, Callable[[str], Decimal]] = {
    "money": lambda v: (m.to_decimal(v, m.MONEY_PLACES) + 0).quantize(m.CENT),
    "quantity": lambda v: m.normalize(m.to_decimal(v, m.RATE_PLACES), 0),
    "unit_price": lambda v: m.normalize(m.to_decimal(v, m.RATE_PLACES), 2),
}


def _texts() -> list[str]:
    wholes = ["0", "00", "7", "007", "45", "150", "999999999999", "1000000000000", "0999999999999"]
    places = ["", ".", ".0", ".5", ".05", ".00", ".50", ".125", ".100", ".0125", ".5000", ".00001"]
    plain = [w + p for w, p in itertools.product(wholes, places)]
    odd = ["-5", "-0", "-0.00", "+5", " 5", "5 ", "1e2", "1E-2", "1_000", "", ".5", "5..0"]
    return plain + odd + ["nan", "Infinity", "١٢٣", "12.5٠"]


def _outcome(read: Callable[[str], Decimal], text: str) -> tuple[str, str]:
    try:
        number = read(text)
    except ValueError as exc:
        return ("refused", str(exc))
    return ("read", repr(number))


@pytest.mark.parametrize("name", sorted(WHOLE_WAY))
def test_plain_text_reads_as_the_whole_way_reads_it(name: str) -> None:
    read = getattr(m, name)
    differ = [
        (text, _outcome(read, text), _outcome(WHOLE_WAY[name], text))
        for text in _texts()
        if _outcome(read, text) != _outcome(WHOLE_WAY[name], text)
    ]
    assert differ == []


def test_the_fast_path_keeps_each_readers_places() -> None:
    assert repr(m.money("45")) == "Decimal('45.00')"
    assert repr(m.money("45.5")) == "Decimal('45.50')"
    assert repr(m.unit_price("0.0125")) == "Decimal('0.0125')"
    assert repr(m.unit_price("150")) == "Decimal('150.00')"
    assert repr(m.quantity("7.50")) == "Decimal('7.5')"
    assert repr(m.quantity("007")) == "Decimal('7')"
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        m.money("10.125")
