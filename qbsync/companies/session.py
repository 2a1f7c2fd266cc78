"""From a workspace and a company key to a ready QboClient; and `run()` for synchronous callers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from qbsync.companies import records
from qbsync.companies.tokens import CompanyTokens
from qbsync.config import Config
from qbsync.qbo import oauth
from qbsync.qbo.client import QboClient
from qbsync.qbo.limits import Limits
from qbsync.qbo.pacing import pacer_for
from qbsync.qbo.retry import RetryPolicy
from qbsync.workspace import Workspace

T = TypeVar("T")


def qbo_limits(config: Config) -> Limits:
    """config.yaml's `qbo` section as the client's limits."""
    return Limits(**config.qbo.model_dump())


def open_client(
    ws: Workspace,
    company_key: str | None,
    *,
    http: httpx.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
) -> QboClient:
    """A client for a connected company (ReconnectRequired when it is not connected)."""
    key, settings = ws.company(company_key)
    row = records.require_connected(ws.store, key)
    limits = qbo_limits(ws.config)
    return QboClient(
        base_url=oauth.api_base(settings.environment, settings.sim_url),
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
