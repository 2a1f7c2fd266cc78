"""A local payment in a foreign currency with the ledger's home amount is booked in QuickBooks
at the rate that amount implies, not at QuickBooks' rate of the day."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.sync.helpers import link
from tests.sync.test_payload_tax import doc, export, item


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_payments_home_amount_sets_its_exchange_rate(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = {
        "clients": [{"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"}],
        "tax_regions": [{"id": "TR-NY", "name": "NY State", "rate": "4"}],
        "invoices": [
            # EUR 99.98 at 4 % = 4.00: 103.98
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
                "method": "check",
                "home_amount": "119.58",
            }
        ],
    }
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
