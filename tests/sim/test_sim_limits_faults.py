from __future__ import annotations

import httpx
import pytest
from conftest import Api, invoice_body

from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client

THROTTLE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"


@pytest.fixture
def limited() -> Simulator:
    return Simulator(seed="demo", limits="intuit", rng_seed=3)


def test_ten_per_second_then_xml_429(limited: Simulator) -> None:
    with sim_client(limited) as client:
        path = f"/v3/company/{limited.default_realm}/preferences"
        codes = [client.get(path).status_code for _ in range(11)]
        assert codes == [200] * 10 + [429]
        resp = client.get(path)
        assert resp.status_code == 429
        assert resp.headers["content-type"].startswith("application/xml")
        assert '<Fault type="SERVICE"><Error code="3001">' in resp.text and THROTTLE in resp.text
        limited.advance_clock(1.1)
        assert client.get(path).status_code == 200
        counts = limited.log.snapshot(limited.default_realm)
        assert counts["throttled"] == 2 and counts["endpoints"]["preferences"] == 13


def test_500_per_minute(limited: Simulator) -> None:
    with sim_client(limited) as client:
        path = f"/v3/company/{limited.default_realm}/preferences"
        for n in range(500):
            if n % 10 == 0:
                limited.advance_clock(1.0)
            assert client.get(path).status_code == 200
        limited.advance_clock(1.0)
        assert client.get(path).status_code == 429
        limited.advance_clock(60)
        assert client.get(path).status_code == 200


def test_40_batches_per_minute(limited: Simulator) -> None:
    with sim_client(limited) as client:
        path = f"/v3/company/{limited.default_realm}/batch"
        body = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}
        for n in range(40):
            if n % 10 == 0:
                limited.advance_clock(1.0)
            assert client.post(path, json=body).status_code == 200
        limited.advance_clock(1.0)
        assert client.post(path, json=body).status_code == 429
        # Other calls still have room under the 500/min limit.
        assert client.get(f"/v3/company/{limited.default_realm}/preferences").status_code == 200


def test_120_batches_per_minute_per_realm_across_apps(limited: Simulator) -> None:
    limiter, realm = limited.limiter, limited.default_realm
    t = limited.clock.timestamp()
    for n in range(120):  # three apps, 40 each: every app within its own limit
        assert limiter.admit(realm, f"app{n % 3}", t + n * 0.4, batch=True), n
    assert not limiter.admit(realm, "app3", t + 48.5, batch=True)
    assert limiter.admit("another-realm", "app3", t + 48.5, batch=True)


def test_limits_are_per_realm(limited: Simulator) -> None:
    other = limited.add_company("Other", seed="empty")
    with sim_client(limited) as a, sim_client(limited, other) as b:
        for _ in range(10):
            a.get(f"/v3/company/{limited.default_realm}/preferences")
        assert a.get(f"/v3/company/{limited.default_realm}/preferences").status_code == 429
        assert b.get(f"/v3/company/{other}/preferences").status_code == 200


def test_limits_off_by_default(api: Api) -> None:
    for _ in range(30):
        assert api.get("preferences").status_code == 200


def test_injected_http_fault_with_count(api: Api, sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/invoice", method="POST", status=500, count=2)
    for _ in range(2):
        resp = api.post("invoice", invoice_body())
        assert resp.status_code == 500
        assert resp.json()["Fault"]["type"] == "SystemFault"
        assert resp.json()["Fault"]["Error"][0]["code"] == "10000"
    assert api.post("invoice", invoice_body()).status_code == 200
    assert api.query("select count(*) from Invoice") == {"totalCount": 1}


def test_injected_fault_codes_in_intuit_shapes(api: Api, sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/customer*", status=400, code="6240", count=1)
    api.fault(api.post("customer", {"DisplayName": "New One"}), "6240")
    sim.inject_fault(path_pattern="*/preferences", kind="auth401", count=1)
    resp = api.get("preferences")
    assert resp.status_code == 401 and resp.json()["fault"]["type"] == "AUTHENTICATION"
    sim.inject_fault(path_pattern="*/preferences", kind="xml401", count=1)
    resp = api.get("preferences")
    assert resp.status_code == 401 and '<Error code="100">' in resp.text
    sim.inject_fault(path_pattern="*/preferences", kind="throttle", count=1)
    resp = api.get("preferences")
    assert resp.status_code == 429 and THROTTLE in resp.text
    sim.inject_fault(path_pattern="*/preferences", status=403, code="120", count=1)
    err = api.fault(api.get("preferences"), "120", status=403)
    assert api.get("preferences").json()["Preferences"]
    assert err["Message"] == "Authorization Failure"
    sim.inject_fault(path_pattern="*operation=void*", status=400, code="6540", count=1)
    inv = api.invoice()
    api.fault(api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void"), "6540")


def test_fault_before_runs_nothing_after_runs_the_write(api: Api, sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/invoice", method="POST", kind="drop", count=1)
    with pytest.raises(httpx.TransportError):
        api.post("invoice", invoice_body())
    assert api.query("select count(*) from Invoice") == {"totalCount": 0}
    sim.inject_fault(path_pattern="*/invoice", method="POST", kind="drop", count=1, when="after")
    with pytest.raises(httpx.TransportError):
        api.post("invoice", invoice_body(), requestid="lost-1")
    assert api.query("select count(*) from Invoice") == {"totalCount": 1}
    # The retry with the same requestid gets the original answer instead of a duplicate.
    retry = api.create("Invoice", invoice_body(), requestid="lost-1")
    assert api.query("select count(*) from Invoice") == {"totalCount": 1}
    assert retry["Id"] == api.query("select * from Invoice")["Invoice"][0]["Id"]


def test_timeout_in_process_is_a_read_timeout(api: Api, sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/query*", kind="timeout", count=1)
    with pytest.raises(httpx.ReadTimeout):
        api.get("query", query="select * from Term")


def test_probability_faults_are_roughly_that_often(api: Api, sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/preferences", status=503, probability=0.3)
    codes = [api.get("preferences").status_code for _ in range(400)]
    assert 60 < codes.count(503) < 180
    sim.faults.clear()
    assert api.get("preferences").status_code == 200


def test_fault_scoped_to_realm_and_method(api: Api, sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*", realm="nope", status=500)
    sim.inject_fault(path_pattern="*/preferences", method="POST", status=500)
    assert api.get("preferences").status_code == 200


def test_latency_per_request_and_batch_item(sim: Simulator) -> None:
    import time

    sim.latency.per_request_ms = 30
    sim.latency.per_batch_item_ms = 20
    with sim_client(sim) as client:
        t0 = time.monotonic()
        client.get(f"/v3/company/{sim.default_realm}/preferences")
        one = time.monotonic() - t0
        t0 = time.monotonic()
        items = [{"bId": str(n), "Query": "select * from Term"} for n in range(5)]
        client.post(f"/v3/company/{sim.default_realm}/batch", json={"BatchItemRequest": items})
        five = time.monotonic() - t0
    assert one >= 0.03 and five >= 0.13


def test_request_counts_per_realm_and_endpoint(api: Api, sim: Simulator) -> None:
    api.get("preferences")
    api.get("query", query="select * from Term")
    api.get("query", query="select * from Item")
    snap = sim.log.snapshot(sim.default_realm)
    assert snap["endpoints"] == {"preferences": 1, "query": 2}
    assert snap["total"] == 3
