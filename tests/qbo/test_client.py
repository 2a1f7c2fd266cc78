"""The client's request path against a scripted transport (no sockets): paging, retries,
refresh on 401, unknown outcomes, batch and CDC parsing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from qbsync.qbo.batch import BatchItem
from qbsync.qbo.client import QboClient
from qbsync.qbo.errors import (
    AuthenticationError,
    DuplicateNameError,
    QboNetworkError,
    ServerError,
    ThrottledError,
    UnknownOutcome,
)
from qbsync.qbo.limits import Limits
from qbsync.qbo.pacing import Pacer
from qbsync.qbo.retry import RetryPolicy

REALM = "9341000000000001"
TIME = "2026-11-20T10:33:39.110-08:00"


class FakeTokens:
    def __init__(self) -> None:
        self.token = "access-1"
        self.refreshes: list[str] = []

    async def access_token(self) -> str:
        return self.token

    async def refreshed(self, rejected: str) -> str:
        self.refreshes.append(rejected)
        self.token = f"access-{len(self.refreshes) + 1}"
        return self.token


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, tokens: FakeTokens | None = None) -> QboClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return QboClient(
        base_url="http://127.0.0.1:9",
        realm_id=REALM,
        tokens=tokens or FakeTokens(),
        limits=Limits(),
        http=http,
        pacer=Pacer(Limits(requests_per_second=1000, requests_per_minute=100000)),
        retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, throttle_base_delay=0.001),
    )


def ok(payload: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={**payload, "time": TIME}, headers={"intuit_tid": "tid-ok"})


def fault(status: int, code: str, type_: str = "ValidationFault") -> httpx.Response:
    body = {"Fault": {"Error": [{"Message": "m", "Detail": "d", "code": code}], "type": type_}}
    return httpx.Response(status, json=body, headers={"intuit_tid": "tid-err"})


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_every_call_carries_minorversion_accept_and_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok({"Item": {"Id": "1", "Name": "Labor"}})

    async def go() -> dict[str, Any]:
        async with make_client(handler) as client:
            item = await client.read("Item", "1")
            assert client.calls == 1
            assert client.last_server_time == dt.datetime.fromisoformat(TIME)
            return item

    assert run(go()) == {"Id": "1", "Name": "Labor"}
    request = seen[0]
    assert request.url.path == f"/v3/company/{REALM}/item/1"
    assert request.url.params["minorversion"] == "75"
    assert request.headers["accept"] == "application/json"
    assert request.headers["authorization"] == "Bearer access-1"


def test_query_all_pages_until_a_short_page() -> None:
    queries: list[str] = []
    rows = [{"Id": str(i)} for i in range(1, 8)]

    def handler(request: httpx.Request) -> httpx.Response:
        sql = request.url.params["query"]
        queries.append(sql)
        start = int(sql.split("STARTPOSITION ")[1].split()[0])
        size = int(sql.split("MAXRESULTS ")[1])
        page = rows[start - 1 : start - 1 + size]
        return ok({"QueryResponse": {"Customer": page} if page else {}})

    async def go() -> list[dict[str, Any]]:
        async with make_client(handler) as client:
            return await client.query_all("Customer", where="Active = true", page_size=3)

    assert run(go()) == rows
    assert queries == [
        "SELECT * FROM Customer WHERE Active = true STARTPOSITION 1 MAXRESULTS 3",
        "SELECT * FROM Customer WHERE Active = true STARTPOSITION 4 MAXRESULTS 3",
        "SELECT * FROM Customer WHERE Active = true STARTPOSITION 7 MAXRESULTS 3",
    ]


def test_401_refreshes_once_and_retries_once() -> None:
    tokens = FakeTokens()
    auths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        auths.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer access-1":
            return httpx.Response(401, json={"fault": {"error": [{"code": "3200"}]}})
        return ok({"Invoice": {"Id": "5"}})

    async def go() -> dict[str, Any]:
        async with make_client(handler, tokens) as client:
            return await client.create("Invoice", {"Line": []})

    assert run(go()) == {"Id": "5"}  # a write without requestid: a 401 never ran, so it is safe
    assert tokens.refreshes == ["access-1"]
    assert auths == ["Bearer access-1", "Bearer access-2"]


def test_second_401_raises_authentication_error() -> None:
    tokens = FakeTokens()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, text="<Fault type='AuthenticationFault'><Error code='100'/></Fault>"
        )

    async def go() -> None:
        async with make_client(handler, tokens) as client:
            await client.company_info()

    with pytest.raises(AuthenticationError) as err:
        run(go())
    assert err.value.exit_code == 3
    assert tokens.refreshes == ["access-1"]


def test_throttle_and_server_errors_are_retried_for_reads() -> None:
    answers = [
        httpx.Response(429, text="<Fault><Error code='3001'/></Fault>"),
        fault(503, "10000", "SystemFault"),
        ok({"Preferences": {"Id": "1"}}),
    ]

    async def go() -> dict[str, Any]:
        async with make_client(lambda r: answers.pop(0)) as client:
            prefs = await client.preferences()
            assert client.calls == 3
            return prefs

    assert run(go()) == {"Id": "1"}


def test_retries_run_out_with_the_typed_error() -> None:
    async def go(status: int) -> None:
        body = "<Fault><Error code='3001'/></Fault>" if status == 429 else "oops"
        async with make_client(lambda r: httpx.Response(status, text=body)) as client:
            await client.query("SELECT * FROM Item")

    with pytest.raises(ThrottledError):
        run(go(429))
    with pytest.raises(ServerError):
        run(go(502))


def test_lost_answer_to_a_write_without_requestid_is_unknown_outcome() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    async def go() -> None:
        async with make_client(handler) as client:
            await client.create("Invoice", {"Line": []})

    with pytest.raises(UnknownOutcome):
        run(go())
    assert len(calls) == 1  # never blindly re-sent


def test_write_with_requestid_is_retried_and_replayed() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("dropped", request=request)
        return ok({"Invoice": {"Id": "9"}})

    async def go() -> dict[str, Any]:
        async with make_client(handler) as client:
            return await client.create("Invoice", {"Line": []}, request_id="op-1")

    assert run(go()) == {"Id": "9"}
    assert [c.url.params["requestid"] for c in calls] == ["op-1", "op-1"]


def test_write_with_requestid_exhausted_after_lost_answer_is_unknown_outcome() -> None:
    answers: list[Any] = ["drop", fault(500, "10000", "SystemFault"), fault(500, "10000")]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if answer == "drop":
            raise httpx.ReadError("reset", request=request)
        return answer

    async def go() -> None:
        async with make_client(handler) as client:
            await client.update("Invoice", {"Id": "1", "SyncToken": "0"}, request_id="op-2")

    with pytest.raises(UnknownOutcome):
        run(go())


def test_connect_failures_are_retried_even_for_writes_then_reported() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    async def go() -> None:
        async with make_client(handler) as client:
            await client.create("Invoice", {"Line": []})

    with pytest.raises(QboNetworkError):
        run(go())
    assert len(calls) == 3


def test_validation_fault_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return fault(400, "6240")

    async def go() -> None:
        async with make_client(handler) as client:
            await client.create("Customer", {"DisplayName": "Acme"}, request_id="r")

    with pytest.raises(DuplicateNameError) as err:
        run(go())
    assert len(calls) == 1 and err.value.intuit_tid == "tid-err"


def test_void_delete_and_sparse_update_requests() -> None:
    seen: list[tuple[str, dict[str, str], Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = {k: v for k, v in request.url.params.items() if k != "minorversion"}
        seen.append((request.url.path.rsplit("/", 1)[-1], params, json.loads(request.content)))
        entity = "Payment" if "payment" in request.url.path else "Invoice"
        return ok({entity: {"Id": "1"}})

    async def go() -> None:
        async with make_client(handler) as client:
            await client.void("Invoice", "1", "2")
            await client.void("Payment", "1", "3", request_id="v")
            await client.delete("Invoice", "1", "4")
            await client.update("Invoice", {"Id": "1", "SyncToken": "5", "PrivateNote": "x"})

    run(go())
    assert seen == [
        ("invoice", {"operation": "void"}, {"Id": "1", "SyncToken": "2"}),
        (
            "payment",
            {"operation": "update", "include": "void", "requestid": "v"},
            {"Id": "1", "SyncToken": "3", "sparse": True},
        ),
        ("invoice", {"operation": "delete"}, {"Id": "1", "SyncToken": "4"}),
        ("invoice", {}, {"Id": "1", "SyncToken": "5", "PrivateNote": "x", "sparse": True}),
    ]


def test_batch_results_in_request_order_with_per_item_faults() -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return ok(
            {
                "BatchItemResponse": [
                    {
                        "bId": "2",
                        "Fault": {
                            "Error": [{"code": "6240", "Message": "dup"}],
                            "type": "ValidationFault",
                        },
                    },
                    {"bId": "1", "Invoice": {"Id": "11"}},
                    {"bId": "3", "QueryResponse": {"Item": [{"Id": "4"}]}},
                ]
            }
        )

    async def go() -> list[Any]:
        async with make_client(handler) as client:
            return await client.batch(
                [
                    BatchItem("1", "create", "Invoice", {"Line": []}),
                    BatchItem("2", "create", "Customer", {"DisplayName": "A"}),
                    BatchItem("3", "query", None, query="SELECT * FROM Item"),
                ]
            )

    results = run(go())
    assert [r.bid for r in results] == ["1", "2", "3"]
    assert results[0].entity == "Invoice" and results[0].body == {"Id": "11"}
    assert isinstance(results[1].fault, DuplicateNameError)
    assert results[2].body == {"Item": [{"Id": "4"}]}
    assert sent[0]["BatchItemRequest"][2] == {"bId": "3", "Query": "SELECT * FROM Item"}


def test_cdc_groups_changes_by_entity() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["entities"] == "Invoice,Payment"
        assert request.url.params["changedSince"] == "2026-11-01T00:00:00+00:00"
        return ok(
            {
                "CDCResponse": [
                    {
                        "QueryResponse": [
                            {"Invoice": [{"Id": "1"}, {"Id": "2", "status": "Deleted"}]},
                            {"startPosition": 1},
                        ]
                    }
                ]
            }
        )

    async def go() -> dict[str, list[dict[str, Any]]]:
        async with make_client(handler) as client:
            since = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
            return await client.cdc(["Invoice", "Payment"], since)

    assert run(go()) == {
        "Invoice": [{"Id": "1"}, {"Id": "2", "status": "Deleted"}],
        "Payment": [],
    }


def test_server_error_on_a_write_without_requestid_is_unknown_outcome() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return fault(500, "10000", "SystemFault")

    async def go() -> None:
        async with make_client(handler) as client:
            await client.create("Invoice", {"Line": []})

    with pytest.raises(UnknownOutcome) as err:
        run(go())
    assert len(calls) == 1 and err.value.status == 500 and err.value.intuit_tid == "tid-err"
    assert err.value.message.count("intuit_tid") == 1


def test_throttled_write_without_requestid_is_retried() -> None:
    answers = [httpx.Response(429, text="<Fault><Error code='3001'/></Fault>"), ok({"Item": {}})]

    async def go() -> dict[str, Any]:
        async with make_client(lambda r: answers.pop(0)) as client:
            return await client.create("Item", {"Name": "X"})

    assert run(go()) == {}  # a 429 never ran, so sending it again cannot duplicate
