"""QuickBooks requests on threads: the async client's transport, and what it sends with.

Why: httpx's async transport brings anyio's asyncio backend, and its blocking one httpcore with
h11: together about 40-60 ms to load, for a cron `sync run` with nothing to do that makes one
request in all. So the async client (httpx, as everywhere in qbsync) sends each request on a
thread of its own (ThreadedTransport), through the standard library's http.client, which httpx
loads anyway (HttpClientTransport): HTTP/1.1 with kept-alive connections, the client's timeouts,
verified TLS, and httpx's exception types, mapped as httpcore maps them (a request that could
not connect is ConnectError or ConnectTimeout: never sent; anything after is a read or
protocol error: it may have run). qbsync reads every answer whole (JSON), so nothing is lost by
reading each body on its thread. With a proxy set in the environment, the client is httpx's own.

The threads are daemons: a cancelled or interrupted cycle does not wait at exit for an answer
nobody will read (the request's own timeout bounds it anyway). A request cancelled before it
is sent (its thread not started yet, or still connecting) is not sent at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import select
import ssl
import threading
import time

import httpx


class ThreadedTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        self._sync: httpx.BaseTransport = HttpClientTransport(verify=verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # the body as bytes, which the blocking transport can send
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[httpx.Response] = loop.create_future()
        # Set when the caller stops waiting; checked before connecting and again once connected.
        abandoned = threading.Event()
        request.extensions[ABANDONED] = abandoned

        def send() -> None:
            if abandoned.is_set():
                return
            try:
                result: httpx.Response | BaseException = self._read_whole(request)
            except BaseException as err:  # handed to the awaiting task, raised there
                result = err
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(_settle, answer, result)

        threading.Thread(target=send, name="qbsync-http", daemon=True).start()
        try:
            return await answer
        except asyncio.CancelledError:
            abandoned.set()
            raise

    def _read_whole(self, request: httpx.Request) -> httpx.Response:
        response = self._sync.handle_request(request)
        try:
            stream = response.stream
            if not isinstance(stream, httpx.SyncByteStream):  # a blocking transport's never is
                raise TypeError(f"a blocking transport answered with {type(stream).__name__}")
            raw = b"".join(stream)  # as received: the client decodes it as usual
        finally:
            response.close()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
        )

    async def aclose(self) -> None:
        self._sync.close()


class HttpClientTransport(httpx.BaseTransport):
    """HTTP/1.1 through http.client, keeping up to `keep` idle connections per host for up to
    `expiry` seconds each."""

    def __init__(
        self, *, verify: ssl.SSLContext | bool = True, keep: int = 20, expiry: float = 5.0
    ) -> None:
        self._verify = verify
        self._keep = keep
        # As httpx's pool: a connection idle longer is not used again (a firewall or load
        # balancer may have dropped it without a word, and a write would wait out its timeout).
        self._expiry = expiry
        self._idle: dict[tuple[str, str, int], list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self._closed = False  # an answer read after close() does not keep its connection

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without brackets
        key = (url.scheme, host, url.port or (443 if url.scheme == "https" else 80))
        timeout = request.extensions.get("timeout", {})
        conn = self._reuse(key) or self._connect(request, key, timeout.get("connect"))
        abandoned = request.extensions.get(ABANDONED)
        if abandoned is not None and abandoned.is_set():  # given up while connecting: not sent
            self._put_back(key, conn)
            raise Abandoned(str(url))
        try:
            answer, body, reusable = _exchange(conn, request, timeout)
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._put_back(key, conn)
        else:
            conn.close()
        return httpx.Response(
            answer.status,
            # As received (latin-1 is byte for byte): a header httpx would not encode as ASCII
            # must not fail a request QuickBooks has already answered.
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.getheaders()],
            stream=httpx.ByteStream(body),  # undecoded: the client decodes gzip, once
            extensions={
                "http_version": b"HTTP/1.1" if answer.version == 11 else b"HTTP/1.0",
                "reason_phrase": answer.reason.encode("ascii", "replace"),
            },
        )

    def _connect(
        self, request: httpx.Request, key: tuple[str, str, int], timeout: float | None
    ) -> http.client.HTTPConnection:
        scheme, host, port = key
        conn: http.client.HTTPConnection
        if scheme == "https":
            context = self._verify if isinstance(self._verify, ssl.SSLContext) else None
            if context is None:
                context = _tls() if self._verify else httpx.create_ssl_context(verify=False)
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.response_class = _FinalAnswer
        try:
            conn.connect()
        except TimeoutError as err:
            raise httpx.ConnectTimeout(str(err) or "connect timed out", request=request) from err
        except OSError as err:  # refused, unreachable, a name not found, a certificate refused
            raise httpx.ConnectError(str(err), request=request) from err
        return conn

    def _reuse(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        """An idle connection the server has not closed meanwhile, if there is one."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                since, conn = idle.pop()
            fresh = time.monotonic() - since < self._expiry
            if fresh and conn.sock is not None and not _readable(conn.sock):
                return conn
            conn.close()  # idle too long, or closed by the server (or it sent a stray byte)

    def _put_back(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < self._keep:
                idle.append((time.monotonic(), conn))
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle, self._closed = self._idle, {}, True
        for conns in idle.values():
            for _, conn in conns:
                conn.close()


ABANDONED = "qbsync.abandoned"  # request extension: the caller's threading.Event


class Abandoned(Exception):
    """The caller stopped waiting before the request was sent; it was not sent."""


def _exchange(
    conn: http.client.HTTPConnection, request: httpx.Request, timeout: dict[str, float | None]
) -> tuple[http.client.HTTPResponse, bytes, bool]:
    """Send the request and read its answer whole: (answer, body, whether the connection can
    carry another request). Failures are httpx's, as httpcore raises them."""
    assert conn.sock is not None
    conn.sock.settimeout(timeout.get("write"))
    cut_off: httpx.WriteError | None = None
    try:
        conn.putrequest(
            request.method,
            request.url.raw_path.decode("ascii"),
            skip_host=True,  # httpx's request carries its own Host and Accept-Encoding
            skip_accept_encoding=True,
        )
        for name, value in request.headers.raw:
            conn.putheader(name.decode("ascii"), value)
        chunked = "transfer-encoding" in request.headers
        conn.endheaders(request.content or None, encode_chunked=chunked)
    except TimeoutError as err:
        raise httpx.WriteTimeout(str(err) or "write timed out", request=request) from err
    except OSError as err:
        # The server may have answered before taking the whole body (413, 401) and closed:
        # its answer is read below, as httpcore does; without one, this is the failure.
        cut_off = httpx.WriteError(str(err), request=request)
        cut_off.__cause__ = err
    answer: http.client.HTTPResponse | None = None
    try:
        if conn.sock is None and cut_off is not None:
            raise cut_off
        assert conn.sock is not None
        conn.sock.settimeout(timeout.get("read"))
        answer = conn.getresponse()
        body = answer.read()
    except BaseException as err:
        if answer is not None:
            answer.close()  # an answer read to its end holds the socket itself
        if err is cut_off or not isinstance(err, Exception):
            raise
        if cut_off is not None:
            raise cut_off from err
        failure = _read_failure(err, request)
        if failure is err:
            raise
        raise failure from err
    # Close on every `Connection: close`: http.client looks only at the first such header.
    closing = any("close" in v.lower() for v in answer.headers.get_all("connection") or ())
    return answer, body, cut_off is None and not answer.will_close and not closing


def _read_failure(err: Exception, request: httpx.Request) -> Exception:
    if isinstance(err, TimeoutError):
        return httpx.ReadTimeout(str(err) or "read timed out", request=request)
    if isinstance(err, http.client.HTTPException):  # closed early, a broken status line
        return httpx.RemoteProtocolError(str(err) or type(err).__name__, request=request)
    if isinstance(err, OSError):
        return httpx.ReadError(str(err), request=request)
    return err


class _FinalAnswer(http.client.HTTPResponse):
    """An answer past every interim one. http.client skips only `100 Continue`; a 102 or 103
    read as the answer would leave the real one on the connection for the next request."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if status == 101 or not 100 <= status < 200:
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's headers, dropped


def _readable(sock: object) -> bool:
    """Whether an idle connection's socket has something to read: only its end (EOF) or
    a stray byte can be there, and either way it cannot carry a request."""
    fileno = sock.fileno()  # type: ignore[attr-defined]
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fileno], [], [], 0)[0])


def _settle(answer: asyncio.Future[httpx.Response], result: httpx.Response | BaseException) -> None:
    if answer.done():  # cancelled while the request ran
        return
    if isinstance(result, BaseException):
        answer.set_exception(result)
    else:
        answer.set_result(result)


_TLS: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs tens of milliseconds
    of CPU, which a client per cycle (a daemon with many companies) paid every time."""
    global _TLS
    if _TLS is None:
        _TLS = httpx.create_ssl_context()
    return _TLS


def async_client(base_url: str, *, timeout: float) -> httpx.AsyncClient:
    """An async httpx client on the threaded transport, for requests to `base_url` (redirects
    are not followed). Over plain HTTP (the local simulator) there is no certificate to check,
    and no CA bundle is loaded."""
    verify: ssl.SSLContext | bool = _tls() if base_url.startswith("https://") else False
    if _proxy_in_environment():
        # httpx reads proxies from the environment only for its own transports: keep them.
        return httpx.AsyncClient(timeout=timeout, verify=verify)
    return httpx.AsyncClient(
        timeout=timeout, verify=verify, transport=ThreadedTransport(verify=verify)
    )


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def _proxy_in_environment() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.lower()) for name in PROXY_VARIABLES)
