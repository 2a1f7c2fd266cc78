"""Intermittent outages in front of QBO, injectable as `kind: gateway` faults, in the shapes
real clients have logged; and qbsync's client rides them out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import Api

from qbsync.qbo.client import QboClient
from qbsync.qbo.errors import ServerError
from qbsync.qbo.limits import Limits
from qbsync.qbo.pacing import Pacer
from qbsync.qbo.retry import RetryPolicy
from qbsync.sim.core import Simulator
from qbsync.sim.testing import BASE_URL, async_sim_client


def test_502_and_503_are_the_proxys_html_page(api: Api, sim: Simulator) -> None:
    """Source: minimul/qbo_api issue #81, a 503 logged from QuickBooks: `content-type:
    text/html`, an `intuit_tid` header, and the body `<html>\\r\\n<head><title>503 Service
    Temporarily Unavailable</title></head>...`; minimul/qbo_api pull request #102: "The QBO API
    sometimes returns 502 errors straight from NGINX"."""
    for status, title in ((502, "502 Bad Gateway"), (503, "503 Service Temporarily Unavailable")):
        sim.inject_fault(path_pattern="*/companyinfo/*", kind="gateway", status=status, count=1)
        resp = api.get(f"companyinfo/{api.realm}")
        assert resp.status_code == status
        assert resp.headers["content-type"].startswith("text/html")
        assert resp.headers["intuit_tid"]
        assert f"<head><title>{title}</title></head>" in resp.text
    assert api.get(f"companyinfo/{api.realm}").status_code == 200


def test_504_is_intuits_xml_gateway_timeout(api: Api, sim: Simulator) -> None:
    """Source: mcohen01/node-quickbooks issue #242, a 504 from QuickBooks:
    `<IntuitResponse time="..." xmlns="http://schema.intuit.com/finance/v3"><Fault
    type="SERVICE"><Error code="6002"><Message>message=GatewayTimeout; errorCode=006002;
    statusCode=504</Message></Error></Fault></IntuitResponse>` (and ruckus/quickbooks-ruby
    pull request #175 for the same code, 6002, on an older message)."""
    sim.inject_fault(path_pattern="*/query*", kind="gateway", status=504, count=1)
    resp = api.get("query", query="select * from Term")
    assert resp.status_code == 504
    assert resp.headers["content-type"].startswith("application/xml")
    assert '<Fault type="SERVICE"><Error code="6002">' in resp.text
    assert "<Message>message=GatewayTimeout; errorCode=006002; statusCode=504</Message>" in (
        resp.text
    )
    assert "<Detail>" not in resp.text


def test_a_gateway_fault_needs_a_gateway_status(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="502, 503 or 504"):
        sim.inject_fault(path_pattern="*", kind="gateway", status=500)


class _Tokens:
    def __init__(self, token: str) -> None:
        self.token = token

    async def access_token(self) -> str:
        return self.token

    async def refreshed(self, rejected: str) -> str:
        return self.token


def _client(sim: Simulator, attempts: int) -> tuple[QboClient, Any]:
    token = sim.issue_tokens()["access_token"]
    http = async_sim_client(sim, token=token)
    client = QboClient(
        base_url=BASE_URL,
        realm_id=sim.default_realm,
        tokens=_Tokens(token),
        limits=Limits(),
        http=http,
        pacer=Pacer(Limits(requests_per_second=1000, requests_per_minute=100000)),
        retry=RetryPolicy(
            attempts=attempts, base_delay=0.001, max_delay=0.002, throttle_base_delay=0.001
        ),
    )
    return client, http


def test_qbsyncs_client_retries_through_outages(sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/query*", kind="gateway", status=502, count=1)
    sim.inject_fault(path_pattern="*/query*", kind="gateway", status=503, count=1)
    sim.inject_fault(path_pattern="*/query*", kind="gateway", status=504, count=1)

    async def go() -> list[dict[str, Any]]:
        client, http = _client(sim, attempts=4)
        async with http:
            return await client.query("SELECT * FROM Term")

    terms = asyncio.run(go())
    assert len(terms) == 3
    assert [r.fired for r in sim.faults.rules()] == [1, 1, 1]


def test_qbsyncs_client_gives_up_with_a_server_error(sim: Simulator) -> None:
    sim.inject_fault(path_pattern="*/query*", kind="gateway", status=504)

    async def go() -> None:
        client, http = _client(sim, attempts=2)
        async with http:
            await client.query("SELECT * FROM Term")

    with pytest.raises(ServerError) as caught:
        asyncio.run(go())
    assert caught.value.qbo_code == "6002"
