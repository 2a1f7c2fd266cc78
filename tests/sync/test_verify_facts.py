"""The company's tax and currency preferences are never hours stale: read once per exporting
cycle, again when QuickBooks refuses a document over a currency or tax preference, and by
`qbsync doctor --refresh`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from qbsync.companies.records import read_facts, write_facts
from qbsync.config import CompanySettings, SyncSettings
from qbsync.qbo.errors import QboError
from qbsync.sync.context import CycleContext
from qbsync.sync.outbound.verify import after_refusal, preference_error
from qbsync.sync.payloads import CompanyFacts
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run
from tests.sync.test_payload_tax import doc, export, item


def stale(company: str, **changes: Any) -> None:
    """A copy of the facts read (just now, as far as the store knows) but wrong."""
    with Workspace() as ws:
        write_facts(ws.store, company, {**CompanyFacts().__dict__, **changes})


def stored(company: str) -> dict[str, Any]:
    with Workspace() as ws:
        found = read_facts(ws.store, company)
    assert found is not None
    return found[0]


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_an_exporting_cycle_reads_the_preferences_again(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    # The store's copy says multi-currency is off (it was turned on since): a EUR invoice built
    # from it would be refused before sending. The cycle reads the preferences again.
    stale(connected_company.key, multi_currency=False)
    ledger = {
        "clients": [{"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"}],
        "tax_regions": [{"id": "TR-EX", "name": "Exempt"}],
        "invoices": [doc("7451", "C-EU", [item("S-CON", "1", "120.00", "TR-EX")], currency="EUR")],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-EU": "Berlin Robotics GmbH"},
        {"TR-EX": "NON"},
    )
    assert docs["7451"]["CurrencyRef"]["value"] == "EUR"
    assert stored(connected_company.key)["multi_currency"] is True


class FakeClient:
    def __init__(self) -> None:
        self.reads = 0

    async def company_info(self) -> dict[str, Any]:
        self.reads += 1
        return {"Country": "GB"}

    async def preferences(self) -> dict[str, Any]:
        return {
            "CurrencyPrefs": {"HomeCurrency": {"value": "GBP"}, "MultiCurrencyEnabled": True},
            "TaxPrefs": {"PartnerTaxEnabled": False},
        }


def test_a_currency_or_tax_refusal_reads_the_preferences_again() -> None:
    currency = QboError("refused", qbo_code="6000", element="CurrencyRef", detail="x")
    vat = QboError(
        "refused", qbo_code="6000", detail="Make sure all your transactions have a VAT rate"
    )
    other = QboError("refused", qbo_code="6140", detail="Duplicate Document Number Error")
    note = QboError("refused", qbo_code="2050", element="PrivateNote", detail="too long")
    assert preference_error(currency) and preference_error(vat)
    assert not preference_error(other) and not preference_error(note)

    client = FakeClient()
    with Workspace() as ws:
        ctx = CycleContext(
            db=ws.store,
            company="acme",
            settings=CompanySettings(),
            sync=SyncSettings(),
            client=client,
        )
        asyncio.run(ctx.facts())
        assert client.reads == 1
        asyncio.run(ctx.facts())  # one read per cycle
        assert client.reads == 1
        asyncio.run(after_refusal(ctx, [other]))
        assert client.reads == 1
        asyncio.run(after_refusal(ctx, [other, currency]))
        assert client.reads == 2
        found = read_facts(ws.store, "acme")
    assert found is not None and found[0]["home_currency"] == "GBP"


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_doctor_refresh_reads_the_preferences_again(
    connected_company: ConnectedCompany,
) -> None:
    stale(connected_company.key, home_currency="CAD", multi_currency=False)
    result = run("doctor", "--refresh", "--json")
    assert result.exit_code in (0, 1), result.stderr  # 1: some other check fails
    checks = {c["name"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    refreshed = checks["preferences refresh"]
    assert refreshed["status"] == "ok", refreshed
    assert "home currency USD" in refreshed["detail"]
    assert "multi-currency on" in refreshed["detail"]
    facts = stored(connected_company.key)
    assert (facts["home_currency"], facts["multi_currency"]) == ("USD", True)
    assert "home currency USD" in json.dumps(checks["multi-currency"])
