"""The threaded transport under the async client, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
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
        self.connections = 0
        self.requests: list[str] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Server]]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # connections kept alive between requests

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:  # once per connection
            with state.guard:
                state.connections += 1
            super().handle()

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
            with state.guard:
                state.requests.append(path)
            if path == "/drop":  # the status line, then nothing: the connection ends
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
                self.close_connection = True
            elif path == "/then-close":  # an answer, then the connection closed unannounced
                self._answer(b"{}")
                self.close_connection = True
            elif path == "/gzip":
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
            with state.guard:
                state.requests.append(urlsplit(self.path).path)
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


def _join_request_threads() -> list[threading.Thread]:
    """Wait for the requests' threads to end; those still running after 5 s."""
    threads = [t for t in threading.enumerate() if t.name == "qbsync-http"]
    for thread in threads:
        thread.join(5)
    return [t for t in threads if t.is_alive()]


async def _post_and_give_up(
    http: httpx.AsyncClient, url: str, ready: Callable[[], bool], go: threading.Event
) -> None:
    """Post, cancel the call once `ready()`, then let the request's thread go on (`go`)."""
    task = asyncio.create_task(http.post(f"{url}/echo", json={"Invoice": {}}))
    await asyncio.sleep(0.05)
    while not ready():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    go.set()
    await asyncio.sleep(0.3)


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
    assert _join_request_threads() == []


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

    held = SimpleNamespace(**{**vars(threading), "Thread": HeldThread})
    monkeypatch.setattr(transport, "threading", held)

    async def call() -> None:
        async with async_client(url, timeout=5) as http:
            real = http._transport._sync.handle_request  # type: ignore[attr-defined]

            def handle(request: httpx.Request) -> httpx.Response:
                sent.append(str(request.url))
                return real(request)

            http._transport._sync.handle_request = handle  # type: ignore[attr-defined]
            await _post_and_give_up(http, url, lambda: True, go)

    asyncio.run(call())
    _join_request_threads()
    assert sent == []


def _get_all(
    url: str, paths: list[str], pause: float = 0.0, *, expiry: float | None = None
) -> list[int]:
    async def calls() -> list[int]:
        statuses = []
        http = async_client(url, timeout=5)
        if expiry is not None:
            threaded = http._transport  # type: ignore[attr-defined]
            threaded._sync = transport.HttpClientTransport(verify=False, expiry=expiry)
        async with http:
            for path in paths:
                statuses.append((await http.get(f"{url}{path}")).status_code)
                await asyncio.sleep(pause)
        return statuses

    return asyncio.run(calls())


def test_one_connection_serves_requests_one_after_another(server: tuple[str, Server]) -> None:
    url, state = server
    assert _get_all(url, ["/gzip"] * 5) == [200] * 5
    assert state.connections == 1


def test_a_connection_the_server_closed_while_idle_is_not_used(server: tuple[str, Server]) -> None:
    url, state = server
    assert _get_all(url, ["/then-close", "/gzip", "/gzip"], pause=0.1) == [200] * 3
    assert state.requests == ["/then-close", "/gzip", "/gzip"]  # each sent once
    assert state.connections == 2


def test_a_connection_idle_past_its_expiry_is_not_used(server: tuple[str, Server]) -> None:
    url, state = server
    assert _get_all(url, ["/gzip", "/gzip"], pause=0.4, expiry=0.2) == [200, 200]
    assert state.connections == 2
    assert _get_all(url, ["/gzip", "/gzip"], pause=0.0, expiry=0.2) == [200, 200]
    assert state.connections == 3


def test_a_refused_connection_is_a_connect_error(server: tuple[str, Server]) -> None:
    # ConnectError tells the client the request never left (qbo/client.py retries it freely).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it
    with pytest.raises(httpx.ConnectError):
        _get_all(f"http://127.0.0.1:{port}", ["/gzip"])


