"""httpx's blocking transport under the async client: each request runs on a thread of its own.

Why: httpx's async transport brings anyio's asyncio backend, about 20 ms to load, and a cron
`sync run` with nothing to do makes one request in all. The blocking transport has the same pool
limits, timeouts, TLS and exception types (httpx maps httpcore's faults in both), and loads no
anyio backend. qbsync reads every answer whole (JSON), so nothing is lost by reading each body
on its thread.

The threads are daemons: a cancelled or interrupted cycle does not wait at exit for an answer
nobody will read (the request's own timeout bounds it anyway). A request cancelled before its
thread has sent it is not sent at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import threading

import httpx


class ThreadedTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        self._sync = httpx.HTTPTransport(verify=verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # the body as bytes, which the blocking transport can send
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[httpx.Response] = loop.create_future()
        abandoned = threading.Event()  # the caller stopped waiting before the thread sent it

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
