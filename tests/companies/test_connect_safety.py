"""Connecting safely, on the simulator's real OAuth flow (in-process, the pasted redirect): one
QuickBooks company per key, nothing written when a connect fails, the redirect URI printed; and
`companies remove`."""

from __future__ import annotations

import httpx
import pytest

from qbsync import paths
from qbsync.companies.connection import connect_company
from qbsync.companies.credentials import client_secret_name
from qbsync.companies.tokens import tokens_name
from qbsync.errors import QbsyncError, UsageError
from qbsync.sim.core import PLAYGROUND_REDIRECT
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany, connect, connect_realm, set_sim_app
from tests.fixtures.sim import InProcessSim
from tests.support import MemoryKeyring, run, run_json


def _pasted_flow(answer: str) -> dict:
    """connect_company's arguments for a person who pastes `answer` ("{landed}" is replaced
    with the URL the browser landed on)."""
    landed: list[str] = []

    def person(url: str) -> None:
        landed.append(httpx.get(url, follow_redirects=False).headers["location"])

    return {
        "redirect_uri": PLAYGROUND_REDIRECT,
        "open_url": person,
        "read_pasted": lambda label: answer.replace("{landed}", landed[-1]),
    }


def test_a_realm_bound_to_another_key_is_refused_and_nothing_is_written(
    connected_company: ConnectedCompany, memory_keyring: MemoryKeyring
) -> None:
    with Workspace() as ws:
        set_sim_app(ws, connected_company.server, "beta")
    before = paths.config_file().read_text()
    with Workspace() as ws, pytest.raises(UsageError) as refused:
        connect(ws, connected_company.server, "beta")  # the same QuickBooks company as acme
    assert refused.value.exit_code == 2
    assert refused.value.message == (
        f"QuickBooks company {connected_company.realm_id} is already connected as 'acme'; "
        "nothing was written (use --company acme)"
    )
    assert paths.config_file().read_text() == before
    assert ("qbsync", tokens_name("beta")) not in memory_keyring.items
    assert run_json("companies", "show", "beta")["data"]["state"] == "disconnected"


def test_a_failed_connect_writes_nothing_to_the_config(
    simulator: InProcessSim, memory_keyring: MemoryKeyring
) -> None:
    with Workspace() as ws:
        set_sim_app(ws, simulator)
    # The entry was edited away by hand; the app's credentials are still stored.
    paths.config_file().write_text("# mine\nsecrets: keyring\n")
    with Workspace() as ws, pytest.raises(QbsyncError, match="did not grant access"):
        connect_company(
            ws,
            "acme",
            "sim",
            simulator.url,
            **_pasted_flow(f"{PLAYGROUND_REDIRECT}?error=access_denied"),
        )
    assert paths.config_file().read_text() == "# mine\nsecrets: keyring\n"
    assert ("qbsync", tokens_name("acme")) not in memory_keyring.items

    with Workspace() as ws:  # the same, succeeding: now the company and the default are written
        notes: list[str] = []
        connect_company(
            ws, "acme", "sim", simulator.url, notify=notes.append, **_pasted_flow("{landed}")
        )
    assert notes[0] == (
        f"Redirect URI (register it for the app at developer.intuit.com): {PLAYGROUND_REDIRECT}"
    )
    assert paths.config_file().read_text() == (
        "# mine\nsecrets: keyring\ndefault_company: acme\ncompanies:\n  acme:\n"
        f"    environment: sim\n    sim_url: {simulator.url}\n"
    )


def test_companies_remove_says_what_it_removes_and_moves_the_default(
    connected_company: ConnectedCompany, memory_keyring: MemoryKeyring
) -> None:
    server = connected_company.server
    other = connected_company.control.add_company("Other Co")
    connect_realm(server, "beta", other)
    assert run_json("config", "get", "default_company")["data"]["value"] == "acme"

    removed = run_json("companies", "remove", "acme", "--yes")["data"]
    assert removed["revoked"] is True and removed["default_company"] == "beta"
    assert removed["note"] == "acme was the default company; the default is now beta"
    assert removed["removed"] == [
        "its entry in config.yaml",
        "its tokens (revoked at Intuit)",
        "its app's client id and secret",
    ]
    assert [c["key"] for c in run_json("companies", "list")["data"]] == ["beta"]
    assert ("qbsync", tokens_name("acme")) not in memory_keyring.items
    assert ("qbsync", client_secret_name("acme")) not in memory_keyring.items
    assert "acme" not in paths.config_file().read_text()

    # The key stays bound to its QuickBooks company: connecting it to another one is refused.
    with Workspace() as ws:
        set_sim_app(ws, server, "acme")
        with pytest.raises(UsageError, match=f"'acme' is QuickBooks company {server.realm_id}"):
            connect(ws, server, "acme", realm=other)
        assert connect(ws, server, "acme")["connected"] is True  # its own company: fine

    shown = run("companies", "remove", "beta", "--yes")
    assert shown.exit_code == 0
    assert "removed company beta: its entry in config.yaml" in shown.stdout
    assert "kept: the ledger" in shown.stdout
    assert "beta was the default company; the default is now acme" in shown.stdout
    last = run_json("companies", "remove", "acme", "-y")["data"]
    assert last["default_company"] is None
    assert "there is no default now" in last["note"]
