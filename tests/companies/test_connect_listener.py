"""Connecting through the loopback listener, over real sockets: the simulator's consent page,
the redirect to the listener, the exchange, and what goes wrong on the way (a forged state, a
refusal, no answer, a port in use, a wrong secret, an unreachable QuickBooks)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from qbsync import paths
from qbsync.companies.connection import connect_company
from qbsync.companies.credentials import client_secret_name
from qbsync.companies.tokens import tokens_name
from qbsync.qbo import authorize
from qbsync.qbo.listener import CallbackListener
from qbsync.sim.control import SimControl
from qbsync.sim.server import SimServer
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany, ConsentBrowser, app_set, set_sim_app
from tests.support import MemoryKeyring, run, run_json

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def use_browser(monkeypatch: pytest.MonkeyPatch, browser: Callable[[str], object]) -> None:
    monkeypatch.setattr(authorize.webbrowser, "open", browser)


def _connect_error(monkeypatch: pytest.MonkeyPatch, *args: str, code: int = 1) -> dict:
    result = run("connect", *args, "--json")
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout)["error"]


def test_connect_token_items_disconnect_end_to_end(
    sim_server: SimServer, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    with SimControl(sim_server.url, sim_server.admin_key) as control:
        control.set_auto_consent(False)  # a person clicks Connect on the consent page
    browser = ConsentBrowser("connect")
    use_browser(monkeypatch, browser)
    app_set(sim_server)

    connected = run_json("connect", "--env", "sim", "--sim-url", sim_server.url)["data"]
    assert connected["company"] == "acme" and connected["connected"] is True
    assert connected["name"] == "Harbor IT Demo Co"
    assert connected["realm_id"] == sim_server.realm_id
    (url,) = browser.visited
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert len(query["state"][0]) >= 32

    stored = json.loads(memory_keyring.items[("qbsync", tokens_name("acme"))])
    plain = run("token")
    assert plain.exit_code == 0 and plain.stdout == stored["access_token"] + "\n"
    info = run_json("token")["data"]
    assert info["company"] == "acme" and info["name"] == "Harbor IT Demo Co"
    assert info["realm_id"] == sim_server.realm_id and info["environment"] == "sim"
    assert info["access_token"] == stored["access_token"]
    for field in ("access_expires_at", "refresh_expires_at", "refresh_hard_expires_at"):
        assert info[field]
    assert "last_refresh_at" in info

    items = run_json("qbo", "items")["data"]
    assert items and all(i["Active"] for i in items)
    assert {"Id", "Name", "Type"} <= set(items[0])
    table = run("qbo", "items")
    assert table.exit_code == 0 and items[0]["Name"] in table.stdout

    gone = run_json("disconnect", "--yes")["data"]
    assert gone == {"company": "acme", "revoked": True, "tokens_deleted": True}
    assert ("qbsync", tokens_name("acme")) not in memory_keyring.items
    assert ("qbsync", client_secret_name("acme")) in memory_keyring.items  # app kept
    # Revoked at the simulator too: the old access token no longer works.
    api = f"{sim_server.url}/v3/company/{sim_server.realm_id}/companyinfo/{sim_server.realm_id}"
    answer = httpx.get(api, headers={"Authorization": f"Bearer {stored['access_token']}"})
    assert answer.status_code == 401
    assert run_json("token", code=3)["error"]["code"] == "reconnect_required"
    assert run_json("companies", "show")["data"]["state"] == "disconnected"


def test_wrong_state_is_rejected(
    sim_server: SimServer, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    app_set(sim_server)
    answers: list[httpx.Response] = []

    def forger(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        answers.append(httpx.get(redirect, params={"code": "AB11x", "state": "forged"}))

    use_browser(monkeypatch, forger)
    error = _connect_error(monkeypatch)
    assert "state did not match" in error["message"]
    assert answers[0].status_code == 400
    assert ("qbsync", tokens_name("acme")) not in memory_keyring.items


def test_access_denied(sim_server: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with SimControl(sim_server.url, sim_server.admin_key) as control:
        control.set_auto_consent(False)
    app_set(sim_server)
    use_browser(monkeypatch, ConsentBrowser("cancel"))
    error = _connect_error(monkeypatch)
    assert error["message"] == "QuickBooks did not grant access: access_denied"
    assert run_json("companies", "show")["data"]["state"] == "disconnected"


def test_timeout(sim_server: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app_set(sim_server)
    use_browser(monkeypatch, lambda url: None)  # nobody answers the browser
    error = _connect_error(monkeypatch, "--timeout", "0.3")
    assert error["message"] == "no answer from the browser within 0.3 s"


def test_port_taken_fails_fast(sim_server: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app_set(sim_server)
    opened: list[str] = []
    use_browser(monkeypatch, opened.append)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        error = _connect_error(monkeypatch, "--port", str(port), code=2)
    assert f"port {port}" in error["message"] and "--port" in error["hint"]
    assert opened == []  # the browser never opened on a flow that cannot finish


def test_fixed_port_and_no_browser_prints_the_url(
    sim_server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_set(sim_server)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    opened: list[str] = []
    use_browser(monkeypatch, opened.append)
    before = paths.config_file().read_text()
    result = run("connect", "--no-browser", "--port", str(port), "--timeout", "0.2")
    assert result.exit_code == 1 and opened == []
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback" in result.stderr
    assert (
        "Redirect URI (register it for the app at developer.intuit.com): "
        f"http://127.0.0.1:{port}/callback\n"
    ) in result.stderr
    assert paths.config_file().read_text() == before  # a failed connect writes nothing


def test_connect_refuses_a_realm_bound_to_another_key(
    served_company: ConnectedCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = served_company.server
    run_json(
        "app", "set", "-c", "beta", "--client-id", server.client_id, "--env", "sim",
        "--sim-url", server.url, input=server.client_secret + "\n",
    )  # fmt: skip
    before = paths.config_file().read_text()
    use_browser(monkeypatch, authorize.headless_browser)  # consents to the same company
    error = _connect_error(monkeypatch, "-c", "beta", code=2)
    assert error["message"] == (
        f"QuickBooks company {served_company.realm_id} is already connected as 'acme'; "
        "nothing was written (use --company acme)"
    )
    assert paths.config_file().read_text() == before
    assert run_json("companies", "show", "beta")["data"]["connected"] is False


def test_listener_serves_only_the_callback_and_escapes_its_pages() -> None:
    with CallbackListener(state="s3cret-state") as listener:
        base = f"http://127.0.0.1:{listener.port}"
        assert httpx.get(f"{base}/").status_code == 404
        assert httpx.get(f"{base}/callbackx?state=s3cret-state&code=c").status_code == 404
        page = httpx.get(
            f"{base}/callback", params={"state": "s3cret-state", "error": "<script>x</script>"}
        )
        assert page.status_code == 400
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text
        assert listener.wait(1).error == "<script>x</script>"
        again = httpx.get(f"{base}/callback", params={"state": "s3cret-state", "code": "c"})
        assert again.status_code == 409  # one-shot


def test_listener_binds_loopback_only() -> None:
    with CallbackListener(state="x") as listener:
        assert listener._server.server_address[0] == "127.0.0.1"


def test_reconnect_keeps_the_realm(served_company: ConnectedCompany) -> None:
    with Workspace() as ws:
        before = json.loads(ws.secrets.get(tokens_name("acme")) or "{}")
        other = served_company.control.add_company("Other Co")
        with pytest.raises(Exception, match="consent chose"):
            connect_company(
                ws,
                "acme",
                open_url=lambda url: authorize.headless_browser(url + f"&realm={other}"),
            )
        assert json.loads(ws.secrets.get(tokens_name("acme")) or "{}") == before
        again = connect_company(ws, "acme", open_url=authorize.headless_browser)
    assert again["realm_id"] == served_company.realm_id
    assert run_json("token")["data"]["access_token"] != before["access_token"]


def test_companies_list_show_use(served_company: ConnectedCompany) -> None:
    second = served_company.control.add_company("Second Co", seed="empty")
    with Workspace() as ws:
        set_sim_app(ws, served_company.server, "second")
        connect_company(
            ws,
            "second",
            open_url=lambda url: authorize.headless_browser(url + f"&realm={second}"),
        )
    listed = {c["key"]: c for c in run_json("companies", "list")["data"]}
    assert listed["acme"]["default"] is True and listed["second"]["default"] is False
    assert listed["second"]["name"] == "Second Co" and listed["second"]["realm_id"] == second
    assert listed["second"]["state"] == "connected"
    for row in listed.values():
        assert "access_token" not in row and "refresh_token" not in row
    assert run_json("companies", "use", "second")["data"] == {"default_company": "second"}
    shown = run_json("companies", "show")["data"]
    assert shown["key"] == "second" and shown["client_secret"] == "stored"
    assert run_json("companies", "use", "nope", code=2)["error"]["code"] == "not_found"


def test_doctor_reports_an_unreachable_quickbooks_quickly(
    served_company: ConnectedCompany,
) -> None:
    served_company.server.stop()
    result = run("doctor", "--json")
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    assert checks["connection"]["status"] == "fail"
    assert "could not be reached" in checks["connection"]["detail"]


def test_a_wrong_client_secret_is_named(
    sim_server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_json(
        "app", "set", "-c", "acme", "--client-id", sim_server.client_id, "--env", "sim",
        "--sim-url", sim_server.url, input="not-the-secret\n",
    )  # fmt: skip
    use_browser(monkeypatch, authorize.headless_browser)
    error = _connect_error(monkeypatch)
    assert "invalid_client" in error["message"] and "qbsync app show" in error["hint"]
    assert "not-the-secret" not in json.dumps(error)
