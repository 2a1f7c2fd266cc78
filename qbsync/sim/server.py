"""SimServer: the simulator on a real socket (uvicorn in a background thread)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from qbsync.sim.app import create_app
from qbsync.sim.core import Simulator
from qbsync.sim.faults import Latency


class SimServer:
    """Run the simulator on host:port (0 = any free port) until stop().

    >>> with SimServer(seed="demo", auto_consent=True) as srv:
    ...     srv.url, srv.realm_id, srv.client_id
    """

    def __init__(
        self,
        seed: str = "demo",
        auto_consent: bool = False,
        limits: str = "off",
        latency: str | Latency | None = None,
        state_file: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sim: Simulator | None = None,
        log_level: str = "critical",
    ) -> None:
        self.sim = sim or Simulator(
            seed, auto_consent=auto_consent, limits=limits, latency=latency, state_file=state_file
        )
        self.host = host
        self.port = port
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    # -------------------------------------------------------------- facts for clients

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def realm_id(self) -> str:
        return self.sim.default_realm

    @property
    def client_id(self) -> str:
        return self.sim.client_id

    @property
    def client_secret(self) -> str:
        return self.sim.client_secret

    @property
    def admin_key(self) -> str:
        return self.sim.admin_key

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid_sandbox_configuration/"

    @property
    def api_base(self) -> str:
        return f"{self.url}/v3"

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "realm_id": self.realm_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "admin_key": self.admin_key,
        }

    # -------------------------------------------------------------- lifecycle

    def start(self) -> SimServer:
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._sock = sock
        config = uvicorn.Config(
            create_app(self.sim),
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
            loop="asyncio",
            http="h11",
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"qbsync-sim-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the simulator server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
        self._thread = None
        self._server = None
        self._sock = None
        self.sim.save()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


logging.getLogger("uvicorn.error").propagate = False