def test_an_answer_cut_short_is_not_a_connect_error(server: tuple[str, Server]) -> None:
    # The request was sent: the client must treat it as one that may have run.
    url, _ = server
    with pytest.raises(httpx.TransportError) as raised:
        _get_all(url, ["/drop"])
    assert isinstance(raised.value, httpx.RemoteProtocolError | httpx.ReadError)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    """An HTTPS server on 127.0.0.1 with a certificate for `localhost` from a CA of its own;
    yields its port and a client context that trusts that CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert_file, key_file)
    httpd.socket = served.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    trusting = ssl.create_default_context(cafile=str(cert_file))
    try:
        yield httpd.server_address[1], trusting
    finally:
        httpd.shutdown()
        httpd.server_close()


def _tls_get(url: str, verify: ssl.SSLContext | None) -> object:
    async def call() -> object:
        client = transport.ThreadedTransport(verify=verify) if verify else None
        async with (
            httpx.AsyncClient(transport=client, timeout=5)
            if client
            else async_client(url, timeout=5) as http
        ):
            return (await http.get(url)).json()

    return asyncio.run(call())


def test_tls_answers_only_a_certificate_it_can_verify_for_the_host(
    tls_server: tuple[int, ssl.SSLContext],
) -> None:
    port, trusting = tls_server
    assert _tls_get(f"https://localhost:{port}/", trusting) == {"ok": True}
    with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):
        _tls_get(f"https://localhost:{port}/", None)  # qbsync's own trust: not this CA
    with pytest.raises(httpx.ConnectError, match=r"(?i)certificate|match|hostname"):
        _tls_get(f"https://127.0.0.1:{port}/", trusting)  # trusted, but not for this name


class RawServer:
    """A server on 127.0.0.1 that answers each connection with `script(server, conn)`: for
    answers no well-behaved server library would send."""

    def __init__(self, script: Callable[[RawServer, socket.socket], None]) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.requests: list[bytes] = []  # request lines, in the order received
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.script(self, conn)

    def read_request(self, conn: socket.socket, *, body: bool = True) -> bool:
        """Read one request (its body too, unless told not to); False at the connection's end."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        self.requests.append(head.split(b"\r\n")[0])
        length = next(
            (
                int(v)
                for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")[1:])
                if k.strip().lower() == b"content-length"
            ),
            0,
        )
        while body and len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            rest += chunk
        return True

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def raw() -> Iterator[Callable[[Callable[[RawServer, socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(script: Callable[[RawServer, socket.socket], None]) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _exchange_all(url: str, bodies: list[bytes]) -> list[tuple[int, bytes]]:
    async def calls() -> list[tuple[int, bytes]]:
        async with async_client(url, timeout=5) as http:
            answers = [await http.post(f"{url}/invoice", content=body) for body in bodies]
            return [(a.status_code, a.content) for a in answers]

    return asyncio.run(calls())


def _answer(conn: socket.socket, body: bytes, *headers: bytes) -> None:
    head = b"".join(h + b"\r\n" for h in headers)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), head, body))


def test_interim_answers_are_passed_over(raw: Any) -> None:
    # A 103 taken for the answer would leave the real one for the next request to read.
    def script(server: RawServer, conn: socket.socket) -> None:
        while server.read_request(conn):
            conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n")
            conn.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
            _answer(conn, b'{"n": %d}' % len(server.requests))

    server = raw(script)
    assert _exchange_all(server.url, [b"a", b"b"]) == [(200, b'{"n": 1}'), (200, b'{"n": 2}')]
    assert server.connections == 1


def test_a_header_httpx_would_not_write_as_ascii_does_not_fail_the_answer(raw: Any) -> None:
    def script(server: RawServer, conn: socket.socket) -> None:
        server.read_request(conn)
        _answer(conn, b"{}", b"X-Name: caf\xc3\xa9", b"Connection: close")

    server = raw(script)
    assert _exchange_all(server.url, [b"a"]) == [(200, b"{}")]


def test_an_answer_sent_before_the_body_was_taken_is_the_answer(raw: Any) -> None:
    # A server refusing a body it will not read (413, 401) answers and closes while the body is
    # still going out: the write fails, and the answer is what the request came to.
    def script(server: RawServer, conn: socket.socket) -> None:
        server.read_request(conn, body=False)
        refusal = b'{"Fault": "too large"}'
        conn.sendall(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % len(refusal)
            + refusal
        )
        conn.shutdown(socket.SHUT_WR)
        time.sleep(0.2)

    server = raw(script)
    assert _exchange_all(server.url, [b"x" * 20_000_000]) == [(413, b'{"Fault": "too large"}')]


def test_every_connection_close_header_is_heeded(raw: Any) -> None:
    # http.client reads only the first Connection header; the second says close.
    def script(server: RawServer, conn: socket.socket) -> None:
        server.read_request(conn)
        _answer(conn, b"{}", b"Connection: keep-alive", b"Connection: close")
        time.sleep(0.5)  # then closes, never reading another request

    server = raw(script)
    assert _exchange_all(server.url, [b"a", b"b"]) == [(200, b"{}"), (200, b"{}")]
    assert server.connections == 2 and len(server.requests) == 2


def test_a_request_given_up_while_connecting_is_not_sent(
    server: tuple[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = server
    connecting, go = threading.Event(), threading.Event()
    real_connect = transport.HttpClientTransport._connect

    def slow_connect(self: Any, *args: Any) -> Any:
        connecting.set()
        go.wait(5)  # a slow handshake, say
        return real_connect(self, *args)

    monkeypatch.setattr(transport.HttpClientTransport, "_connect", slow_connect)

    async def call() -> None:
        async with async_client(url, timeout=5) as http:
            await _post_and_give_up(http, url, connecting.is_set, go)

    asyncio.run(call())
    _join_request_threads()
    assert state.requests == []
