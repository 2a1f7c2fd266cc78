"""The daemon: every connected company with auto-sync on, each on its own schedule, concurrently.

Each cycle reads the company's settings afresh: `auto_sync: false` set while the daemon runs
keeps the company out from its next cycle on (and setting it back brings it in again).

SIGTERM or SIGINT stops it cleanly: running cycles are asked to stop at the next operation
boundary (the op in flight finishes) and are recorded as cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from qbsync import config as config_mod
from qbsync.companies.records import all_rows
from qbsync.config import CompanySettings
from qbsync.errors import LockHeld, QbsyncError
from qbsync.logs import get_logger
from qbsync.store.tx import transaction
from qbsync.sync import cycles
from qbsync.sync.cycle import CycleResult, cycle
from qbsync.sync.lock import company_lock
from qbsync.workspace import Workspace

log = get_logger("daemon")


@dataclass
class DaemonReport:
    cycles: list[CycleResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def eligible_companies(ws: Workspace) -> list[str]:
    connected = {r["key"] for r in all_rows(ws.store) if r["connected"] == 1}
    return sorted(k for k, s in ws.config.companies.items() if s.auto_sync and k in connected)


class Daemon:
    def __init__(
        self,
        ws: Workspace,
        interval: float,
        *,
        once: bool = False,
        on_cycle: Callable[[CycleResult], None] | None = None,
        companies: list[str] | None = None,
    ):
        self.ws = ws
        self.interval = interval
        self.once = once
        self.on_cycle = on_cycle
        self.companies = companies
        self.stop = asyncio.Event()
        self.report = DaemonReport()

    def request_stop(self) -> None:
        if self.stop.is_set():
            return
        log.info("stop requested; finishing the operations in flight")
        self.stop.set()
        with transaction(self.ws.store):
            cycles.request_cancel_of_process(self.ws.store, os.getpid())

    async def run(self) -> DaemonReport:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Not possible off the main thread or on Windows: Ctrl-C still ends the process.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        keys = self.companies if self.companies is not None else eligible_companies(self.ws)
        if not keys:
            log.warning("no connected company has auto-sync on; nothing to do")
        log.info("daemon started: %d companies, interval %.0fs", len(keys), self.interval)
        await asyncio.gather(*(self._company_loop(key) for key in keys))
        log.info("daemon stopped")
        return self.report

    async def _company_loop(self, key: str) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            await self._one(key)
            if self.once:
                return
            wait = max(0.0, self.interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=wait)

    def _settings(self, key: str) -> CompanySettings | None:
        """The company's settings as config.yaml holds them now (a switch flipped while the
        daemon runs counts from the next cycle); the ones it started with if the file does not
        read."""
        try:
            current = config_mod.load()
        except QbsyncError as err:
            log.warning("config.yaml does not read (%s); keeping the settings loaded before", err)
            current = self.ws.config
        return current.companies.get(key)

    async def _one(self, key: str) -> None:
        settings = self._settings(key)
        if settings is None or not settings.auto_sync:
            log.info("cycle skipped: %s has auto_sync off (or left config.yaml)", key)
            self.report.skipped.append(key)
            return
        try:
            with company_lock(key, "daemon"):
                result = await cycle(self.ws, key, settings, trigger="daemon")
        except LockHeld as err:
            log.info("cycle skipped: %s", err.message)
            self.report.skipped.append(key)
            return
        except QbsyncError as err:
            log.error("cycle for %s failed: %s", key, err.message)
            self.report.errors.append(f"{key}: {err.message}")
            return
        except Exception as err:  # one company's bug must not stop the others
            log.exception("cycle for %s crashed", key)
            self.report.errors.append(f"{key}: {type(err).__name__}: {err}")
            return
        self.report.cycles.append(result)
        if self.on_cycle:
            self.on_cycle(result)
