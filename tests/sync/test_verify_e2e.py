"""Verification over a real socket: `qbsync sim serve`'s server (uvicorn) with the uk-vat
profile, the company connected through the real OAuth flow. A one-cent disagreement is named
with both figures; the agreeing documents, paid in QuickBooks, come back paid to the cent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.sync.test_payload_tax import export
from tests.sync.test_verify import UK_LEDGER, assert_paid, open_exceptions, pay_in_quickbooks


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_uk_vat_verified_over_a_socket(served_company: ConnectedCompany, tmp_path: Path) -> None:
    docs = export(
        tmp_path,
        served_company,
        UK_LEDGER,
        {"C-1": "Avon Architects"},
        {"TR-S": "20.0% S", "TR-R": "5.0% R", "TR-EX": "Exempt"},
    )
    mismatch = open_exceptions("total_mismatch")
    assert set(mismatch) == {"7203"}
    assert "ledger 120.00 vs QuickBooks 119.99" in mismatch["7203"]["message"]
    pay_in_quickbooks(served_company, docs, "7201", "7202")
    assert_paid(docs, "7201", "7202")
    assert served_company.control.invariants() == []
