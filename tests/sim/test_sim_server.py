from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from conftest import invoice_body

from qbsync.sim.control import SimControl, SimControlError
from qbsync.sim.server import SimServer

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer(seed="demo", auto_consent=True) as srv:
        yield srv


@pytest.fixture
def ctl(server: SimServer) -> Iterator[SimControl]:
    with SimControl(server.url, server.admin_key) as ctl:
        ctl.reset()
        yield ctl
        ctl.clear_faults()


def _client(server: SimServer, timeout: float = 5.0) -> httpx.Client:
    tok = server.sim.issue_tokens()["access_token"]
    return httpx.Client(
        base_url=f"{server.url}/v3/company/{server.realm_id}",
        headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"},
        timeout=timeout,
    )


def test_server_exposes_connection_facts(server: SimServer) -> None:
    assert server.url.startswith("http://127.0.0.1:") and server.realm_id.isdigit()
    assert server.client_id and server.client_secret and server.admin_key
    doc = httpx.get(f"{server.url}/.well-known/openid_configuration/").json()
    assert doc["token_endpoint"] == f"{server.url}/oauth2/v1/tokens/bearer"


def test_control_needs_admin_key(server: SimServer) -> None:
    assert httpx.get(f"{server.url}/_sim/info").status_code == 403
    assert httpx.get(f"{server.url}/_sim/info", headers={"X-Sim-Admin-Key": "x"}).status_code == 403
    with SimControl(server.url, "wrong") as bad, pytest.raises(SimControlError) as err:
        bad.now()
    assert err.value.status == 403


def test_dropped_connection_is_a_transport_error(server: SimServer, ctl: SimControl) -> None:
    ctl.inject_fault("*/invoice", method="POST", kind="drop", count=1)
    with _client(server) as c:
        with pytest.raises(httpx.TransportError):
            c.post("/invoice", json=invoice_body())
        assert c.get("/query", params={"query": "select count(*) from Invoice"}).json()[
            "QueryResponse"
        ] == {"totalCount": 0}


def test_after_fault_writes_but_answer_is_lost(server: SimServer, ctl: SimControl) -> None:
    ctl.inject_fault("*/invoice", method="POST", status=502, count=1, when="after")
    with _client(server) as c:
        assert c.post("/invoice", json=invoice_body()).status_code == 502
        q = c.get("/query", params={"query": "select count(*) from Invoice"}).json()
        assert q["QueryResponse"] == {"totalCount": 1}


def test_timeout_hangs_past_client_timeout(server: SimServer, ctl: SimControl) -> None:
    ctl.inject_fault("*/preferences", kind="timeout", count=1, hang_seconds=3)
    with _client(server, timeout=0.3) as c:
        t0 = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            c.get("/preferences")
        assert time.monotonic() - t0 < 2
        assert c.get("/preferences").status_code == 200


def test_control_acts_and_counts(server: SimServer, ctl: SimControl) -> None:
    realm = server.realm_id
    with _client(server) as c:
        inv = c.post("/invoice", json=invoice_body(amount=80)).json()["Invoice"]
        assert ctl.edit_invoice(realm, inv["Id"], {"PrivateNote": "x"})["SyncToken"] == "1"
        pay = ctl.record_payment(realm, "1", "30.00", invoice_id=inv["Id"])
        assert ctl.get(realm, "Invoice", inv["Id"])["Balance"] == 50
        ctl.edit_payment(realm, pay["Id"], {"PaymentRefNum": "9"})
        ctl.void_payment(realm, pay["Id"])
        ctl.delete_payment(realm, pay["Id"])
        ctl.void_invoice(realm, inv["Id"])
        inv2 = c.post("/invoice", json=invoice_body(amount=5)).json()["Invoice"]
        ctl.delete_invoice(realm, inv2["Id"])
        ctl.deactivate_customer(realm, "2")
        assert ctl.merge_customer(realm, "3", "1")["moved"] == 0
        prefs = ctl.set_preferences(realm, {"SalesFormsPrefs": {"CustomTxnNumbers": True}})
        assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
        counts = ctl.counts(realm)
        assert counts["endpoints"]["invoice"] == 2
        assert any(e["endpoint"] == "invoice" for e in ctl.request_log())
        with pytest.raises(SimControlError) as err:
            ctl.void_invoice(realm, "999")
        assert err.value.status == 400
    assert ctl.invariants() == []


def test_control_clock_companies_latency_and_revoke(server: SimServer, ctl: SimControl) -> None:
    before = ctl.now()
    after = ctl.advance_clock(3600 * 24)
    assert after > before
    rid = ctl.add_company("Second Co", seed="demo")
    assert rid in [c["realm_id"] for c in ctl.companies()]
    ctl.set_latency(50, 0)
    with _client(server) as c:
        t0 = time.monotonic()
        c.get("/preferences")
        assert time.monotonic() - t0 >= 0.05
        ctl.set_latency(0, 0)
        assert ctl.revoke_all_tokens(server.realm_id) >= 1
        assert c.get("/preferences").status_code == 401


def test_concurrent_requests_stay_consistent(server: SimServer, ctl: SimControl) -> None:
    with _client(server) as c:
        inv = c.post("/invoice", json=invoice_body(amount=1000)).json()["Invoice"]

        def pay(_: int) -> int:
            body: dict[str, Any] = {
                "CustomerRef": {"value": "1"},
                "TotalAmt": 10,
                "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
            }
            with _client(server) as mine:
                return mine.post("/payment", json=body).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(pay, range(40)))
        assert codes == [200] * 40
        assert c.get(f"/invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 600
    assert ctl.invariants() == []


def test_stop_is_quick_even_with_a_hanging_request() -> None:
    srv = SimServer(seed="empty").start()
    srv.sim.inject_fault(path_pattern="*", kind="timeout", hang_seconds=60)
    tok = srv.sim.issue_tokens()["access_token"]
    pool = ThreadPoolExecutor(1)
    fut = pool.submit(
        httpx.get,
        f"{srv.url}/v3/company/{srv.realm_id}/preferences",
        headers={"Authorization": f"Bearer {tok}"},
        timeout=30,
    )
    time.sleep(0.2)
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 4
    with pytest.raises(httpx.TransportError):
        fut.result(timeout=10)
    pool.shutdown()
