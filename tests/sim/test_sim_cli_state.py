from __future__ import annotations

import json
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import invoice_body
from typer.testing import CliRunner

from qbsync.cli.sim import app
from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client

SERVE = [sys.executable, "-c", "from qbsync.cli.sim import app; app()", "serve"]


@pytest.mark.slow
@pytest.mark.e2e
def test_serve_json_prints_one_line_then_serves_until_sigint(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    with subprocess.Popen(
        [
            *SERVE,
            "--json",
            "--port",
            "0",
            "--seed",
            "empty",
            "--limits",
            "off",
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        _run_and_interrupt(proc)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def _run_and_interrupt(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"url", "realm_id", "client_id", "client_secret", "admin_key"}
        doc = httpx.get(f"{info['url']}/.well-known/openid_configuration/", timeout=5).json()
        assert doc["token_endpoint"].startswith(info["url"])
        ctl = httpx.get(
            f"{info['url']}/_sim/info", headers={"X-Sim-Admin-Key": info["admin_key"]}, timeout=5
        )
        assert ctl.json()["realm_id"] == info["realm_id"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert proc.stdout.read() == ""  # nothing after the one line
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_rejects_bad_latency_profile() -> None:
    result = CliRunner().invoke(app, ["serve", "--latency", "fast"])
    assert result.exit_code == 2
    assert "latency" in result.output


def test_group_shows_help_when_bare() -> None:
    result = CliRunner().invoke(app, [])
    assert "serve" in result.output


def test_state_file_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = Simulator(seed="demo", state_file=path)
    tokens = first.issue_tokens()
    with sim_client(first, token=tokens["access_token"]) as c:
        inv = c.post(
            f"/v3/company/{first.default_realm}/invoice", json=invoice_body(amount="12.34")
        )
        assert inv.status_code == 200
    first.record_payment(first.default_realm, "1", "2.34", invoice_id=inv.json()["Invoice"]["Id"])
    first.advance_clock(120)
    first.save()
    with sqlite3.connect(path) as db:  # the state file is SQLite: the invoice is in it
        assert any("12.34" in body for (body,) in db.execute("SELECT body FROM objects"))

    second = Simulator(seed="demo", state_file=path)
    assert second.default_realm == first.default_realm
    assert (second.client_id, second.client_secret, second.admin_key) == (
        first.client_id,
        first.client_secret,
        first.admin_key,
    )
    assert abs(second.clock.offset - first.clock.offset) < 1
    with sim_client(second, token=tokens["access_token"]) as c:
        got = c.get(f"/v3/company/{second.default_realm}/invoice/{inv.json()['Invoice']['Id']}")
        assert got.status_code == 200 and got.json()["Invoice"]["Balance"] == 10
    assert second.check_invariants() == []
    refreshed = second.oauth.refresh(
        second.app, tokens["refresh_token"], second.clock.timestamp(), False
    )
    assert refreshed["access_token"]


def test_state_file_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="version"):
        Simulator(state_file=path)


def test_no_state_file_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Simulator(seed="demo").save()
    assert list(tmp_path.iterdir()) == []
