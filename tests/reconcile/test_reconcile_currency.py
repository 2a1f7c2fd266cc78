"""`qbsync reconcile` in a company with more than one currency (the simulator's `multi-currency`
seed: USD home, EUR and GBP customers). A document in another currency is held to its home
total and a payment to its home amount, to the cent, where the ledger holds those figures; the
receivables are given per currency and in the home currency, never added across currencies.

The ledger (figures by hand):
- 7801, EUR, 2 x 485.00 + 4 % tax 38.80 = 1008.80, at 1.09237 USD: 1101.98 (1101.9828...)
- 7802, USD, 2 x 250.00 + 4 % tax 20.00 = 520.00
- P-7801 on 7801: 500.00 EUR, home amount 550.00 USD (pushed at the rate 1.1 that implies)
Owed: EUR 508.80, USD 520.00; in USD 520.00 + 508.80 x 1.09237 (555.7978...) = 1075.80.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qbsync.reconcile.report import COLUMNS
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run, run_json
from tests.sync.helpers import link
from tests.sync.test_payload_tax import doc, export, item

MULTI = pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
CLIENTS = {"C-EU": "Berlin Robotics GmbH", "C-US": "Hudson Bakery"}


def _ledger(*, exchange_rate: str | None = "1.09237", home_amount: str | None = "550.00") -> Any:
    rate = {} if exchange_rate is None else {"exchange_rate": exchange_rate}
    payment: dict[str, Any] = {
        "id": "P-7801",
        "invoice": "D-7801",
        "amount": "500.00",
        "date": "2026-11-20",
        "method": "check",
    }
    if home_amount is not None:
        payment["home_amount"] = home_amount
    return {
        "clients": [
            {"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"},
            {"id": "C-US", "name": "Hudson Bakery", "currency": "USD"},
        ],
        "tax_regions": [{"id": "TR-NY", "name": "NY State", "rate": "4"}],
        "invoices": [
            doc("7801", "C-EU", [item("S-SUP", "2", "485.00", "TR-NY")], currency="EUR", **rate),
            doc("7802", "C-US", [item("S-SUP", "2", "250.00", "TR-NY")]),
        ],
        "payments": [payment],
    }


def _exported(company: ConnectedCompany, tmp_path: Path, **kw: Any) -> None:
    export(tmp_path, company, _ledger(**kw), CLIENTS, {"TR-NY": "NY State"})


def _qbo_id(company: ConnectedCompany, kind: str, local_id: str) -> str:
    found = link(company.key, kind, local_id)
    assert found, (kind, local_id)
    return str(found["qbo_id"])


def _reconcile(code: int) -> dict[str, Any]:
    data: dict[str, Any] = run_json("reconcile", code=code)["data"]
    return data


def _row(data: dict[str, Any], ledger_id: str) -> dict[str, Any]:
    [found] = [r for r in data["rows"] if r["ledger_id"] == ledger_id]
    return found


def _receivables(summary: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        code: (Decimal(v["ledger"]), Decimal(v["quickbooks"]))
        for code, v in summary["receivables"].items()
    }


@MULTI
def test_two_currencies_tie_home_figures_and_all(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    _exported(connected_company, tmp_path)
    data = _reconcile(0)
    assert [r for r in data["rows"] if r["outcome"] != "tied"] == []
    eur = _row(data, "D-7801")
    assert (eur["ledger_total"], eur["qbo_total"]) == ("1008.80", "1008.80")
    assert (eur["ledger_home_total"], eur["qbo_home_total"]) == ("1101.98", "1101.98")
    usd = _row(data, "D-7802")  # in the home currency: nothing to convert
    assert (usd["ledger_home_total"], usd["qbo_home_total"]) == (None, None)
    pay = _row(data, "P-7801")
    assert (pay["ledger_home_total"], pay["qbo_home_total"]) == ("550.00", "550.00")

    summary = data["summary"]
    assert summary["ties"] is True and summary["home_currency"] == "USD"
    # Per currency, never 508.80 + 520.00 = 1028.80 of nothing in particular.
    assert _receivables(summary) == {
        "EUR": (Decimal("508.80"), Decimal("508.80")),
        "USD": (Decimal("520.00"), Decimal("520.00")),
    }
    assert Decimal(summary["ar_ledger"]) == Decimal(summary["ar_quickbooks"]) == Decimal("1075.80")
    assert Decimal(summary["ar_difference"]) == 0
    human = run("reconcile")
    assert human.exit_code == 0
    text = " ".join(human.stdout.split())
    assert "receivables in EUR: ledger 508.80, QuickBooks 508.80 (difference 0.00)" in text
    assert "receivables in USD: ledger 520.00, QuickBooks 520.00 (difference 0.00)" in text
    assert "ledger 1075.80, QuickBooks 1075.80" in text
    assert "everything ties" in text


@MULTI
def test_an_exchange_rate_edited_in_quickbooks_does_not_tie(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _exported(company, tmp_path)
    qbo_id = _qbo_id(company, "invoice", "D-7801")
    company.control.edit(company.realm_id, "Invoice", qbo_id, {"ExchangeRate": "1.5"})

    data = _reconcile(1)
    assert [(r["ledger_id"], r["outcome"]) for r in data["rows"] if r["outcome"] != "tied"] == [
        ("D-7801", "differs")
    ]
    row = _row(data, "D-7801")
    assert row["differences"] == ["home_total"]  # the same 1008.80 EUR, booked at 1.5
    assert (row["ledger_home_total"], row["qbo_home_total"]) == ("1101.98", "1513.20")
    assert Decimal(row["qbo_home_total"]) - Decimal(row["ledger_home_total"]) == Decimal("411.22")
    assert row["note"] == (
        "home total 1101.98 in the ledger (1008.80 at 1.09237), "
        "1513.20 in QuickBooks (1008.80 at 1.5)"
    )
    summary = data["summary"]
    assert summary["ties"] is False and summary["differing"] == 1
    # EUR still ties; in USD QuickBooks holds 508.80 x 1.5 = 763.20 against 555.80.
    assert _receivables(summary)["EUR"] == (Decimal("508.80"), Decimal("508.80"))
    assert (Decimal(summary["ar_ledger"]), Decimal(summary["ar_quickbooks"])) == (
        Decimal("1075.80"),
        Decimal("1283.20"),
    )
    assert Decimal(summary["ar_difference"]) == Decimal("-207.40")

    table = list(csv.DictReader(io.StringIO(run("reconcile", "--format", "csv").stdout)))
    assert list(table[0]) == COLUMNS
    assert COLUMNS[-3:] == ["note", "ledger_home_total", "qbo_home_total"]  # added at the end
    [line] = [r for r in table if r["ledger_id"] == "D-7801"]
    assert (line["differences"], line["ledger_home_total"], line["qbo_home_total"]) == (
        "home_total",
        "1101.98",
        "1513.20",
    )
    human = run("reconcile")
    assert human.exit_code == 1
    assert "everything ties" not in human.stdout
    assert "1101.98" in human.stdout and "1513.20" in human.stdout


@MULTI
def test_a_payments_home_amount_edited_in_quickbooks_does_not_tie(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _exported(company, tmp_path)
    qbo_id = _qbo_id(company, "payment", "P-7801")
    company.control.edit(company.realm_id, "Payment", qbo_id, {"ExchangeRate": "1.12"})

    data = _reconcile(1)
    assert [(r["ledger_id"], r["outcome"]) for r in data["rows"] if r["outcome"] != "tied"] == [
        ("P-7801", "differs")
    ]
    row = _row(data, "P-7801")
    assert row["differences"] == ["home_total"]
    # 500.00 EUR at 1.12 = 560.00 USD in QuickBooks; 550.00 in the ledger.
    assert (row["ledger_total"], row["qbo_total"]) == ("500.00", "500.00")
    assert (row["ledger_home_total"], row["qbo_home_total"]) == ("550.00", "560.00")
    assert row["note"] == "home amount 550.00 in the ledger, 560.00 in QuickBooks (500.00 at 1.12)"
    assert data["summary"]["ties"] is False


@MULTI
def test_where_the_ledger_holds_no_home_figure_none_is_invented(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    """No exchange rate on the EUR invoice (QuickBooks books it at its own rate of the day,
    1.0850 in the simulator) and no home amount on the payment: every row ties, and the
    receivables in USD are known on QuickBooks' side only."""
    _exported(connected_company, tmp_path, exchange_rate=None, home_amount=None)
    data = _reconcile(0)
    assert [r for r in data["rows"] if r["outcome"] != "tied"] == []
    eur = _row(data, "D-7801")
    assert (eur["ledger_home_total"], eur["qbo_home_total"]) == (None, "1094.55")  # x 1.0850
    assert _row(data, "P-7801")["ledger_home_total"] is None

    summary = data["summary"]
    assert summary["ties"] is True
    assert _receivables(summary) == {
        "EUR": (Decimal("508.80"), Decimal("508.80")),
        "USD": (Decimal("520.00"), Decimal("520.00")),
    }
    # 520.00 + 508.80 x 1.0850 (552.048) = 1072.05; the ledger cannot say it without a rate.
    assert summary["ar_ledger"] is None and summary["ar_difference"] is None
    assert Decimal(summary["ar_quickbooks"]) == Decimal("1072.05")
    human = " ".join(run("reconcile").stdout.split())
    assert "ledger unknown, QuickBooks 1072.05 (difference unknown)" in human
    assert "None" not in human
