"""Contract tests for corners where the simulator used to differ from QuickBooks Online. Each
test quotes the documented shape it reproduces and names its source (docs/qbo-facts.md holds
the same facts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Api, invoice_body

from qbsync.sim.core import Simulator

# ---------------------------------------------------------------- query paging bounds


@pytest.mark.parametrize("bad", [0, 1001, 1500])
def test_maxresults_outside_1_to_1000_is_refused(api: Api, bad: int) -> None:
    """Source: ruckus/quickbooks-ruby issue #24, QBO's answer to a page of 1500:
    `Invalid query: QueryValidationError: value 1500 is too large. Max allowed value is 1000`
    (4001, "Invalid query"). QBO_FACTS.md: "MAXRESULTS default 100, max 1000"; the bound is
    refused, not clamped. MAXRESULTS 0 is refused the same way (a page holds at least one)."""
    err = api.fault(api.get("query", query=f"SELECT * FROM Customer MAXRESULTS {bad}"), "4001")
    assert err["Message"] == "Invalid query"
    assert err["Detail"].startswith("QueryValidationError: value ")
    assert str(bad) in err["Detail"]


def test_maxresults_1000_and_startposition_0_are_accepted(api: Api) -> None:
    """Source: routablehq/python-quickbooks PR #177: "the 0 value for start_position is
    accepted by the API ... The API considers it as 1." (and the .NET SDK's issue #111 shows
    `StartPosition 0 MaxResults 500` reaching the query processor)."""
    first = api.query("SELECT * FROM Customer STARTPOSITION 0 MAXRESULTS 1000")
    same = api.query("SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1000")
    assert first["startPosition"] == 1
    assert [c["Id"] for c in first["Customer"]] == [c["Id"] for c in same["Customer"]]


# ---------------------------------------------------------------- void


def test_void_zeroes_each_lines_qty_and_amount(api: Api) -> None:
    """Source: QBO_FACTS.md "Invoice void": "amounts become 0, `Balance` 0, "Voided" is put in
    front of `PrivateNote`, SyncToken +1"; on a voided invoice each line's `Qty` and `Amount`
    are 0 (the issue's field-by-field comparison with QuickBooks)."""
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": "1"},
            "Line": [
                {
                    "Amount": 150,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "Qty": 3, "UnitPrice": 50},
                },
                {
                    "Amount": 20,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "Qty": 2, "UnitPrice": 10},
                },
            ],
        },
    )
    voided = api.ok(
        api.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void")
    )["Invoice"]
    items = [ln for ln in voided["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert len(items) == 2
    assert [(ln["SalesItemLineDetail"]["Qty"], ln["Amount"]) for ln in items] == [(0, 0), (0, 0)]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert voided["SyncToken"] == str(int(inv["SyncToken"]) + 1)
    assert voided["PrivateNote"].startswith("Voided")
    assert api.read("Invoice", inv["Id"]) == voided


# ---------------------------------------------------------------- change feed order


def test_cdc_orders_changes_by_last_update_deletions_included(
    api: Api, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Source: Intuit's ChangeDataCapture reference (QBO_FACTS.md "Change data capture"): each
    entity's list holds the objects changed since `changedSince`, deleted ones as
    `{"Id", "status": "Deleted", "domain": "QBO", "MetaData": {"LastUpdatedTime"}}`, in the
    order of their last update. Changes within one second keep the order they happened in: a
    deletion is not put before changes made after it."""
    sim.advance_clock(5)
    since = sim.now()
    frozen = sim.clock.timestamp()
    monkeypatch.setattr(sim.clock, "timestamp", lambda: frozen)  # one second for everything
    a = api.invoice(amount=10)
    b = api.invoice(amount=20)
    c = api.invoice(amount=30)
    sim.edit_invoice(sim.default_realm, c["Id"], {"PrivateNote": "edited first"})
    api.ok(api.post("invoice", {"Id": a["Id"], "SyncToken": "0"}, operation="delete"))
    sim.edit_invoice(sim.default_realm, b["Id"], {"PrivateNote": "edited last"})
    data = api.ok(api.get("cdc", entities="Invoice", changedSince=since))
    invoices: list[dict[str, Any]] = data["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
    assert [(i["Id"], i.get("status")) for i in invoices] == [
        (c["Id"], None),
        (a["Id"], "Deleted"),
        (b["Id"], None),
    ]


def test_cdc_order_survives_the_state_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same order after a restart from `--state`: the change numbers are kept."""
    state = tmp_path / "sim.json"
    sim = Simulator(state_file=state, rng_seed=1)
    realm = sim.default_realm
    sim.advance_clock(5)
    frozen = sim.clock.timestamp()
    monkeypatch.setattr(sim.clock, "timestamp", lambda: frozen)
    body = invoice_body(amount=5)
    first = sim.create(realm, "Invoice", body)
    second = sim.create(realm, "Invoice", body)
    sim.edit_invoice(realm, second["Id"], {"PrivateNote": "x"})
    sim.delete_invoice(realm, first["Id"])
    again = Simulator(state_file=state)
    found = again.company(realm).cdc(["Invoice"], int(frozen))
    assert [(i["Id"], i.get("status")) for i in found[0]["Invoice"]] == [
        (second["Id"], None),
        (first["Id"], "Deleted"),
    ]


# ---------------------------------------------------------------- the gateway's faults


GATEWAY_KEYS = {
    "warnings",
    "intuitObject",
    "fault",
    "report",
    "queryResponse",
    "batchItemResponse",
    "attachableResponse",
    "syncErrorResponse",
    "requestId",
    "time",
    "status",
    "cdcresponse",
}


def test_token_on_another_realm_gets_the_gateways_403(api: Api, sim: Simulator) -> None:
    """Source: intuit/oauth-jsclient issue #2 (the gateway's 403 body; QBO_FACTS.md: a token on
    the wrong realm gets 403 3100): HTTP 403 with `{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":
    "message=AuthorizationFailed; errorCode=003100; statusCode=403","detail":null,"code":"3100",
    "element":null}],"type":"SERVICE"},"report":null,"queryResponse":null,"batchItemResponse":[],
    "attachableResponse":[],"syncErrorResponse":null,"requestId":null,"time":1543012192555,
    "status":null,"cdcresponse":[]}`: lower-case keys, `time` in epoch milliseconds."""
    other = sim.add_company("Other Co", seed="empty")
    resp = api.client.get(f"/v3/company/{other}/preferences", params={"minorversion": "75"})
    assert resp.status_code == 403
    body = resp.json()
    assert set(body) == GATEWAY_KEYS and "Fault" not in body
    assert body["fault"] == {
        "error": [
            {
                "message": "message=AuthorizationFailed; errorCode=003100; statusCode=403",
                "detail": None,
                "code": "3100",
                "element": None,
            }
        ],
        "type": "SERVICE",
    }
    assert isinstance(body["time"], int)
    assert abs(body["time"] - sim.clock.timestamp() * 1000) < 5000


def test_expired_token_gets_the_gateways_401_with_epoch_time(api: Api, sim: Simulator) -> None:
    """Source: QBO_FACTS.md "Faults" (the 401 `fault` object) and routablehq/python-quickbooks
    issue #250, the whole body: `{"warnings":null,"intuitObject":null,"fault":{"error":[{
    "message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":...,
    "code":"3200","element":null}],"type":"AUTHENTICATION"},"report":null,...,
    "time":1633520295688,"status":null,"cdcresponse":[]}`."""
    sim.advance_clock(3601)
    resp = api.get(f"companyinfo/{api.realm}")
    assert resp.status_code == 401
    body = resp.json()
    assert set(body) == GATEWAY_KEYS
    error = body["fault"]["error"][0]
    assert error["code"] == "3200" and error["element"] is None
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert isinstance(body["time"], int)
    assert abs(body["time"] - sim.clock.timestamp() * 1000) < 5000


# ---------------------------------------------------------------- Pacific time


def _at(sim: Simulator, utc: str) -> None:
    """Move the simulator's clock so that it reads `utc` now."""
    wanted = datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()
    sim.clock.set_offset(0.0)
    sim.clock.set_offset(wanted - sim.clock.timestamp())


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        ("2026-01-15T20:00:00", "2026-01-15T12:00:00-08:00"),
        ("2026-03-08T09:59:59", "2026-03-08T01:59:59-08:00"),  # second Sunday of March
        ("2026-03-08T10:00:01", "2026-03-08T03:00:01-07:00"),
        ("2026-07-01T19:00:00", "2026-07-01T12:00:00-07:00"),
        ("2026-11-01T08:59:59", "2026-11-01T01:59:59-07:00"),  # first Sunday of November
        ("2026-11-01T09:00:01", "2026-11-01T01:00:01-08:00"),
    ],
)
def test_entity_times_are_pacific_with_daylight_saving(
    api: Api, sim: Simulator, utc: str, local: str
) -> None:
    """Source: QBO_FACTS.md "API basics": `"time": "2026-11-20T10:33:39.110-08:00"` in winter,
    and real answers in summer carry -07:00 (`"time":"2015-07-29T09:29:56.229-07:00"`,
    `"CreateTime": "2014-09-16T14:59:48-07:00"` in Intuit's sample SalesReceipt): US Pacific
    time, daylight saving from the second Sunday of March to the first Sunday of November."""
    _at(sim, utc)
    api.renew()
    inv = api.invoice(amount=1)
    created = inv["MetaData"]["CreateTime"]
    # The clock runs on while the request is served: compare to the second, allow one more.
    got = datetime.fromisoformat(created)
    want = datetime.fromisoformat(local)
    assert created[-6:] == local[-6:]
    assert 0 <= (got - want).total_seconds() <= 1


def test_today_follows_pacific_daylight_time(api: Api, sim: Simulator) -> None:
    """At 07:30 UTC on 1 July it is 00:30 on 1 July in Los Angeles (-07:00), not 23:30 on
    30 June as a fixed -08:00 would have it: an invoice without TxnDate is dated 1 July."""
    _at(sim, "2026-07-01T07:30:00")
    api.renew()
    inv = api.invoice(amount=1)
    assert inv["TxnDate"] == "2026-07-01"
    assert sim.clock.today().isoformat() == "2026-07-01"


# ---------------------------------------------------------------- unknown resources


def test_unknown_resource_is_an_unsupported_operation(api: Api) -> None:
    """Source: IntuitDeveloper/SampleApp-CRUD-PHP issue #7 and minimul/qbo_api issue #81: a
    path QuickBooks has no resource for answers 400 with `<Fault type="ValidationFault"><Error
    code="500"><Message>Unsupported Operation</Message><Detail>Operation Could not find
    resource for relative : /v3/company/customer of full path: ... is not supported.</Detail>`."""
    resp = api.post("estimate", {"CustomerRef": {"value": "1"}})
    err = api.fault(resp, "500")
    assert resp.json()["Fault"]["type"] == "ValidationFault"
    assert err["Message"] == "Unsupported Operation"
    assert err["Detail"] == (
        f"Operation Could not find resource for relative : /v3/company/{api.realm}/estimate "
        f"of full path: /v3/company/{api.realm}/estimate is not supported."
    )


def test_403_asked_for_as_xml_and_for_a_missing_scope(api: Api, sim: Simulator) -> None:
    """Source: IntuitDeveloper/QBOConceptsTutorial-PHP issue #13, a 403 asked for as XML:
    `<IntuitResponse time="2019-09-11T21:34:30.237-07:00" xmlns="http://schema.intuit.com/
    finance/v3"><Fault type="SERVICE"><Error code="3100"><Message>message=AuthorizationFailed;
    errorCode=003100; statusCode=403</Message><Detail>The access token does not have
    sufficient scope</Detail></Error></Fault></IntuitResponse>`."""
    other = sim.add_company("Other Co", seed="empty")
    resp = api.client.get(f"/v3/company/{other}/preferences", headers={"Accept": "application/xml"})
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("application/xml")
    assert '<Fault type="SERVICE"><Error code="3100">' in resp.text
    assert "<Message>message=AuthorizationFailed; errorCode=003100; statusCode=403</Message>" in (
        resp.text
    )
    now = sim.clock.timestamp()
    redirect = "http://localhost/callback"
    code = sim.oauth.issue_code(sim.app, sim.default_realm, redirect, "openid email", now)
    token = sim.oauth.exchange_code(sim.app, code, redirect, now, False)["access_token"]
    bare = {"Authorization": f"Bearer {token}"}
    resp = api.client.get(f"/v3/company/{api.realm}/preferences", headers=bare)
    assert resp.status_code == 403
    assert resp.json()["fault"]["error"][0]["detail"] == (
        "The access token does not have sufficient scope"
    )
    resp = api.client.get(
        f"/v3/company/{api.realm}/preferences", headers={**bare, "Accept": "application/xml"}
    )
    assert "<Detail>The access token does not have sufficient scope</Detail>" in resp.text
