"""The one-shot OAuth callback listener: 127.0.0.1 only, one path, HTML-escaped pages.

It answers the browser's redirect after consent and hands the query (code, state, realmId, or
error) to the waiting connect flow. Every other path is a 404; nothing is logged (the query holds
the authorization code).
"""

from __future__ import annotations

import errno
import html
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from qbsync.errors import QbsyncError, UsageError

CALLBACK_PATH = "/callback"
HOST = "127.0.0.1"


@dataclass
class Callback:
    code: str | None = None
    realm_id: str | None = None
    error: str | None = None  # what the browser brought back, or why it was rejected


def _page(title: str, message: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    ).encode()


class CallbackListener:
    def __init__(self, state: str, port: int = 0, path: str = CALLBACK_PATH) -> None:
        self.state = state
        self.path = path
        self.result: Callback | None = None
        self._done = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # the request line carries the authorization code

            def _send(self, status: int, title: str, message: str) -> None:
                body = _page(title, message)
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != listener.path:
                    self._send(404, "Not found", "This address only receives QuickBooks' answer.")
                    return
                status, title, message = listener._accept(parse_qs(parts.query))
                self._send(status, title, message)

        try:
            self._server = HTTPServer((HOST, port), Handler)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise UsageError(
                    f"port {port} on {HOST} is not available ({exc.strerror})",
                    "pass another --port, or --port 0 for any free port",
                ) from None
            raise
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="qbsync-oauth-callback",
            daemon=True,
        )

    def redirect_uri(self, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{self.path}"

    def _accept(self, query: dict[str, list[str]]) -> tuple[int, str, str]:
        if self._done.is_set():
            return 409, "Already answered", "This sign-in was already handled; close this tab."

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        got_state = one("state") or ""
        if not secrets.compare_digest(got_state.encode(), self.state.encode()):
            self._finish(Callback(error="state_mismatch"))
            return (
                400,
                "Connection refused",
                "The answer did not match the sign-in qbsync started. Run qbsync connect again.",
            )
        if one("error"):
            error = one("error") or "error"
            self._finish(Callback(error=error))
            return 400, "Not connected", f"QuickBooks answered: {error}. Return to the terminal."
        code = one("code")
        if not code:
            self._finish(Callback(error="no_code"))
            return 400, "Not connected", "The answer carried no authorization code."
        self._finish(Callback(code=code, realm_id=one("realmId")))
        return 200, "Connected", "qbsync received QuickBooks' answer. You can close this tab."

    def _finish(self, result: Callback) -> None:
        self.result = result
        self._done.set()

    def start(self) -> CallbackListener:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> Callback:
        if not self._done.wait(timeout):
            raise QbsyncError(
                f"no answer from the browser within {timeout:g} s",
                "run qbsync connect again (with --timeout S for more time)",
            )
        assert self.result is not None
        return self.result

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> CallbackListener:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
