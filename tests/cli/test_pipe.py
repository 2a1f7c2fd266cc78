"""Under a pipe at 60 columns, every listing prints its money, ids and dates whole: each value
the same command gives with --json is found, uncut, in the table it prints."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run
from tests.sync.helpers import map_demo

AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@pytest.fixture
def busy(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    """A company with exports, a pushed payment, an open exception (an unmapped client) and a
    cycle in its history."""
    map_demo(connected_company.key, skip=(("customers", "CL-3"),))
    result = run("sync", "run", "--json")
    assert result.exit_code == 0, result.stdout
    return connected_company


def _listing(args: list[str]) -> tuple[list[dict[str, Any]], str]:
    as_json = run(*args, "--json")
    assert as_json.exit_code == 0, as_json.stdout
    table = run(*args)
    assert table.exit_code == 0, table.stderr
    return json.loads(as_json.stdout)["data"], table.stdout


def _whole(value: Any) -> list[str]:
    """The forms of a value a table shows: ids and amounts as they are, times to the second."""
    text = str(value)
    if DATE.match(text) and "T" in text:
        return [text[:19].replace("T", " "), text]  # history shows "YYYY-MM-DD HH:MM:SS"
    return [text]


LISTINGS = {
    # command: the fields that must come out whole
    ("invoices", "list"): ("id", "number", "date", "total", "paid", "balance"),
    ("payments", "list"): ("id", "invoice", "amount", "date", "qbo_id"),
    ("exceptions", "list"): ("id",),
    ("mappings", "list"): ("local_id", "qbo_id"),
    ("sync", "history"): ("id", "started_at"),
    ("companies", "list"): ("realm_id", "access_expires_at", "last_refresh_at"),
    ("qbo", "customers"): ("Id",),
}


@pytest.mark.parametrize("args", list(LISTINGS), ids=" ".join)
def test_a_listing_in_a_pipe_at_60_columns_cuts_nothing(
    busy: ConnectedCompany, monkeypatch: pytest.MonkeyPatch, args: tuple[str, str]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    rows, shown = _listing(list(args))
    assert rows, f"{' '.join(args)} listed nothing: the test would prove nothing"
    assert "…" not in shown, shown
    checked = 0
    for row in rows:
        for field in LISTINGS[args]:
            assert field in row, (field, sorted(row))
            if row[field] is None:
                continue
            forms = _whole(row[field])
            assert any(form in shown for form in forms), (field, forms, shown)
            checked += 1
    amounts = [v for r in rows for v in r.values() if isinstance(v, str) and AMOUNT.match(v)]
    assert all(a in shown for a in amounts), (amounts, shown)
    assert checked >= len(rows)
