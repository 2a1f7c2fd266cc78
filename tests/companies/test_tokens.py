"""Token refresh: near expiry, after a 401 in the middle of a paged query, refused grants, and
single-flight across coroutines and across processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from qbsync.companies import records
from qbsync.companies.session import open_client, run
from qbsync.companies.tokens import CompanyTokens, read_tokens, tokens_name
from qbsync.secrets import FileStore
from qbsync.sim.control import SimControl
from qbsync.timeutil import utc_now
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany, connect
from tests.support import run_json


def token_calls(control: SimControl) -> list[dict[str, Any]]:
    return [e for e in control.request_log() if e["endpoint"] == "oauth.token"]


def expire_locally(ws: Workspace, key: str, minutes: float = 1) -> dict[str, Any]:
    """Make the stored access token look due for refresh (as if an hour had passed)."""
    stored = json.loads(ws.secrets.get(tokens_name(key)) or "{}")
    stored["access_expires_at"] = (utc_now() + dt.timedelta(minutes=minutes)).isoformat()
    ws.secrets.set(tokens_name(key), json.dumps(stored))
    return stored


def test_token_near_expiry_is_refreshed_and_rotation_stored(
    connected_company: ConnectedCompany,
) -> None:
    control = connected_company.control
    with Workspace() as ws:
        before = expire_locally(ws, "acme", minutes=4)  # within the 5-minute margin
    control.clear_request_log()
    data = run_json("token")["data"]
    assert data["access_token"] != before["access_token"]
    assert data["last_refresh_at"] is not None
    with Workspace() as ws:
        after = read_tokens(ws, "acme")
        row = records.get_row(ws.store, "acme")
    assert after is not None and row is not None
    assert after.refresh_token != before["refresh_token"]  # the rotated one was kept
    assert row["access_expires_at"] == after.access_expires_at
    assert row["last_refresh_at"] == data["last_refresh_at"]
    assert [e["status"] for e in token_calls(control)] == [200]
    # Not near expiry: no refresh.
    assert run_json("token")["data"]["access_token"] == data["access_token"]
    assert len(token_calls(control)) == 1


def test_refresh_forced(connected_company: ConnectedCompany) -> None:
    first = run_json("token")["data"]
    second = run_json("token", "--refresh")["data"]
    assert second["access_token"] != first["access_token"]
    assert second["last_refresh_at"] is not None


def test_invalid_grant_marks_the_company_for_reconnect(
    connected_company: ConnectedCompany,
) -> None:
    connected_company.control.revoke_all_tokens(connected_company.realm_id)
    error = run_json("token", "--refresh", code=3)["error"]
    assert error["code"] == "reconnect_required"
    assert "invalid_grant" in error["message"]
    assert error["hint"] == "run `qbsync connect --company acme`"
    shown = run_json("companies", "show")["data"]
    assert shown["state"] == "reconnect needed" and shown["needs_reconnect"] is True
    assert shown["connected"] is True  # still connected in name: the fix is a reconnect
    assert run_json("qbo", "items", code=3)["error"]["code"] == "reconnect_required"
    # Reconnecting clears it.
    with Workspace() as ws:
        connect(ws, connected_company.server)
    shown = run_json("companies", "show")["data"]
    assert shown["state"] == "connected" and shown["needs_reconnect"] is False


def test_401_in_the_middle_of_a_paged_query_is_refreshed_and_resumed(
    connected_company: ConnectedCompany,
) -> None:
    control, realm = connected_company.control, connected_company.realm_id
    for n in range(7):
        control.create(realm, "Customer", {"DisplayName": f"Paged {n}"})
    pages_seen = 0

    async def on_response(response: httpx.Response) -> None:
        nonlocal pages_seen
        if "/query" in response.request.url.path and response.status_code == 200:
            pages_seen += 1
            if pages_seen == 2:
                # An hour passes at Intuit: the access token expires between pages.
                await asyncio.to_thread(control.advance_clock, 3700)

    with Workspace() as ws:
        expected = [c["Id"] for c in run_json("qbo", "customers")["data"]]
        control.clear_request_log()

        async def go() -> tuple[list[dict[str, Any]], int]:
            http = httpx.AsyncClient(event_hooks={"response": [on_response]})
            async with open_client(ws, "acme", http=http) as client:
                found = await client.query_all("Customer", order_by="Id", page_size=3)
            await http.aclose()
            assert isinstance(client.tokens, CompanyTokens)
            return found, client.tokens.refreshes

        found, refreshes = run(go())
    assert [c["Id"] for c in found] == expected and len(expected) >= 10
    assert refreshes == 1
    queries = [e for e in control.request_log() if e["endpoint"] == "query"]
    statuses = [e["status"] for e in queries]
    assert statuses.count(401) == 1 and statuses[2] == 401  # the third page, then its retry
    starts = [parse_qs(e["query"])["query"][0].split("STARTPOSITION ")[1] for e in queries]
    assert starts[:4] == ["1 MAXRESULTS 3", "4 MAXRESULTS 3", "7 MAXRESULTS 3", "7 MAXRESULTS 3"]
    assert [e["status"] for e in token_calls(control)] == [200]


def test_concurrent_401s_in_one_process_refresh_once(connected_company: ConnectedCompany) -> None:
    control = connected_company.control
    control.clear_request_log()
    with Workspace() as ws:
        tokens = CompanyTokens(ws, "acme")
        rejected = run(tokens.access_token())

        async def many() -> list[str]:
            return list(await asyncio.gather(*(tokens.refreshed(rejected) for _ in range(5))))

        results = run(many())
    assert len(set(results)) == 1 and results[0] != rejected
    assert len(token_calls(control)) == 1


CHILD = "from qbsync.cli.app import main; main()"


@pytest.mark.slow
@pytest.mark.e2e
def test_two_processes_refreshing_at_once(
    file_company: ConnectedCompany, qbsync_home: Path
) -> None:
    server = file_company.server
    with Workspace() as ws:
        before = expire_locally(ws, "acme")
    assert FileStore().get(tokens_name("acme"))  # the children share this file
    with SimControl(server.url, server.admin_key) as control:
        control.clear_request_log()
        env = {**os.environ, "QBSYNC_HOME": str(qbsync_home)}
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, "token", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [child.communicate(timeout=60) for child in children]
        for child, (_, err) in zip(children, outputs, strict=True):
            assert child.returncode == 0, err
        tokens = [json.loads(out)["data"]["access_token"] for out, _ in outputs]
        calls = token_calls(control)
    assert tokens[0] == tokens[1] != before["access_token"]
    assert [c["status"] for c in calls] == [200]  # one rotation, no invalid_grant
    api = f"{server.url}/v3/company/{server.realm_id}/companyinfo/{server.realm_id}"
    answer = httpx.get(api, headers={"Authorization": f"Bearer {tokens[0]}"})
    assert answer.status_code == 200
    with Workspace() as ws:
        stored = read_tokens(ws, "acme")
    assert stored is not None and stored.access_token == tokens[0]
    assert stored.refresh_token != before["refresh_token"]


@pytest.mark.slow
def test_pacing_keeps_429s_away_at_intuits_limits(connected_company: ConnectedCompany) -> None:
    control = connected_company.control
    control.set_limits("intuit")
    with Workspace() as ws:
        ws.save_config(ws.config.model_copy(update={"qbo": type(ws.config.qbo)()}))
        control.clear_request_log()

        async def burst() -> tuple[int, float]:
            async with open_client(ws, "acme") as a, open_client(ws, "acme") as b:
                # Two clients of one realm share one pacer.
                assert a.pacer is b.pacer
                jobs = [c.count("Item") for c in (a, b) for _ in range(11)]
                loop = asyncio.get_running_loop()
                started = loop.time()
                await asyncio.gather(*jobs)
                return a.calls + b.calls, loop.time() - started

        calls, elapsed = run(burst())
    log = [e for e in control.request_log() if e["realm"] == connected_company.realm_id]
    assert calls == 22 and len(log) == 22
    assert [e for e in log if e["status"] == 429] == []
    assert control.counts(connected_company.realm_id)["throttled"] == 0
    assert 2.0 < elapsed < 12  # 22 requests at 10 per second: paced, never a minute stall


def test_without_pacing_the_simulator_does_throttle(connected_company: ConnectedCompany) -> None:
    """The pacing test above can fail: the same burst unpaced is answered with 429s."""
    control = connected_company.control
    control.set_limits("intuit")
    with Workspace() as ws:

        async def burst() -> list[Any]:
            async with open_client(ws, "acme") as client:
                jobs = [client.request("GET", "preferences") for _ in range(30)]
                return await asyncio.gather(*jobs, return_exceptions=True)

        run(burst())
    assert control.counts(connected_company.realm_id)["throttled"] > 0


def test_a_held_refresh_lock_is_waited_for_then_reported(
    connected_company: ConnectedCompany,
) -> None:
    from qbsync.companies.tokens import lock_path
    from qbsync.errors import LockHeld
    from qbsync.oslock import FileLock

    with Workspace() as ws:
        expire_locally(ws, "acme")
        held = FileLock(lock_path("acme"))
        with held:
            tokens = CompanyTokens(ws, "acme", lock_wait=0.3)
            with pytest.raises(LockHeld) as err:
                run(tokens.access_token())
            assert err.value.exit_code == 75
        # Released: the same call now refreshes.
        fresh = run(CompanyTokens(ws, "acme").access_token())
        stored = read_tokens(ws, "acme")
    assert stored is not None and stored.access_token == fresh
    assert set(json.loads(json.dumps(stored.as_dict()))) == {
        "access_token",
        "refresh_token",
        "access_expires_at",
        "refresh_expires_at",
        "refresh_hard_expires_at",
        "realm_id",
    }
