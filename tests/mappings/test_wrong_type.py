"""A name that QuickBooks holds, but on a record of a type the mapping cannot use, is refused
for its type: not as if no record had that name."""

from __future__ import annotations

import pytest

from qbsync.mappings.resolve import ResolveError, Resolver
from tests.mappings.lists import DEMO_LISTS, CountingSource


@pytest.mark.parametrize(
    ("kind", "local_id", "name", "why"),
    [
        (
            "accounts",
            "deposit",
            "Services",
            "QuickBooks Account 'Services' (Id 3) is of type Income; the deposit account must be "
            "one of Bank, Other Current Asset",
        ),
        (
            "items",
            "S-HW",
            "hardware",
            "QuickBooks Item 'Hardware' (Id 9) is a Category; it cannot stand on an invoice line: "
            "choose a service or product item",
        ),
    ],
)
def test_a_record_of_the_wrong_type_is_named_with_its_type(
    kind: str, local_id: str, name: str, why: str
) -> None:
    with pytest.raises(ResolveError) as refused:
        Resolver(CountingSource(DEMO_LISTS)).resolve(kind, local_id, name)
    assert str(refused.value) == why


def test_a_name_no_record_holds_is_still_not_found() -> None:
    with pytest.raises(ResolveError) as refused:
        Resolver(CountingSource(DEMO_LISTS)).resolve("accounts", "deposit", "Savings")
    assert str(refused.value).startswith("no QuickBooks Account named 'Savings'")
