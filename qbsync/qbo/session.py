"""From a workspace and a company key to a ready QboClient; and `run()` for sync CLI code."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from qbsync.qbo import oauth, records
from qbsync.qbo.client import QboClient, RetryPolicy
from qbsync.qbo.pacing import pacer_for
from qbsync.qbo.tokens import CompanyTokens
from qbsync.workspace import Workspace

T = TypeVar("T")


def open_client(
    ws: Workspace,
    company_key: str | None,
    *,
    http: httpx.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
) -> QboClient:
    """A client for a connected company (ReconnectRequired when it is not connected)."""
    key, settings = ws.company(company_key)
    row = records.require_connected(ws, key)
    limits = ws.config.qbo
    return QboClient(
        base_url=oauth.endpoints(settings).api_base,
        realm_id=row["realm_id"],
        tokens=CompanyTokens(ws, key),
        limits=limits,
        timeout=ws.config.sync.request_timeout,
        http=http,
        pacer=pacer_for(row["realm_id"], limits),
        retry=retry,
    )


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion from synchronous code."""
    return asyncio.run(coro)
