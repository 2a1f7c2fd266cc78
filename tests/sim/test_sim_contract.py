"""The simulator's answers have the structure of the documented ones recorded under cassettes/.

By default each scenario step runs against the simulator (in-process) and its request and
response are compared with the cassette's: method, path shape, query keys, request-body keys,
status, content type, and the response body's keys and value types, recursively (every key the
cassette has must be there with the same type; the simulator may say more).

Re-recording against a real sandbox (optional): set QBSYNC_RECORD_SANDBOX=1 with
QBO_SANDBOX_CLIENT_ID, QBO_SANDBOX_CLIENT_SECRET, QBO_SANDBOX_REFRESH_TOKEN, QBO_SANDBOX_REALM_ID
(and QBO_SANDBOX_CUSTOMER / QBO_SANDBOX_ITEM naming an active customer and service item,
QBO_SANDBOX_TOKEN_FILE to receive the rotated refresh token). The recordable steps are then sent
to the sandbox through vcrpy and written to cassettes/ with secrets and the realm scrubbed.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest
import yaml

from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
PLACEHOLDER_REALM = "9130350000000000"
REDIRECT = "http://localhost:8765/callback"


@dataclass
class Target:
    http: httpx.Client
    token_url: str
    api: str
    realm: str
    client_id: str
    client_secret: str
    refresh_token: str
    access_token: str = ""
    sim: Simulator | None = None
    ctx: dict[str, Any] = field(default_factory=dict)

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token or self.access_token}",
            "Accept": "application/json",
        }

    def get(self, rest: str, **params: str) -> httpx.Response:
        return self.http.get(
            f"{self.api}/{rest}", params={**params, "minorversion": "75"}, headers=self.headers()
        )

    def post(self, rest: str, body: Any, **params: str) -> httpx.Response:
        return self.http.post(
            f"{self.api}/{rest}",
            params={**params, "minorversion": "75"},
            json=body,
            headers=self.headers(),
        )

    def token(self, data: dict[str, str], **headers: str) -> httpx.Response:
        return self.http.post(
            self.token_url,
            data=data,
            auth=(self.client_id, self.client_secret),
            headers={"Accept": "application/json", **headers},
        )


# ---------------------------------------------------------------- the scenario


def step_oauth_token_exchange(t: Target) -> httpx.Response:
    assert t.sim is not None  # needs a browser against a real sandbox: hand-written only
    code = t.sim.oauth.issue_code(
        t.sim.app, t.realm, REDIRECT, "com.intuit.quickbooks.accounting", t.sim.clock.timestamp()
    )
    return t.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})


def step_oauth_refresh(t: Target) -> httpx.Response:
    resp = t.token(
        {"grant_type": "refresh_token", "refresh_token": t.refresh_token},
        **{"x-include-refresh-token-hard-expires-in": "true"},
    )
    body = resp.json()
    t.refresh_token, t.access_token = body["refresh_token"], body["access_token"]
    return resp


def step_oauth_invalid_grant(t: Target) -> httpx.Response:
    return t.token({"grant_type": "refresh_token", "refresh_token": "not-a-live-refresh-token"})


def _setup_refs(t: Target) -> None:
    if "customer" in t.ctx:
        return
    cname = os.environ.get("QBO_SANDBOX_CUSTOMER", "Acme Dental")
    iname = os.environ.get("QBO_SANDBOX_ITEM", "Managed Services")
    cust = t.get("query", query=f"select * from Customer where DisplayName = '{cname}'").json()
    item = t.get("query", query=f"select * from Item where Name = '{iname}'").json()
    t.ctx["customer"] = cust["QueryResponse"]["Customer"][0]
    t.ctx["item"] = item["QueryResponse"]["Item"][0]
    t.ctx["start"] = _now_text(t)


def _now_text(t: Target) -> str:
    if t.sim is not None:
        return t.sim.now()
    return (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0).isoformat()


def _invoice(t: Target, amount: float) -> dict[str, Any]:
    return {
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": t.ctx["item"]["Id"], "name": t.ctx["item"]["Name"]},
                    "Qty": 1,
                    "UnitPrice": amount,
                },
            }
        ],
        "CustomerRef": {"value": t.ctx["customer"]["Id"]},
    }


def step_query_customer(t: Target) -> httpx.Response:
    _setup_refs(t)
    name = t.ctx["customer"]["DisplayName"]
    return t.get("query", query=f"select * from Customer where DisplayName = '{name}'")


def step_invoice_create(t: Target) -> httpx.Response:
    _setup_refs(t)
    resp = t.post("invoice", _invoice(t, 150.0))
    t.ctx["invoice"] = resp.json()["Invoice"]
    return resp


def step_invoice_sparse_update(t: Target) -> httpx.Response:
    inv = t.ctx["invoice"]
    body = {
        "Id": inv["Id"],
        "SyncToken": inv["SyncToken"],
        "sparse": True,
        "PrivateNote": "Updated by the integration",
    }
    resp = t.post("invoice", body)
    t.ctx["stale"] = inv["SyncToken"]
    t.ctx["invoice"] = resp.json()["Invoice"]
    return resp


def step_stale_object_5010(t: Target) -> httpx.Response:
    inv = t.ctx["invoice"]
    body = {
        "Id": inv["Id"],
        "SyncToken": t.ctx["stale"],
        "sparse": True,
        "PrivateNote": "A second writer",
    }
    return t.post("invoice", body)


def step_invoice_void(t: Target) -> httpx.Response:
    inv = t.ctx["invoice"]
    return t.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void")


def step_cdc_with_deleted(t: Target) -> httpx.Response:
    gone = t.post("invoice", _invoice(t, 12.0)).json()["Invoice"]
    t.post("invoice", {"Id": gone["Id"], "SyncToken": gone["SyncToken"]}, operation="delete")
    return t.get("cdc", entities="Invoice,Payment", changedSince=t.ctx["start"])


def step_batch_one_fault(t: Target) -> httpx.Response:
    items = [
        {"bId": "bid1", "operation": "create", "Invoice": _invoice(t, 45.0)},
        {
            "bId": "bid2",
            "operation": "create",
            "Customer": {"DisplayName": t.ctx["customer"]["DisplayName"]},
        },
    ]
    return t.post("batch", {"BatchItemRequest": items})


def step_gateway_401(t: Target) -> httpx.Response:
    if t.sim is not None:
        t.sim.advance_clock(3600)  # the access token from the refresh step is now expired
        stale = t.access_token
    else:
        stale = "expired-or-unknown-token"
    return t.http.get(
        f"{t.api}/companyinfo/{t.realm}", params={"minorversion": "75"}, headers=t.headers(stale)
    )


def step_throttle_429_xml(t: Target) -> httpx.Response:
    assert t.sim is not None  # cannot be provoked politely against a real sandbox
    t.sim.set_limits("intuit")
    fresh = t.sim.issue_tokens(t.realm)["access_token"]
    resp = None
    for _ in range(11):
        resp = t.http.get(
            f"{t.api}/preferences", params={"minorversion": "75"}, headers=t.headers(fresh)
        )
    assert resp is not None
    return resp


STEPS: list[tuple[str, Callable[[Target], httpx.Response], bool]] = [
    # (cassette, step, recordable against a real sandbox)
    ("oauth_token_exchange", step_oauth_token_exchange, False),
    ("oauth_refresh", step_oauth_refresh, True),
    ("oauth_invalid_grant", step_oauth_invalid_grant, True),
    ("query_customer", step_query_customer, True),
    ("invoice_create", step_invoice_create, True),
    ("invoice_sparse_update", step_invoice_sparse_update, True),
    ("stale_object_5010", step_stale_object_5010, True),
    ("invoice_void", step_invoice_void, True),
    ("cdc_with_deleted", step_cdc_with_deleted, True),
    ("batch_one_fault", step_batch_one_fault, True),
    ("gateway_401", step_gateway_401, True),
    ("throttle_429_xml", step_throttle_429_xml, False),
]


# ---------------------------------------------------------------- structure comparison


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return type(v).__name__


def shape_diff(expected: Any, actual: Any, where: str = "$") -> list[str]:
    if _kind(expected) != _kind(actual):
        return [f"{where}: {_kind(expected)} expected, got {_kind(actual)}"]
    if isinstance(expected, dict):
        out: list[str] = []
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{where}.{k}: missing")
            else:
                out += shape_diff(v, actual[k], f"{where}.{k}")
        return out
    if isinstance(expected, list):
        if expected and not actual:
            return [f"{where}: empty list, expected items like {expected[0]!r:.60}"]
        out = []
        for n, item in enumerate(expected):
            best = min((shape_diff(item, a, f"{where}[{n}]") for a in actual), key=len)
            out += best
        return out
    return []


def xml_shape(text: str) -> list[tuple[str, tuple[str, ...]]]:
    root = ET.fromstring(text)
    return [(el.tag, tuple(sorted(el.attrib))) for el in root.iter()]


def _path_shape(uri: str) -> str:
    path = urlparse(uri).path
    return re.sub(r"/\d+", "/N", path)


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CASSETTES / f"{name}.yaml").read_text())
    interaction: dict[str, Any] = data["interactions"][-1]
    return interaction


def compare(name: str, resp: httpx.Response) -> list[str]:
    want = _load(name)
    req, rsp = want["request"], want["response"]
    problems: list[str] = []
    sent = resp.request
    if req["method"] != sent.method:
        problems.append(f"method {sent.method} != {req['method']}")
    if _path_shape(req["uri"]) != _path_shape(str(sent.url)):
        problems.append(f"path {sent.url.path} does not match {req['uri']}")
    want_q = {k for k, _ in parse_qsl(urlparse(req["uri"]).query)}
    got_q = {k for k, _ in parse_qsl(sent.url.query.decode())}
    if want_q != got_q:
        problems.append(f"query keys {sorted(got_q)} != {sorted(want_q)}")
    body = req.get("body")
    if isinstance(body, str) and body.startswith("{"):
        problems += ["request " + p for p in shape_diff(json.loads(body), json.loads(sent.content))]
    elif isinstance(body, str):
        want_f = {k for k, _ in parse_qsl(body)}
        got_f = {k for k, _ in parse_qsl(sent.content.decode())}
        if want_f != got_f:
            problems.append(f"form keys {sorted(got_f)} != {sorted(want_f)}")
    if rsp["status"]["code"] != resp.status_code:
        problems.append(f"status {resp.status_code} != {rsp['status']['code']}")
    want_type = rsp["headers"]["Content-Type"][0].split(";")[0].split("/")[-1]
    got_type = resp.headers.get("content-type", "").split(";")[0].split("/")[-1]
    if want_type != got_type:
        problems.append(f"content type {got_type} != {want_type}")
    text = rsp["body"]["string"]
    if text.startswith("<"):
        if xml_shape(text) != xml_shape(resp.text):
            problems.append(f"XML shape {xml_shape(resp.text)} != {xml_shape(text)}")
    else:
        problems += shape_diff(json.loads(text), resp.json())
    return problems


# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def replay() -> Iterator[dict[str, httpx.Response]]:
    sim = Simulator(seed="demo", auto_consent=True, rng_seed=11)
    tokens = sim.issue_tokens()
    with sim_client(sim, auth=False) as http:
        target = Target(
            http=http,
            token_url="http://sim.test/oauth2/v1/tokens/bearer",
            api=f"http://sim.test/v3/company/{sim.default_realm}",
            realm=sim.default_realm,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            refresh_token=tokens["refresh_token"],
            access_token=tokens["access_token"],
            sim=sim,
        )
        yield {name: step(target) for name, step, _ in STEPS}


def test_every_cassette_has_a_step() -> None:
    assert sorted(p.stem for p in CASSETTES.glob("*.yaml")) == sorted(n for n, _, _ in STEPS)


@pytest.mark.parametrize("name", [n for n, _, _ in STEPS])
def test_simulator_matches_cassette(name: str, replay: dict[str, httpx.Response]) -> None:
    assert compare(name, replay[name]) == []


def test_shape_diff_catches_differences() -> None:
    assert shape_diff({"a": 1, "b": [{"c": "x"}]}, {"a": 2.5, "b": [{"c": "y"}], "z": 1}) == []
    assert shape_diff({"a": 1}, {"a": "1"}) == ["$.a: number expected, got str"]
    assert shape_diff({"a": {"b": True}}, {"a": {}}) == ["$.a.b: missing"]
    assert shape_diff({"l": [{"k": 1}]}, {"l": []})[0].startswith("$.l: empty list")


SECRET_PATTERNS = [
    re.compile(r"Bearer (?!REDACTED|realm=)\S+"),
    re.compile(r"Basic (?!REDACTED)\S+"),
    re.compile(r"\"(access|refresh)_token\":\s*\"(?!REDACTED)"),
    re.compile(r"(?:^|[&\s'])(refresh_token|code|client_secret)=(?!REDACTED|not-a-live|\")"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{20,}"),
    re.compile(r"\bAB11[A-Za-z0-9_-]{20,}"),
]


def test_cassettes_hold_no_secrets() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{path.name}: {pattern.pattern}"


# ---------------------------------------------------------------- re-recording


def _scrub_request(realm: str) -> Callable[[Any], Any]:
    def scrub(request: Any) -> Any:
        request.uri = request.uri.replace(realm, PLACEHOLDER_REALM)
        if request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            body = re.sub(r"(refresh_token|code|client_secret)=[^&]+", r"\1=REDACTED", body)
            request.body = body.replace(realm, PLACEHOLDER_REALM).encode()
        return request

    return scrub


def _scrub_response(realm: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def scrub(response: dict[str, Any]) -> dict[str, Any]:
        text = response["body"]["string"]
        text = text.decode() if isinstance(text, bytes) else text
        text = re.sub(r'"(access_token|refresh_token|id_token)":"[^"]+"', r'"\1":"REDACTED"', text)
        response["body"]["string"] = text.replace(realm, PLACEHOLDER_REALM).encode()
        return response

    return scrub


@pytest.mark.sandbox
def test_rerecord_against_sandbox() -> None:  # pragma: no cover - needs a real sandbox
    import vcr

    realm = os.environ["QBO_SANDBOX_REALM_ID"]
    recorder = vcr.VCR(
        record_mode="all",
        filter_headers=[("authorization", "Bearer REDACTED")],
        before_record_request=_scrub_request(realm),
        before_record_response=_scrub_response(realm),
        decode_compressed_response=True,
    )
    with httpx.Client(timeout=60) as http:
        target = Target(
            http=http,
            token_url="https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            api=f"https://sandbox-quickbooks.api.intuit.com/v3/company/{realm}",
            realm=realm,
            client_id=os.environ["QBO_SANDBOX_CLIENT_ID"],
            client_secret=os.environ["QBO_SANDBOX_CLIENT_SECRET"],
            refresh_token=os.environ["QBO_SANDBOX_REFRESH_TOKEN"],
        )
        try:
            for name, step, recordable in STEPS:
                if not recordable:
                    continue
                if name in ("invoice_create", "query_customer", "cdc_with_deleted"):
                    _setup_refs(target)  # set-up reads stay out of the cassette
                with recorder.use_cassette(str(CASSETTES / f"{name}.yaml")):
                    step(target)
        finally:
            out = os.environ.get("QBO_SANDBOX_TOKEN_FILE")
            if out:
                Path(out).write_text(target.refresh_token)
                os.chmod(out, 0o600)
