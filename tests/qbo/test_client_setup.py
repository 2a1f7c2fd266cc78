"""What opening a client costs: no discovery call for the API's address, and no CA bundle loaded
for a plain-HTTP address (the local simulator); HTTPS is always verified."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

import qbsync.qbo.transport as transport
from qbsync.companies.session import open_client
from qbsync.qbo import oauth
from qbsync.qbo.client import QboClient
from qbsync.qbo.limits import Limits
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany


class NoTokens:
    async def access_token(self) -> str:
        return "t"

    async def refreshed(self, rejected: str) -> str:
        return "t"


def test_a_cycles_client_reads_no_discovery_document(
    connected_company: ConnectedCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_discovery(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"discovery read: {args}")

    monkeypatch.setattr(oauth, "_sim_cache", {})
    monkeypatch.setattr(oauth.httpx, "get", no_discovery)

    async def one_call() -> dict[str, Any]:
        with Workspace() as ws:
            async with open_client(ws, connected_company.key) as client:
                return await client.request("GET", "preferences")

    assert "Preferences" in asyncio.run(one_call())


def test_plain_http_loads_no_ca_bundle_and_https_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport, "_TLS", None)

    def made(base: str) -> QboClient:
        return QboClient(base_url=base, realm_id="1", tokens=NoTokens(), limits=Limits())

    plain = made("http://127.0.0.1:9")
    assert transport._TLS is None
    secure = made(oauth.API_BASE["sandbox"])
    context = transport._TLS
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    for c in (plain, secure):
        asyncio.run(c.aclose())
