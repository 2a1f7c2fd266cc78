"""After connect, refresh, a refused grant, reconnect and disconnect, no token, code or client
secret is in the SQLite files, the config, or the logs."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from qbsync import paths
from qbsync.companies.tokens import tokens_name
from qbsync.qbo import authorize
from qbsync.sim.control import SimControl
from qbsync.sim.server import SimServer
from tests.support import MemoryKeyring, run, run_json

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_no_secret_in_store_config_or_logs(
    sim_server: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
    qbsync_home: Path,
) -> None:
    secrets: set[str] = {sim_server.client_secret}

    def browser(url: str) -> None:
        with httpx.Client(follow_redirects=False) as http:
            landing = http.get(url).headers["location"]
            query = parse_qs(urlsplit(landing).query)
            secrets.update(query["code"] + query["state"])
            http.get(landing)

    def collect_tokens() -> None:
        raw = memory_keyring.items.get(("qbsync", tokens_name("acme")))
        if raw:
            stored = json.loads(raw)
            secrets.update({stored["access_token"], stored["refresh_token"]})

    monkeypatch.setattr(authorize.webbrowser, "open", browser)
    run_json(
        "app", "set", "-c", "acme", "--client-id", sim_server.client_id, "--env", "sim",
        "--sim-url", sim_server.url, input=sim_server.client_secret + "\n",
    )  # fmt: skip
    run_json("connect")
    collect_tokens()
    run_json("token", "--refresh")
    collect_tokens()
    assert run("qbo", "items").exit_code == 0
    assert run("doctor").exit_code == 0
    with SimControl(sim_server.url, sim_server.admin_key) as control:
        control.inject_fault("*/companyinfo/*", status=500, count=1)
        assert run("doctor").exit_code == 0  # retried
        control.revoke_all_tokens(sim_server.realm_id)
    assert run("token", "--refresh").exit_code == 3  # invalid_grant, logged
    run_json("connect")
    collect_tokens()
    run_json("disconnect", "--yes")
    assert len(secrets) >= 8

    files = [paths.config_file(), *paths.log_dir().glob("*")]
    files += [p for p in paths.state_dir().glob("qbsync.db*")]
    assert paths.config_file().exists() and any(p.name == "qbsync.db" for p in files)
    log_text = "".join(p.read_text() for p in paths.log_dir().glob("*.log*"))
    assert "refreshed tokens for acme" in log_text and "intuit_tid" in log_text
    assert "invalid_grant" in log_text and "disconnected acme" in log_text
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, f"a secret is in {path.name}"
