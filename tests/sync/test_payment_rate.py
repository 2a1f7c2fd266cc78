"""A local payment in a foreign currency with the ledger's home amount is booked in QuickBooks
at the rate that amount implies, not at QuickBooks' rate of the day; what QuickBooks then holds
is checked against the ledger (`payment_mismatch`), after the push and after an edit there."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.helpers import link
from tests.sync.test_payload_tax import doc, export, item


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_payments_home_amount_sets_its_exchange_rate(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = _eur_ledger("119.58")
    export(
        tmp_path, connected_company, ledger, {"C-EU": "Berlin Robotics GmbH"}, {"TR-NY": "NY State"}
    )
    pushed = link(connected_company.key, "payment", "P-7501")
    assert pushed, "the payment was not pushed"
    payment = connected_company.control.get(
        connected_company.realm_id, "Payment", str(pushed["qbo_id"])
    )
    rate = Decimal(str(payment["ExchangeRate"]))
    assert rate == Decimal("1.15002885")  # 119.58 / 103.98, to eight places
    home = (Decimal(str(payment["TotalAmt"])) * rate).quantize(Decimal("0.01"))
    assert home == Decimal("119.58")


def _eur_ledger(home_amount: str) -> dict[str, object]:
    return {
        "clients": [{"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"}],
        "tax_regions": [{"id": "TR-NY", "name": "NY State", "rate": "4"}],
        "invoices": [
            doc(
                "7501",
                "C-EU",
                [item("S-SUP", "2", "49.99", "TR-NY")],
                currency="EUR",
                exchange_rate="1.1",
            ),
        ],
        "payments": [
            {
                "id": "P-7501",
                "invoice": "D-7501",
                "amount": "103.98",
                "date": "2026-11-20",
                "home_amount": home_amount,
            }
        ],
    }


def _mismatches() -> list[dict[str, object]]:
    found: list[dict[str, object]] = run_json(
        "exceptions", "list", "--open", "--kind", "payment_mismatch"
    )["data"]
    return found


def _cycle() -> None:
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_rate_edited_in_quickbooks_is_a_payment_mismatch_until_it_agrees_again(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    ny = {"TR-NY": "NY State"}
    export(tmp_path, company, _eur_ledger("119.58"), {"C-EU": "Berlin Robotics GmbH"}, ny)
    pushed = link(company.key, "payment", "P-7501")
    assert pushed, "the payment was not pushed"
    assert _mismatches() == []  # booked at the rate its home amount implies

    qbo_id = str(pushed["qbo_id"])
    company.control.edit(company.realm_id, "Payment", qbo_id, {"ExchangeRate": "1.12"})
    _cycle()
    [raised] = _mismatches()
    assert raised["subject_id"] == "P-7501"
    # 103.98 x 1.12 = 116.4576
    assert "home amount 119.58 in the ledger, 116.46 in QuickBooks" in str(raised["message"])
    _cycle()  # read again, nothing new: the same exception, not a second one
    assert [e["id"] for e in _mismatches()] == [raised["id"]]

    company.control.edit(company.realm_id, "Payment", qbo_id, {"ExchangeRate": "1.15002885"})
    _cycle()
    assert _mismatches() == []
    [closed] = run_json("exceptions", "list", "--kind", "payment_mismatch")["data"]
    assert (closed["id"], closed["status"]) == (raised["id"], "resolved")


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_home_amount_quickbooks_does_not_book_is_a_payment_mismatch_at_once(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    # A home amount below the payment's own in the home currency: QuickBooks books a payment in
    # its home currency at 1, whatever rate is sent, so the two books hold different figures.
    ledger = _eur_ledger("119.58")
    ledger["clients"] = [{"id": "C-US", "name": "Hudson Bakery", "currency": "USD"}]
    ledger["invoices"] = [doc("7502", "C-US", [item("S-SUP", "2", "49.99", "TR-NY")])]
    ledger["payments"] = [
        {
            "id": "P-7502",
            "invoice": "D-7502",
            "amount": "103.98",
            "date": "2026-11-20",
            "home_amount": "95.00",
        }
    ]
    company = connected_company
    export(tmp_path, company, ledger, {"C-US": "Hudson Bakery"}, {"TR-NY": "NY State"})
    assert link(company.key, "payment", "P-7502"), "the payment was not pushed"
    [raised] = _mismatches()
    assert raised["subject_id"] == "P-7502"
    assert "home amount 95.00 in the ledger, 103.98 in QuickBooks" in str(raised["message"])
