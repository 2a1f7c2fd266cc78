"""The daemon: every runnable company (connected, auto-sync on), each on its own schedule,
concurrently.

The company list and the settings are read again before every cycle, on a short poll and on
SIGHUP: a company connected, switched on, removed or switched off while the daemon runs is
picked up or left from its next cycle on, and a new `sync.interval` applies from the next wait.

SIGTERM or SIGINT stops it cleanly: running cycles are asked to stop at the next operation
boundary (the op in flight finishes) and are recorded as cancelled. A cycle waiting to retry a
QuickBooks request stops waiting at once (qbsync.qbo.retry): it too is recorded as cancelled,
with no alert, and the operations it had claimed go back to the queue.

A config.yaml that stops reading is said once (a warning), and so is its reading again (info):
until then the daemon keeps the settings it read before, without a line on every reading.
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
from qbsync.config import CompanySettings, Config
from qbsync.errors import LockHeld, QbsyncError
from qbsync.logs import get_logger
from qbsync.qbo import retry
from qbsync.store.tx import transaction
from qbsync.sync import cycles
from qbsync.sync.cycle import CycleResult, cycle
from qbsync.sync.lock import company_lock
from qbsync.workspace import Workspace

log = get_logger("daemon")

POLL = 30.0  # seconds between readings of the company list when nothing else wakes it


@dataclass
class DaemonReport:
    cycles: list[CycleResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # stopped while waiting to retry


def runnable_companies(ws: Workspace, config: Config | None = None) -> dict[str, str]:
    """Every company in config.yaml, mapped to "" when the daemon can sync it, else to why not."""
    config = config or ws.config
    rows = {r["key"]: r for r in all_rows(ws.store)}
    found: dict[str, str] = {}
    for key, settings in sorted(config.companies.items()):
        row = rows.get(key)
        if not settings.auto_sync:
            found[key] = "auto_sync is off"
        elif row is None or not row["connected"]:
            found[key] = "not connected"
        elif row["needs_reconnect"]:
            found[key] = "needs reconnecting"
        else:
            found[key] = ""
    return found


def eligible_companies(ws: Workspace) -> list[str]:
    return [k for k, why in runnable_companies(ws).items() if not why]


class Daemon:
    def __init__(
        self,
        ws: Workspace,
        interval: float | None,
        *,
        once: bool = False,
        on_cycle: Callable[[CycleResult], None] | None = None,
        companies: list[str] | None = None,
        poll: float = POLL,
    ):
        """`interval` None: each wait reads `sync.interval` from config.yaml afresh."""
        self.ws = ws
        self.interval = interval
        self.once = once
        self.on_cycle = on_cycle
        self.companies = companies
        self.poll = poll
        self.stop = asyncio.Event()
        self.report = DaemonReport()
        self._reload = asyncio.Event()
        self._wakers: dict[str, asyncio.Event] = {}
        self._config = ws.config
        self._config_error: str | None = None  # why config.yaml last failed to read, if it did

    def request_stop(self) -> None:
        if self.stop.is_set():
            return
        log.info("stop requested; finishing the operations in flight")
        self.stop.set()
        retry.stop_retries()  # a cycle waiting to retry a request stops waiting
        with transaction(self.ws.store):
            cycles.request_cancel_of_process(self.ws.store, os.getpid())

    def request_reload(self) -> None:
        """SIGHUP: read the company list and the settings again now."""
        log.info("reload requested: reading config.yaml and the company list again")
        self._reload.set()
        for waker in self._wakers.values():
            waker.set()

    def _read_config(self) -> Config:
        """config.yaml as it is now; the last good reading if it does not read."""
        try:
            self._config = config_mod.load()
        except QbsyncError as err:
            # Said once: the daemon reads the file before every cycle and on every poll.
            if str(err) != self._config_error:
                log.warning("config.yaml does not read (%s); keeping the settings read before", err)
            self._config_error = str(err)
        else:
            if self._config_error is not None:
                log.info("config.yaml reads again; its settings apply from now on")
            self._config_error = None
        # The cycles read the workspace's config (a company's settings, its endpoints): the
        # same reading for them as for the daemon.
        self.ws.__dict__["config"] = self._config
        return self._config

    def _runnable(self) -> list[str]:
        found = runnable_companies(self.ws, self._read_config())
        keys = [k for k, why in found.items() if not why]
        if self.companies is not None:
            keys = [k for k in keys if k in self.companies]
        return keys

    def _interval(self) -> float:
        return self.interval if self.interval is not None else self._config.sync.interval

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        handlers = [(signal.SIGTERM, self.request_stop), (signal.SIGINT, self.request_stop)]
        if hasattr(signal, "SIGHUP"):
            handlers.append((signal.SIGHUP, self.request_reload))
        for sig, handler in handlers:
            # Not possible off the main thread or on Windows: Ctrl-C still ends the process.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, handler)

    async def run(self) -> DaemonReport:
        self._install_signals()
        retry.resume_retries()
        tasks: dict[str, asyncio.Task[None]] = {}
        log.info("daemon started (pid %d)", os.getpid())
        while not self.stop.is_set():
            for key, task in list(tasks.items()):
                if task.done():
                    del tasks[key]
                    self._wakers.pop(key, None)
            keys = self._runnable()
            for key in keys:
                if key not in tasks:
                    log.info(
                        "syncing %s every %s", key, config_mod.format_duration(self._interval())
                    )
                    self._wakers[key] = asyncio.Event()
                    tasks[key] = asyncio.create_task(self._company_loop(key))
            if self.once:
                break
            self._reload.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop_or_reload(), timeout=min(self.poll, self._interval())
                )
        await asyncio.gather(*tasks.values())
        retry.resume_retries()
        log.info("daemon stopped")
        return self.report

    async def _stop_or_reload(self) -> None:
        stop = asyncio.ensure_future(self.stop.wait())
        reload = asyncio.ensure_future(self._reload.wait())
        try:
            await asyncio.wait([stop, reload], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            reload.cancel()

    async def _company_loop(self, key: str) -> None:
        """Cycles of one company until the daemon stops or the company is no longer runnable
        (the supervisor starts it again when it is)."""
        while not self.stop.is_set():
            started = time.monotonic()
            if not await self._one(key):
                return
            if self.once:
                return
            waker = self._wakers.setdefault(key, asyncio.Event())
            while not self.stop.is_set():
                waker.clear()
                wait = self._interval() - (time.monotonic() - started)
                if wait <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_or(waker), timeout=wait)
                if not waker.is_set():
                    break  # the wait ran out (or the daemon stops)
                # SIGHUP: the interval may have changed; wait what is left of the new one.

    async def _stop_or(self, waker: asyncio.Event) -> None:
        stop = asyncio.ensure_future(self.stop.wait())
        woken = asyncio.ensure_future(waker.wait())
        try:
            await asyncio.wait([stop, woken], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            woken.cancel()

    def _settings(self, key: str) -> CompanySettings | None:
        """The company's settings as config.yaml holds them now (a switch flipped while the
        daemon runs counts from the next cycle)."""
        return self._read_config().companies.get(key)

    async def _one(self, key: str) -> bool:
        """One cycle of `key`; False when the company is no longer one to sync."""
        settings = self._settings(key)
        if settings is None or not settings.auto_sync:
            log.info("cycle skipped: %s has auto_sync off (or left config.yaml)", key)
            self.report.skipped.append(key)
            return False
        if key not in self._runnable():
            log.info("cycle skipped: %s is not connected (or needs reconnecting)", key)
            self.report.skipped.append(key)
            return False
        try:
            with company_lock(key, "daemon"):
                result = await cycle(self.ws, key, settings, trigger="daemon")
        except LockHeld as err:
            log.info("cycle skipped: %s", err.message)
            self.report.skipped.append(key)
            return True
        except asyncio.CancelledError:
            # A stop cut a retry's wait short (retry.RetriesStopped, or the CancelledError a
            # gather makes of it); a cancellation of this task itself goes on up.
            task = asyncio.current_task()
            if not self.stop.is_set() or (task is not None and task.cancelling()):
                raise
            for cycle_id in cycles.stopped(self.ws.store, os.getpid(), key):
                log.info("cycle %s %s: cancelled: %s", cycle_id, key, cycles.STOPPED)
            self.report.cancelled.append(key)
            return False
        except QbsyncError as err:
            log.error("cycle for %s failed: %s", key, err.message)
            self.report.errors.append(f"{key}: {err.message}")
            return True
        except Exception as err:  # one company's bug must not stop the others
            log.exception("cycle for %s crashed", key)
            self.report.errors.append(f"{key}: {type(err).__name__}: {err}")
            return True
        self.report.cycles.append(result)  # the cycle logged its own line
        if self.on_cycle:
            self.on_cycle(result)
        return True
