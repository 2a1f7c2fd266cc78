"""Helpers for tests that mount the simulator in-process (no socket)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from qbsync.sim.app import create_app
from qbsync.sim.core import Simulator

BASE_URL = "http://sim.test"


class InProcessTransport(httpx.AsyncBaseTransport):
    """A lean in-process ASGI transport (httpx.ASGITransport works as well, but costs a failed
    import per request, which adds up in 10,000-request runs). App exceptions propagate: a
    simulated dropped connection or timeout reaches the caller as the httpx error it stands
    for."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "root_path": "",
            "server": (url.host, url.port or 80),
            "client": ("127.0.0.1", 50000),
        }
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


class SyncASGITransport(httpx.BaseTransport):
    """Runs the in-process transport on a private event-loop thread, so a plain httpx.Client
    can talk to the app."""

    def __init__(self, app: Any) -> None:
        self._inner = InProcessTransport(app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def run() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            req = httpx.Request(
                request.method, request.url, headers=request.headers, content=content
            )
            resp = await self._inner.handle_async_request(req)
            return resp.status_code, resp.headers.raw, resp.content

        status, headers, body = asyncio.run_coroutine_threadsafe(run(), self._loop).result()
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()


def _auth_headers(sim: Simulator, realm: str | None, token: str | None) -> dict[str, str]:
    if token is None:
        token = sim.issue_tokens(realm)["access_token"]
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def sim_client(
    sim: Simulator, realm: str | None = None, *, token: str | None = None, auth: bool = True
) -> httpx.Client:
    """A sync client on the in-process app, with a fresh access token for `realm` unless
    `token` is given (or auth=False)."""
    headers = _auth_headers(sim, realm, token) if auth else {}
    return httpx.Client(
        transport=SyncASGITransport(create_app(sim)), base_url=BASE_URL, headers=headers
    )


def async_sim_client(
    sim: Simulator, realm: str | None = None, *, token: str | None = None, auth: bool = True
) -> httpx.AsyncClient:
    headers = _auth_headers(sim, realm, token) if auth else {}
    return httpx.AsyncClient(
        transport=InProcessTransport(create_app(sim)), base_url=BASE_URL, headers=headers
    )


def api_path(sim: Simulator, rest: str, realm: str | None = None) -> str:
    return f"/v3/company/{realm or sim.default_realm}/{rest.lstrip('/')}"
