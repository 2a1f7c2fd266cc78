"""Connecting without a listener (the pasted redirect) and the commands around a connection,
on the simulator in-process. The listener flow over real sockets is in test_connect_listener.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from qbsync.companies.connection import connect_company
from qbsync.companies.session import open_client
from qbsync.companies.session import run as run_async
from qbsync.qbo import authorize
from qbsync.qbo.lists import LIST_KINDS, fetch_list
from qbsync.sim.core import PLAYGROUND_REDIRECT
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany, app_set, set_sim_app
from tests.fixtures.sim import InProcessSim
from tests.support import run, run_json


def test_connect_needs_app_credentials_first(simulator: InProcessSim) -> None:
    error = run_json("connect", "-c", "acme", "--env", "sim", "--sim-url", simulator.url, code=2)
    assert "qbsync app set --company acme" in error["error"]["hint"]


def test_paste_back_flow_for_https_redirect_uris(simulator: InProcessSim) -> None:
    landed: list[str] = []

    def person(url: str) -> None:
        # Intuit redirects to the app's HTTPS page; the person copies the address bar.
        answer = httpx.get(url, follow_redirects=False)
        landed.append(answer.headers["location"])

    with Workspace() as ws:
        set_sim_app(ws, simulator)
        result = connect_company(
            ws,
            "acme",
            redirect_uri=PLAYGROUND_REDIRECT,
            open_url=person,
            read_pasted=lambda label: landed[0],
        )
    assert landed[0].startswith(PLAYGROUND_REDIRECT)
    assert result["connected"] is True and result["realm_id"] == simulator.realm_id

    # Only the code pasted: the realm id is asked for next.
    answers: list[str] = []

    def paste(label: str) -> str:
        query = parse_qs(urlsplit(landed[-1]).query)
        answers.append(label)
        return query["code"][0] if len(answers) == 1 else query["realmId"][0]

    with Workspace() as ws:
        again = connect_company(
            ws, "acme", redirect_uri=PLAYGROUND_REDIRECT, open_url=person, read_pasted=paste
        )
    assert again["realm_id"] == simulator.realm_id and len(answers) == 2


def test_paste_back_without_a_terminal_is_a_clear_error(simulator: InProcessSim) -> None:
    app_set(simulator)
    error = run_json("connect", "--redirect-uri", PLAYGROUND_REDIRECT, code=2)["error"]
    assert "paste" in error["message"]


def test_app_show_and_forget(connected_company: ConnectedCompany) -> None:
    shown = run_json("app", "show")["data"]
    assert shown["client_id"] == connected_company.server.client_id
    assert shown["client_secret"] == "stored"
    assert connected_company.server.client_secret not in json.dumps(shown)
    assert run_json("app", "forget", "--yes")["data"] == {"company": "acme", "forgotten": True}
    assert run_json("app", "show")["data"]["client_secret"] == "missing"


def test_app_set_reads_the_secret_from_stdin_only() -> None:
    result = run("app", "set", "--help")
    assert "--client-secret" not in result.stdout
    empty = run_json("app", "set", "-c", "acme", "--client-id", "ABC", input="\n", code=2)
    assert "no client secret" in empty["error"]["message"]


def test_qbo_lists_all_includes_inactive(connected_company: ConnectedCompany) -> None:
    control, realm = connected_company.control, connected_company.realm_id
    customers = run_json("qbo", "customers")["data"]
    control.deactivate_customer(realm, customers[0]["Id"])
    active = run_json("qbo", "customers")["data"]
    everyone = run_json("qbo", "customers", "--all")["data"]
    assert customers[0]["Id"] not in {c["Id"] for c in active}
    assert {c["Id"] for c in customers} <= {c["Id"] for c in everyone}
    by_id = {c["Id"]: c for c in everyone}
    assert by_id[customers[0]["Id"]]["Active"] is False
    assert all(c["Active"] for c in active)
    methods = run_json("qbo", "payment-methods")["data"]
    assert methods and {"Id", "Name"} <= set(methods[0])

    async def every_list(client: Any) -> dict[str, int]:
        return {
            entity: len(await fetch_list(client, entity, include_inactive=True))
            for entity in LIST_KINDS.values()
        }

    with Workspace() as ws:

        async def go() -> dict[str, int]:
            async with open_client(ws, "acme") as client:
                return await every_list(client)

        sizes = run_async(go())
    assert sizes["Account"] and sizes["Item"] and sizes["TaxCode"] and sizes["Term"]


def test_doctor_checks_the_connection(connected_company: ConnectedCompany) -> None:
    result = run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    assert checks["qbo app"]["status"] == "ok"
    assert checks["connection"]["status"] == "ok"
    assert "Harbor IT Demo Co" in checks["connection"]["detail"]
    assert checks["token expiry"]["status"] == "ok"
    connected_company.control.revoke_all_tokens(connected_company.realm_id)
    run_json("token", "--refresh", code=3)
    checks = {c["name"]: c for c in json.loads(run("doctor", "--json").stdout)["data"]["checks"]}
    assert checks["connection"]["status"] == "fail"
    assert "qbsync connect --company acme" in checks["connection"]["fix"]


def test_doctor_advises_an_https_redirect_for_production_keys() -> None:
    run_json(
        "app",
        "set",
        "-c",
        "prod",
        "--client-id",
        "ABprod",
        "--env",
        "production",
        input="secret-value\n",
    )
    checks = json.loads(run("doctor", "--json").stdout)["data"]["checks"]
    redirect = next(c for c in checks if c["name"] == "redirect uri")
    assert redirect["status"] == "warn" and "--redirect-uri" in redirect["fix"]


def test_pasted_answers_are_parsed() -> None:
    parse = authorize._parse_pasted
    url = "https://example.com/cb?code=AB11c&state=st&realmId=123"
    assert parse(url) == ("AB11c", "st", "123", None)
    assert parse("?code=AB11c&state=st") == ("AB11c", "st", None, None)
    assert parse("  AB11code  ") == ("AB11code", None, None, None)
    assert parse("https://example.com/cb?error=access_denied&state=st")[3] == "access_denied"
    with pytest.raises(Exception, match="nothing was pasted"):
        parse("   ")


def test_app_set_without_a_working_keyring_writes_nothing() -> None:
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    error = run_json("app", "set", "-c", "acme", "--client-id", "ABC", input="s3cret\n", code=1)
    assert error["error"]["code"] == "secrets_unavailable"
    assert run_json("companies", "list")["data"] == []


def test_companies_list_for_people(connected_company: ConnectedCompany) -> None:
    table = run("companies", "list").stdout
    assert "acme *" in table and "Harbor IT Demo Co" in table and "connected" in table
