"""The client against the simulator over a socket: every write path, faults and lost answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from qbsync.companies.session import open_client, run
from qbsync.qbo.batch import BatchItem
from qbsync.qbo.client import QboClient
from qbsync.qbo.errors import (
    AuthenticationError,
    DuplicateNameError,
    ObjectNotFound,
    QboValidationError,
    StaleObjectError,
    UnknownOutcome,
)
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

T = TypeVar("T")


def with_client(
    company: ConnectedCompany, fn: Callable[[QboClient], Awaitable[T]], timeout: float = 30
) -> T:
    with Workspace() as ws:

        async def go() -> T:
            async with open_client(ws, company.key) as client:
                client.timeout = timeout
                return await fn(client)

        return run(go())


def customers_named(client: QboClient, name: str) -> Awaitable[list[dict[str, Any]]]:
    return client.query(f"SELECT * FROM Customer WHERE DisplayName = '{name}'")


def test_documents_round_trip(served_company: ConnectedCompany) -> None:
    async def story(client: QboClient) -> None:
        since = (client.last_server_time or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=1)
        customer = await client.create("Customer", {"DisplayName": "Round Trip Ltd"})
        item = (await client.query("SELECT * FROM Item MAXRESULTS 1"))[0]
        line = {
            "Amount": 150.0,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 150},
        }
        invoice = await client.create(
            "Invoice",
            {"CustomerRef": {"value": customer["Id"]}, "Line": [line], "DocNumber": "RT-1"},
            request_id="rt-invoice-1",
        )
        assert invoice["SyncToken"] == "0" and invoice["TotalAmt"] == 150
        edited = await client.update(
            "Invoice", {"Id": invoice["Id"], "SyncToken": "0", "PrivateNote": "qbsync:rt-1"}
        )
        assert edited["SyncToken"] == "1" and edited["PrivateNote"] == "qbsync:rt-1"
        assert edited["Line"][0]["Amount"] == 150  # sparse: lines untouched
        with pytest.raises(StaleObjectError):
            await client.update("Invoice", {"Id": invoice["Id"], "SyncToken": "0"})
        assert await client.count("Invoice", "DocNumber = 'RT-1'") == 1
        payment = await client.create(
            "Payment",
            {
                "CustomerRef": {"value": customer["Id"]},
                "TotalAmt": 50,
                "Line": [
                    {"Amount": 50, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
                ],
            },
        )
        assert (await client.read("Invoice", invoice["Id"]))["Balance"] == 100
        await client.void("Payment", payment["Id"], payment["SyncToken"])
        current = await client.read("Invoice", invoice["Id"])
        assert current["Balance"] == 150
        voided = await client.void("Invoice", invoice["Id"], current["SyncToken"])
        assert voided["TotalAmt"] == 0
        memo = await client.create(
            "CreditMemo", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}
        )
        await client.delete("CreditMemo", memo["Id"], memo["SyncToken"])
        with pytest.raises(ObjectNotFound):
            await client.read("CreditMemo", memo["Id"])
        changes = await client.cdc(["Invoice", "CreditMemo", "Customer"], since)
        assert [i["Id"] for i in changes["Invoice"]] == [invoice["Id"]]
        assert changes["CreditMemo"][0]["status"] == "Deleted"
        assert customer["Id"] in {c["Id"] for c in changes["Customer"]}
        assert (await client.company_info())["CompanyName"] == "Harbor IT Demo Co"
        assert "SalesFormsPrefs" in await client.preferences()
        assert client.last_server_time is not None

    with_client(served_company, story)


def test_batch_with_a_per_item_fault(served_company: ConnectedCompany) -> None:
    async def go(client: QboClient) -> None:
        await client.create("Customer", {"DisplayName": "Taken Name"})
        results = await client.batch(
            [
                BatchItem("1", "create", "Customer", {"DisplayName": "Batch One"}),
                BatchItem("2", "create", "Customer", {"DisplayName": "Taken Name"}),
                BatchItem("3", "query", None, query="SELECT * FROM Term"),
            ],
            request_id="batch-1",
        )
        assert results[0].entity == "Customer" and results[0].body is not None
        assert results[0].body["DisplayName"] == "Batch One"
        assert isinstance(results[1].fault, DuplicateNameError)
        assert results[2].body is not None and results[2].body["Term"]
        with pytest.raises(QboValidationError):
            await client.query("SELECT * FROM Nope")
        # A query too long for a URL goes as a POST body.
        ids = ", ".join(f"'{n}'" for n in range(1, 400))
        found = await client.query(f"SELECT * FROM Customer WHERE Id IN ({ids})")
        assert found and len(found) == await client.count("Customer")

    with_client(served_company, go)


def test_lost_answer_without_requestid_is_unknown_outcome(
    served_company: ConnectedCompany,
) -> None:
    control = served_company.control
    control.inject_fault("*/customer", method="POST", kind="drop", when="after", count=1)

    async def go(client: QboClient) -> list[dict[str, Any]]:
        with pytest.raises(UnknownOutcome):
            await client.create("Customer", {"DisplayName": "Maybe Made"})
        return await customers_named(client, "Maybe Made")

    assert len(with_client(served_company, go)) == 1  # it ran: a blind retry would duplicate


def test_lost_answer_with_requestid_is_retried_without_duplicate(
    served_company: ConnectedCompany,
) -> None:
    control = served_company.control
    control.inject_fault("*/customer", method="POST", kind="drop", when="after", count=2)

    async def go(client: QboClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        made = await client.create("Customer", {"DisplayName": "Once Only"}, request_id="c-1")
        return made, await customers_named(client, "Once Only")

    made, found = with_client(served_company, go)
    assert [c["Id"] for c in found] == [made["Id"]]


def test_timeouts_retry_reads_and_stop_blind_writes(served_company: ConnectedCompany) -> None:
    control = served_company.control
    control.inject_fault("*/companyinfo/*", kind="timeout", hang_seconds=1, count=1)

    async def read(client: QboClient) -> dict[str, Any]:
        return await client.company_info()

    assert with_client(served_company, read, timeout=0.3)["CompanyName"]
    control.inject_fault("*/customer", method="POST", kind="timeout", hang_seconds=1, count=1)

    async def write(client: QboClient) -> None:
        await client.create("Customer", {"DisplayName": "Slow Co"})

    with pytest.raises(UnknownOutcome):
        with_client(served_company, write, timeout=0.3)


@pytest.mark.parametrize("kind", ["auth401", "xml401"])
def test_each_401_shape_refreshes_once(served_company: ConnectedCompany, kind: str) -> None:
    control = served_company.control
    control.clear_request_log()
    control.inject_fault("*/preferences", kind=kind, count=1)

    async def go(client: QboClient) -> dict[str, Any]:
        return await client.preferences()

    assert with_client(served_company, go)
    assert [e["status"] for e in control.request_log() if e["endpoint"] == "oauth.token"] == [200]


def test_a_second_401_is_an_authentication_error(served_company: ConnectedCompany) -> None:
    served_company.control.inject_fault("*/preferences", kind="auth401", count=2)

    async def go(client: QboClient) -> dict[str, Any]:
        return await client.preferences()

    with pytest.raises(AuthenticationError) as err:
        with_client(served_company, go)
    assert err.value.exit_code == 3 and err.value.intuit_tid


def test_throttles_and_server_errors_are_retried(served_company: ConnectedCompany) -> None:
    control = served_company.control
    control.inject_fault("*/query*", kind="throttle", count=1)
    control.inject_fault("*/query*", status=503, count=1)

    async def go(client: QboClient) -> int:
        return await client.count("Item")

    assert with_client(served_company, go) > 0
