"""US QuickBooks has no tax-inclusive prices: an invoice whose prices hold its tax is refused
before anything is sent (an exception naming why), rather than created there with the tax
added again on top. One with no tax in it goes as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.test_payload_tax import check, doc, export, item


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_a_us_invoice_with_tax_in_its_prices_is_refused_before_sending(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = {
        "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
        "tax_regions": [
            {"id": "TR-NYS", "name": "NY State", "rate": "4.375"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
        "invoices": [
            # 104.38 holds 4.375 %: 104.38 x 4.375 / 104.375 = 4.375... -> 4.38
            doc("7301", "C-1", [item("S-SUP", "1", "104.38", "TR-NYS")], amounts="inclusive"),
            # nothing taxed: its prices are its amounts either way
            doc("7302", "C-1", [item("S-CON", "2", "60.00", "TR-EX")], amounts="inclusive"),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-1": "Hudson Bakery"},
        {"TR-NYS": "NY State", "TR-EX": "NON"},
        failed=1,
    )
    assert set(docs) == {"7302"}  # nothing of 7301 reached QuickBooks
    check(docs, {"7302": ("120.00", "0.00")})
    (found,) = run_json("exceptions", "list", "--open", "--kind", "export_failing")["data"]
    assert found["message"] == (
        "invoice 7301: its prices include tax (4.38 of 104.38), which a US QuickBooks company "
        "cannot hold: it would add the tax again on top"
    ), json.dumps(found)
