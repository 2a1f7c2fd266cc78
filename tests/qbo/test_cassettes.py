"""The client replayed against Intuit's documented answers (cassettes/): it sends the recorded
request and reads the recorded answer, faults included."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from qbsync.qbo.batch import BatchItem
from qbsync.qbo.client import QboClient
from qbsync.qbo.errors import (
    AuthenticationError,
    DuplicateNameError,
    InvalidGrant,
    StaleObjectError,
    ThrottledError,
    parse_fault,
)
from qbsync.qbo.limits import Limits
from qbsync.qbo.oauth import _token_set
from qbsync.qbo.pacing import Pacer
from qbsync.qbo.retry import RetryPolicy
from tests.qbo.test_client import FakeTokens

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
REALM = "9130350000000000"


def interaction(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CASSETTES / f"{name}.yaml").read_text())
    return data["interactions"][0]


def replay(name: str, call: Any) -> tuple[Any, list[httpx.Request]]:
    """Run `call(client)` with every request answered by the cassette; check the request."""
    recorded = interaction(name)
    want = httpx.Request(recorded["request"]["method"], recorded["request"]["uri"])
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = recorded["response"]
        headers = {k: v[0] for k, v in (answer.get("headers") or {}).items()}
        return httpx.Response(
            answer["status"]["code"], headers=headers, content=answer["body"]["string"].encode()
        )

    async def go() -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = QboClient(
            base_url="https://sandbox-quickbooks.api.intuit.com",
            realm_id=REALM,
            tokens=FakeTokens(),
            limits=Limits(),
            http=http,
            pacer=Pacer(Limits(requests_per_second=1000)),
            retry=RetryPolicy(attempts=2, base_delay=0.001, throttle_base_delay=0.001),
        )
        async with client:
            try:
                return await call(client)
            finally:
                await http.aclose()

    try:
        result: Any = asyncio.run(go())
    except Exception as exc:
        result = exc
    request = sent[0]
    assert request.method == want.method and request.url.path == want.url.path
    assert dict(request.url.params) == dict(want.url.params)
    body = recorded["request"]["body"]
    if body:
        assert json.loads(request.content) == json.loads(body)
    return result, sent


def body_of(name: str) -> dict[str, Any]:
    return json.loads(interaction(name)["request"]["body"])


def test_query_customer() -> None:
    sql = "select * from Customer where DisplayName = 'Acme Dental'"
    found, _ = replay("query_customer", lambda c: c.query(sql))
    assert [c["DisplayName"] for c in found] == ["Acme Dental"]


def test_invoice_create_update_void() -> None:
    created, _ = replay("invoice_create", lambda c: c.create("Invoice", body_of("invoice_create")))
    assert created["Id"] and created["SyncToken"] == "0"
    update = {k: v for k, v in body_of("invoice_sparse_update").items() if k != "sparse"}
    updated, _ = replay("invoice_sparse_update", lambda c: c.update("Invoice", update))
    assert updated["PrivateNote"] == "Updated by the integration"
    voided, _ = replay("invoice_void", lambda c: c.void("Invoice", "130", "1"))
    assert voided["TotalAmt"] == 0


def test_stale_object() -> None:
    update = {k: v for k, v in body_of("stale_object_5010").items() if k != "sparse"}
    error, sent = replay("stale_object_5010", lambda c: c.update("Invoice", update))
    assert isinstance(error, StaleObjectError) and error.qbo_code == "5010"
    assert len(sent) == 1


def test_batch_with_one_fault() -> None:
    request = body_of("batch_one_fault")["BatchItemRequest"]
    items = [
        BatchItem(r["bId"], r["operation"], entity, r[entity])
        for r in request
        for entity in [next(k for k in r if k not in ("bId", "operation"))]
    ]
    results, _ = replay("batch_one_fault", lambda c: c.batch(items))
    assert results[0].entity == "Invoice" and results[0].fault is None
    assert isinstance(results[1].fault, DuplicateNameError)


def test_cdc_with_deleted() -> None:
    since = dt.datetime.fromisoformat("2026-11-20T10:30:00-08:00")
    changes, _ = replay("cdc_with_deleted", lambda c: c.cdc(["Invoice", "Payment"], since))
    everything = changes["Invoice"] + changes["Payment"]
    assert any(o.get("status") == "Deleted" for o in everything)


def test_gateway_401_then_authentication_error() -> None:
    error, sent = replay("gateway_401", lambda c: c.company_info())
    assert isinstance(error, AuthenticationError) and error.detail == "Token expired"
    assert len(sent) == 2  # refreshed once, retried once


def test_xml_throttle() -> None:
    error, sent = replay("throttle_429_xml", lambda c: c.preferences())
    assert isinstance(error, ThrottledError) and error.qbo_code == "3001"
    assert len(sent) == 2  # retried, then given up


def test_oauth_answers() -> None:
    refused = interaction("oauth_invalid_grant")["response"]
    error = parse_fault(refused["status"]["code"], refused["body"]["string"])
    assert isinstance(error, InvalidGrant)
    exchanged = interaction("oauth_token_exchange")["response"]["body"]["string"]
    first = _token_set(json.loads(exchanged), REALM, None)
    assert first.refresh_expires_at and first.access_expires_at
    assert first.refresh_hard_expires_at is None  # asked without the header: not sent
    refreshed = interaction("oauth_refresh")
    assert refreshed["request"]["headers"]["x-include-refresh-token-hard-expires-in"] == ["true"]
    second = _token_set(json.loads(refreshed["response"]["body"]["string"]), REALM, first)
    assert second.refresh_hard_expires_at is not None


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_recorded_fault_is_typed(path: Path) -> None:
    answer = yaml.safe_load(path.read_text())["interactions"][0]["response"]
    if answer["status"]["code"] >= 400:
        error = parse_fault(answer["status"]["code"], answer["body"]["string"])
        assert type(error).__name__ != "QboError"
