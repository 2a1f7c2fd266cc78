"""The threaded transport under the async client, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest

from qbsync.qbo import transport
from qbsync.qbo.transport import async_client

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


class Server:
    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.guard = threading.Lock()
        self.finished = threading.Event()  # set when a /slow answer has been written


@pytest.fixture
def server() -> Iterator[tuple[str, Server]]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, body: bytes, *, gzipped: bool = False) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if gzipped:
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path  # absolute-form too, as a proxy receives it
            if path == "/gzip":
                self._answer(json.dumps({"QueryResponse": {"n": 1}}).encode(), gzipped=True)
            elif path == "/wait":
                with state.guard:
                    state.in_flight += 1
                    state.most_in_flight = max(state.most_in_flight, state.in_flight)
                time.sleep(0.3)
                with state.guard:
                    state.in_flight -= 1
                self._answer(b"{}")
            elif path == "/slow":
                time.sleep(1.0)
                try:
                    self._answer(b"{}")
                finally:
                    state.finished.set()

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            self._answer(self.rfile.read(length))

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_compressed_answer_is_decoded_once(server: tuple[str, Server]) -> None:
    url, _ = server

    async def call() -> object:
        async with async_client(url, timeout=5) as http:
            response = await http.get(f"{url}/gzip")
            return response.json()

    assert asyncio.run(call()) == {"QueryResponse": {"n": 1}}


def test_a_body_goes_out_whole(server: tuple[str, Server]) -> None:
    url, _ = server
    document = {"Invoice": {"Line": [{"Amount": "10.05"}] * 50, "DocNumber": "INV-1"}}

    async def call() -> object:
        async with async_client(url, timeout=5) as http:
            return (await http.post(f"{url}/echo", json=document)).json()

    assert asyncio.run(call()) == document


def test_requests_run_side_by_side(server: tuple[str, Server]) -> None:
    # The exporter keeps several requests in flight; a transport that sent one at a time would
    # halve its rate.
    url, state = server

    async def calls() -> list[int]:
        async with async_client(url, timeout=5) as http:
            answers = await asyncio.gather(*(http.get(f"{url}/wait") for _ in range(6)))
            return [a.status_code for a in answers]

    assert asyncio.run(calls()) == [200] * 6
    assert state.most_in_flight >= 3


def test_the_timeout_is_the_clients(server: tuple[str, Server]) -> None:
    url, _ = server

    async def call() -> None:
        async with async_client(url, timeout=0.2) as http:
            await http.get(f"{url}/slow")

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(call())


def test_a_cancelled_request_lets_the_loop_end_at_once(server: tuple[str, Server]) -> None:
    url, state = server

    async def call() -> None:
        async with async_client(url, timeout=5) as http:
            task = asyncio.create_task(http.get(f"{url}/slow"))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    started = time.monotonic()
    asyncio.run(call())
    assert time.monotonic() - started < 0.8  # not kept until the server answers (1 s)
    # The answer arrives after the loop has closed; the request's thread ends without an error
    # (pytest turns an exception in a thread into a failure).
    assert state.finished.wait(5)
    for thread in threading.enumerate():
        if thread.name == "qbsync-http":
            thread.join(5)
            assert not thread.is_alive()


def test_a_proxy_in_the_environment_is_used(
    server: tuple[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The threaded transport would bypass httpx's environment proxies: with one set, the client
    # is httpx's own, which sends through it. The test server stands in for the proxy: a
    # request to an address nothing listens on reaches it as an absolute-form request.
    url, _ = server
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async def call() -> int:
        async with async_client("http://qbo.invalid", timeout=5) as http:
            return (await http.get("http://qbo.invalid/gzip")).status_code

    assert asyncio.run(call()) == 200


def test_a_request_cancelled_before_its_thread_sends_it_is_not_sent(
    server: tuple[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    go = threading.Event()  # the request's thread starts only once the caller has given up
    sent: list[str] = []

    class HeldThread(threading.Thread):
        def run(self) -> None:
            go.wait(5)
            super().run()

    monkeypatch.setattr(
        transport, "threading", SimpleNamespace(Thread=HeldThread, Event=threading.Event)
    )

    async def call() -> None:
        async with async_client(url, timeout=5) as http:
            real = http._transport._sync.handle_request  # type: ignore[attr-defined]

            def handle(request: httpx.Request) -> httpx.Response:
                sent.append(str(request.url))
                return real(request)

            http._transport._sync.handle_request = handle  # type: ignore[attr-defined]
            task = asyncio.create_task(http.post(f"{url}/echo", json={"Invoice": {}}))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            go.set()
            await asyncio.sleep(0.2)

    asyncio.run(call())
    for thread in threading.enumerate():
        if thread.name == "qbsync-http":
            thread.join(5)
    assert sent == []
