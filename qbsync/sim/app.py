"""The ASGI application: the company API, OAuth, and the /_sim control surface, wrapped in the
middleware that applies latency, Intuit's throttles, injected faults and the request log."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qbsync.sim import admin, api, oauth_http
from qbsync.sim.clock import iso_millis
from qbsync.sim.core import Simulator
from qbsync.sim.faults import MESSAGES, FaultRule, QBOError, fault_body
from qbsync.sim.gateway import (
    gateway_401,
    gateway_403,
    gateway_outage,
    xml_auth_100,
    xml_forbidden,
    xml_throttle,
)
from qbsync.sim.oauth import ACCOUNTING_SCOPE
from qbsync.sim.values import dumps

JSON_TYPE = "application/json;charset=UTF-8"
XML_TYPE = "application/xml;charset=UTF-8"


def _tid() -> str:
    return f"1-{uuid.uuid4().hex[:24]}"


def _json(status: int, body: Any) -> Response:
    return Response(
        dumps(body), status_code=status, media_type=JSON_TYPE, headers={"intuit_tid": _tid()}
    )


def _xml(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type=XML_TYPE, headers={"intuit_tid": _tid()})


def _wants_xml(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "xml" in accept and "json" not in accept


def _epoch_ms(sim: Simulator) -> int:
    return int(sim.clock.timestamp() * 1000)


def unauthorized(sim: Simulator, detail: str, xml: bool) -> Response:
    if xml:
        return _xml(401, xml_auth_100(iso_millis(sim.clock.now())))
    return _json(401, gateway_401(_epoch_ms(sim), detail))


SCOPE_DETAIL = "The access token does not have sufficient scope"


def forbidden(sim: Simulator, xml: bool, detail: str | None = None) -> Response:
    """The gateway refuses a valid token on a company it was not granted for (or without the
    accounting scope): 403 in its lower-case envelope, or as Intuit's XML when the client
    asks for XML, before the request reaches QBO."""
    if xml:
        return _xml(403, xml_forbidden(iso_millis(sim.clock.now()), detail or ""))
    return _json(403, gateway_403(_epoch_ms(sim), detail))


async def company_api(sim: Simulator, request: Request) -> Response:
    realm = request.path_params["realm"]
    rest = request.path_params.get("rest", "")
    now = sim.clock.timestamp()
    auth = request.headers.get("authorization", "")
    xml = _wants_xml(request)
    if not auth.lower().startswith("bearer "):
        return unauthorized(sim, "Authorization header missing or not Bearer", xml)
    grant, why = sim.oauth.check_access(auth[7:].strip(), now)
    if grant is None:
        return unauthorized(sim, why, xml)
    if ACCOUNTING_SCOPE not in grant.scope.split():
        return forbidden(sim, xml, SCOPE_DETAIL)
    if grant.realm_id != realm or realm not in sim.companies:
        return forbidden(sim, xml)
    raw = await request.body()
    params = dict(request.query_params)
    requestid = params.get("requestid") or None
    method = request.method
    is_batch = rest.strip("/").lower() == "batch"
    items = 0
    with sim.lock:
        company = sim.companies[realm]
        cached = company.replay.get(requestid) if requestid and not is_batch else None
        if method == "POST" and cached is not None:
            status, body = cached
        else:
            status, body, items = api.handle(company, method, rest, params, raw)
            if "Header" not in body:  # a report carries its time in Header.Time
                body["time"] = iso_millis(sim.clock.now())
            if method == "POST" and requestid and not is_batch:
                company.replay[requestid] = (status, body)
    if items and sim.latency.per_batch_item_ms:
        await asyncio.sleep(items * sim.latency.per_batch_item_ms / 1000)
    if method == "POST":
        sim.save()
    return _json(status, body)


def index(sim: Simulator, request: Request) -> Response:
    return JSONResponse(
        {
            "simulator": "qbsync QuickBooks Online simulator",
            "api": f"{str(request.base_url).rstrip('/')}/v3/company/{sim.default_realm}",
            "discovery": "/.well-known/openid_sandbox_configuration/",
        }
    )


def create_app(sim: Simulator) -> Starlette:
    async def api_endpoint(request: Request) -> Response:
        return await company_api(sim, request)

    async def index_endpoint(request: Request) -> Response:
        return index(sim, request)

    routes = [
        Route("/", index_endpoint),
        Route("/v3/company/{realm}/{rest:path}", api_endpoint, methods=["GET", "POST"]),
        *oauth_http.routes(sim),
        *admin.routes(sim),
    ]
    return SimApp(sim, routes)


class SimApp(Starlette):
    """Starlette with SimMiddleware outside everything else, so a dropped connection reaches
    the server untouched (Starlette's own error middleware would turn it into a 500)."""

    def __init__(self, sim: Simulator, routes: list[Any]) -> None:
        super().__init__(routes=routes)
        self.state.sim = sim
        self._outer = SimMiddleware(self._inner, sim)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._outer(scope, receive, send)


# ---------------------------------------------------------------- middleware


def _realm_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "v3" and parts[2] == "company":
        return parts[3]
    return None


def endpoint_name(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 4 and parts[0] == "v3" and parts[1] == "company":
        return parts[3].lower()
    if path.startswith(oauth_http.TOKEN_PATH):
        return "oauth.token"
    if path.startswith(oauth_http.REVOKE_PATH):
        return "oauth.revoke"
    if path.startswith(oauth_http.AUTHORIZE_PATH):
        return "oauth.authorize"
    if path.startswith("/.well-known"):
        return "oauth.discovery"
    return path.strip("/").split("/")[0] or "index"


def _http_fault(rule: FaultRule, now: str, now_ms: int) -> tuple[int, str, bytes]:
    status = rule.status
    code = rule.code
    if status == 401 or code in ("3200",):
        return 401, JSON_TYPE, dumps(gateway_401(now_ms))
    if code == "3100" or (status == 403 and code is None):
        return 403, JSON_TYPE, dumps(gateway_403(now_ms))
    if code == "100":
        return 401, XML_TYPE, xml_auth_100(now)
    if status == 429 or code == "3001":
        return 429, XML_TYPE, xml_throttle(now)
    if code is None:
        code = {404: "610"}.get(status, "10000" if status >= 500 else "6000")
    if code == "120":
        ftype = "AuthorizationFault"
    elif status >= 500 or code == "10000":
        ftype = "SystemFault"
    else:
        ftype = "ValidationFault"
    msg = MESSAGES.get(code, ("Injected fault", "{detail}"))
    err = QBOError(
        code,
        status=status,
        type=ftype,
        detail=None if "{detail}" not in msg[1] else "injected by the simulator",
    )
    return status, JSON_TYPE, dumps(fault_body(err, now))


class SimMiddleware:
    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        sim = self.sim
        path: str = scope["path"]
        method: str = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        realm = _realm_of(path)
        entry: dict[str, Any] = {
            "at": sim.now(),
            "method": method,
            "path": path,
            "query": query,
            "realm": realm,
            "endpoint": endpoint_name(path),
            "status": None,
        }
        started = time.monotonic()
        try:
            if sim.latency.per_request_ms:
                await asyncio.sleep(sim.latency.per_request_ms / 1000)
            if realm is not None and not sim.limiter.admit(
                realm,
                self._app_of(scope),
                sim.clock.timestamp(),
                batch=path.rstrip("/").lower().endswith("/batch"),
            ):
                entry["status"] = 429
                await self._send(send, 429, XML_TYPE, xml_throttle(iso_millis(sim.clock.now())))
                return
            rule = sim.faults.pick(method, path, query, realm)
            if rule is not None:
                entry["fault"] = rule.kind
                if rule.when == "after":
                    # The operation runs; its answer is lost on the way back.
                    async def swallow(message: Message) -> None:
                        return None

                    await self.app(scope, receive, swallow)
                await self._fire(rule, send, entry)
                return

            async def watch(message: Message) -> None:
                if message["type"] == "http.response.start":
                    entry["status"] = message["status"]
                await send(message)

            await self.app(scope, receive, watch)
        finally:
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            sim.log.add(entry)

    def _app_of(self, scope: Scope) -> str:
        for k, v in scope.get("headers", []):
            if k == b"authorization" and v[:7].lower() == b"bearer ":
                rec = self.sim.oauth.access_tokens.get(v[7:].decode().strip())
                grant = self.sim.oauth.grants.get(rec.grant_id) if rec else None
                return grant.client_id if grant else "-"
        return "-"

    async def _send(self, send: Send, status: int, ctype: str, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", ctype.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"intuit_tid", _tid().encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _fire(self, rule: FaultRule, send: Send, entry: dict[str, Any]) -> None:
        now = iso_millis(self.sim.clock.now())
        now_ms = _epoch_ms(self.sim)
        kind = rule.kind
        if kind == "http":
            status, ctype, body = _http_fault(rule, now, now_ms)
        elif kind == "auth401":
            status, ctype, body = 401, JSON_TYPE, dumps(gateway_401(now_ms))
        elif kind == "xml401":
            status, ctype, body = 401, XML_TYPE, xml_auth_100(now)
        elif kind == "throttle":
            status, ctype, body = 429, XML_TYPE, xml_throttle(now)
        elif kind == "gateway":
            status = rule.status
            ctype, body = gateway_outage(status, now)
        elif kind == "timeout":
            entry["status"] = "timeout"
            await _hang_then_drop(send, rule.hang_seconds)
            return
        else:
            entry["status"] = "dropped"
            await _drop(send)
            return
        entry["status"] = status
        await self._send(send, status, ctype, body)


async def _drop(send: Send) -> None:
    """Close the connection without a response. Over a socket the server's transport is closed
    (the client sees the peer disconnect); mounted in-process there is no socket, so the client
    gets the transport error httpx would raise."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        # Let the server notice the loss before the app returns, so it sends nothing.
        await asyncio.sleep(0.01)
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response (simulated)")


async def _hang_then_drop(send: Send, seconds: float) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        # In-process there is no client-side timer to outlast: report the timeout directly.
        raise httpx.ReadTimeout("simulated timeout")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        # Server shutting down mid-hang: still no answer, just the closed connection.
        transport.close()
        raise
    await _drop(send)


__all__ = ["SimMiddleware", "create_app", "endpoint_name"]
