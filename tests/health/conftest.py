"""Companies in three states for the health commands: healthy, degraded, disconnected."""

from __future__ import annotations

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import link, map_demo


def sync(code: int = 0) -> dict:
    return run_json("sync", "run", code=code)["data"]["cycles"][0]


@pytest.fixture
def healthy(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    """Connected, imported, mapped, synced: nothing waits."""
    map_demo(connected_company.key)
    assert sync()["result"] == "succeeded"
    return connected_company


@pytest.fixture
def degraded(healthy: ConnectedCompany) -> ConnectedCompany:
    """An invoice edited in QuickBooks (drift, an open exception) and a local payment queued."""
    inv = link(healthy.key, "invoice", "INV-1003")
    assert inv
    healthy.control.edit_invoice(healthy.realm_id, inv["qbo_id"], {"DocNumber": "1003-X"})
    assert sync()["stats"]["drift_found"] == 1
    run_json(
        "payments",
        "record",
        "--invoice",
        "INV-1003",
        "--amount",
        "10.00",
        "--date",
        "2026-11-02",
        "--method",
        "check",
        "--id",
        "PAY-9",
    )
    return healthy


@pytest.fixture
def disconnected(healthy: ConnectedCompany) -> ConnectedCompany:
    run_json("disconnect", "--company", healthy.key, "--yes")
    return healthy
