"""A company's tokens: kept in the secrets store, refreshed near expiry or after a 401,
single-flight across processes (the client's TokenSource, implemented here).

A refresh takes a file lock per company, re-reads the stored tokens under it, refreshes only if
still needed, and stores the rotated refresh token before the new access token is used (a crash
in between must never lose the only refresh token that still works).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable

from qbsync import paths
from qbsync.companies import records
from qbsync.companies.credentials import app_credentials
from qbsync.errors import LockHeld, ReconnectRequired
from qbsync.logs import get_logger
from qbsync.oslock import FileLock, LockTimeout
from qbsync.qbo import oauth
from qbsync.qbo.errors import InvalidGrant
from qbsync.qbo.oauth import TokenSet
from qbsync.timeutil import utc_now, utc_now_iso
from qbsync.workspace import Workspace

REFRESH_MARGIN = dt.timedelta(minutes=5)
LOCK_WAIT = 60.0

_log = get_logger("qbo.tokens")


def tokens_name(company: str) -> str:
    """The secrets store's name for a company's tokens (one JSON value)."""
    return f"{company}/tokens"


def near_expiry(tokens: TokenSet, margin: dt.timedelta = REFRESH_MARGIN) -> bool:
    return tokens.access_expires() - utc_now() <= margin


def read_tokens(ws: Workspace, key: str) -> TokenSet | None:
    raw = ws.secrets.get(tokens_name(key))
    if not raw:
        return None
    return TokenSet.from_dict(json.loads(raw))


def store_tokens(ws: Workspace, key: str, tokens: TokenSet) -> None:
    """Secrets first, then the non-secret expiries on the companies row."""
    ws.secrets.set(tokens_name(key), json.dumps(tokens.as_dict()))
    records.update_row(
        ws.store,
        key,
        realm_id=tokens.realm_id,
        access_expires_at=tokens.access_expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        refresh_hard_expires_at=tokens.refresh_hard_expires_at,
        needs_reconnect=0,
    )


def delete_tokens(ws: Workspace, key: str) -> None:
    ws.secrets.delete(tokens_name(key))


def lock_path(key: str) -> str:
    return str(paths.ensure_dir(paths.locks_dir()) / f"tokens-{key}.lock")


class CompanyTokens:
    """The TokenSource of one connected company, backed by the secrets store."""

    def __init__(self, ws: Workspace, company_key: str, *, lock_wait: float = LOCK_WAIT):
        self.ws = ws
        self.key = company_key
        self.lock_wait = lock_wait
        self._current: TokenSet | None = None
        self.refreshes = 0  # refreshes this object performed itself

    def _read(self) -> TokenSet:
        tokens = read_tokens(self.ws, self.key)
        if tokens is None:
            raise ReconnectRequired(
                f"company {self.key!r} is not connected (no tokens stored)",
                f"run `qbsync connect --company {self.key}`",
            )
        return tokens

    def current(self) -> TokenSet:
        if self._current is None:
            self._current = self._read()
        return self._current

    async def access_token(self) -> str:
        tokens = self.current()
        if near_expiry(tokens):
            tokens = await self._refresh_if(near_expiry)
        return tokens.access_token

    async def refreshed(self, rejected: str) -> str:
        tokens = await self._refresh_if(lambda t: t.access_token == rejected or near_expiry(t))
        return tokens.access_token

    async def refresh(self, *, force: bool = False) -> TokenSet:
        """`token --refresh`: refresh now, unless another process did since this one read."""
        seen = self.current().access_token
        if force:
            return await self._refresh_if(lambda t: t.access_token == seen or near_expiry(t))
        return await self._refresh_if(near_expiry)

    async def _acquire(self, lock: FileLock) -> None:
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                lock.acquire(timeout=0)
                return
            except LockTimeout:
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"another process has been refreshing {self.key!r} tokens for "
                        f"{self.lock_wait:g} s",
                        "try again; if it persists, look for a stuck qbsync process",
                    ) from None
                await asyncio.sleep(0.05)

    async def _refresh_if(self, needed: Callable[[TokenSet], bool]) -> TokenSet:
        # A new lock object per attempt: flock is per open file, so coroutines of one process
        # exclude each other as well as other processes do.
        lock = FileLock(lock_path(self.key), mode=0o600)
        await self._acquire(lock)
        try:
            stored = self._read()
            if not needed(stored):
                self._current = stored
                return stored
            return await self._do_refresh(stored)
        finally:
            lock.release()

    async def _do_refresh(self, stored: TokenSet) -> TokenSet:
        key, settings = self.ws.company(self.key)
        client_id, client_secret = app_credentials(self.ws, key)
        endpoints = oauth.endpoints(settings.environment, settings.sim_url)
        try:
            fresh = await oauth.refresh(endpoints, client_id, client_secret, stored)
        except InvalidGrant as exc:
            records.update_row(self.ws.store, key, needs_reconnect=1)
            _log.warning("refresh refused for %s: %s", key, exc.message)
            raise InvalidGrant(
                f"QuickBooks refused the refresh token of {key!r} ({exc.qbo_code}): "
                "the connection needs reconnecting",
                f"run `qbsync connect --company {key}`",
                status=exc.status,
                fault_type=exc.fault_type,
                qbo_code=exc.qbo_code,
                intuit_tid=exc.intuit_tid,
            ) from None
        store_tokens(self.ws, key, fresh)
        records.update_row(self.ws.store, key, last_refresh_at=utc_now_iso())
        self._current = fresh
        self.refreshes += 1
        _log.info("refreshed tokens for %s", key)
        return fresh
