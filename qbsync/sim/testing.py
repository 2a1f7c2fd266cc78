"""Helpers for tests that mount the simulator in-process (no socket)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from qbsync.sim.app import create_app
from qbsync.sim.core import Simulator

BASE_URL = "http://sim.test"


class SyncASGITransport(httpx.BaseTransport):
    """httpx's ASGITransport is async-only; this runs it on a private event loop thread so a
    plain httpx.Client can talk to the app. App exceptions (a simulated dropped connection or
    timeout) reach the caller as the httpx transport errors they stand for."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
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
            body = await resp.aread()
            return resp.status_code, resp.headers.raw, body

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
        transport=httpx.ASGITransport(app=create_app(sim)), base_url=BASE_URL, headers=headers
    )


def api_path(sim: Simulator, rest: str, realm: str | None = None) -> str:
    return f"/v3/company/{realm or sim.default_realm}/{rest.lstrip('/')}"
