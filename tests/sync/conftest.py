"""Fixtures for the sync tests that need more than tests/fixtures gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qbsync.companies.connection import connect_company
from qbsync.qbo.authorize import headless_browser
from qbsync.sim.control import SimControl
from qbsync.sim.server import SimServer
from qbsync.workspace import Workspace
from tests.fixtures.qbo import COMPANY_KEY, ConnectedCompany, generous_limits, set_sim_app
from tests.support import run_json


@pytest.fixture
def file_company(sim_server: SimServer) -> Iterator[ConnectedCompany]:
    """A company connected with the secrets in the 0600 file store, so that `qbsync` in a
    subprocess (which cannot see the test's in-memory keyring) finds its tokens."""
    run_json("config", "set", "secrets", "file")
    with Workspace() as ws:
        set_sim_app(ws, sim_server)
        generous_limits(ws)
        connect_company(ws, COMPANY_KEY, "sim", sim_server.url, open_url=headless_browser)
    control = SimControl(sim_server.url, sim_server.admin_key)
    try:
        yield ConnectedCompany(COMPANY_KEY, sim_server, control, sim_server.realm_id)
    finally:
        control.close()
