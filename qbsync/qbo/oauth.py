"""Intuit OAuth 2.0: endpoints per environment, the authorize URL, and the token calls
(code exchange, refresh, revoke). No state here: qbsync.companies stores the tokens and
single-flights their refresh.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from qbsync.errors import ErrorCode, QbsyncError
from qbsync.logs import get_logger
from qbsync.qbo.errors import QboError, oauth_error
from qbsync.qbo.transport import async_client
from qbsync.redact import register_secret
from qbsync.timeutil import utc_now

SCOPE = "com.intuit.quickbooks.accounting"
AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
API_BASE = {
    "production": "https://quickbooks.api.intuit.com",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
}
SIM_DISCOVERY_PATH = "/.well-known/openid_configuration"
HARD_EXPIRY_HEADER = {"x-include-refresh-token-hard-expires-in": "true"}

_log = get_logger("qbo.oauth")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str
    api_base: str


_sim_cache: dict[str, Endpoints] = {}


def api_base(environment: str, sim_url: str | None = None) -> str:
    """Where the accounting API answers: Intuit's, or the simulator at its own address (no
    discovery call: a sync cycle that only needs the API makes none)."""
    if environment != "sim":
        return API_BASE[environment]
    return (sim_url or "").rstrip("/")


def endpoints(environment: str, sim_url: str | None = None) -> Endpoints:
    """Intuit's fixed endpoints (production, sandbox), or the simulator's (sim, at `sim_url`),
    read from its discovery document."""
    base = api_base(environment, sim_url)
    if environment != "sim":
        return Endpoints(AUTHORIZE_URL, TOKEN_URL, REVOKE_URL, base)
    cached = _sim_cache.get(base)
    if cached is not None:
        return cached
    try:
        response = httpx.get(base + SIM_DISCOVERY_PATH, timeout=10)
        response.raise_for_status()
        doc = response.json()
        found = Endpoints(
            authorize=doc["authorization_endpoint"],
            token=doc["token_endpoint"],
            revoke=doc["revocation_endpoint"],
            api_base=base,
        )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise QbsyncError(
            f"could not read the simulator's OAuth discovery at {base}: {type(exc).__name__}",
            "is `qbsync sim serve` running at that URL?",
            code=ErrorCode.NETWORK,
        ) from None
    _sim_cache[base] = found
    return found


def new_state() -> str:
    return secrets.token_urlsafe(32)


def authorize_url(endpoint: str, client_id: str, redirect_uri: str, state: str) -> str:
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{endpoint}?{query}"


@dataclass
class TokenSet:
    """What the secrets store keeps for one company, as one JSON value."""

    access_token: str
    refresh_token: str
    access_expires_at: str
    refresh_expires_at: str | None
    refresh_hard_expires_at: str | None
    realm_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]

    def access_expires(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.access_expires_at)


def _basic(client_id: str, client_secret: str) -> str:
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _token_set(body: dict[str, Any], realm_id: str, previous: TokenSet | None) -> TokenSet:
    now = utc_now()

    def after(seconds: Any) -> str | None:
        if seconds in (None, ""):
            return None
        return (now + dt.timedelta(seconds=int(seconds))).isoformat()

    access = str(body["access_token"])
    refresh = str(body.get("refresh_token") or (previous.refresh_token if previous else ""))
    register_secret(access)
    register_secret(refresh)
    hard = after(body.get("x_refresh_token_hard_expires_in"))
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        access_expires_at=after(body.get("expires_in", 3600)) or "",
        refresh_expires_at=after(body.get("x_refresh_token_expires_in")),
        refresh_hard_expires_at=hard or (previous.refresh_hard_expires_at if previous else None),
        realm_id=realm_id,
    )


async def _token_call(
    url: str, client_id: str, client_secret: str, form: dict[str, str]
) -> dict[str, Any]:
    headers = {
        "Authorization": _basic(client_id, client_secret),
        "Accept": "application/json",
        **HARD_EXPIRY_HEADER,
    }
    try:
        async with async_client(url, timeout=30) as http:
            response = await http.post(url, data=form, headers=headers)
    except httpx.HTTPError as exc:
        raise QbsyncError(
            f"could not reach Intuit's token endpoint: {type(exc).__name__}",
            "check the network and try again",
            code=ErrorCode.NETWORK,
        ) from None
    tid = response.headers.get("intuit_tid")
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            err = oauth_error(response.status_code, body, tid)
        else:
            err = QboError(
                f"Intuit's token endpoint answered HTTP {response.status_code}",
                status=response.status_code,
                intuit_tid=tid,
            )
        if err.qbo_code == "invalid_client":
            err.hint = "check the app's client id and secret with `qbsync app show`"
        _log.warning("token call failed: %s", err.message)
        raise err
    _log.info("token call ok (%s) intuit_tid=%s", form["grant_type"], tid)
    return body


async def exchange_code(
    ep: Endpoints, client_id: str, client_secret: str, code: str, redirect_uri: str, realm_id: str
) -> TokenSet:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    body = await _token_call(ep.token, client_id, client_secret, form)
    return _token_set(body, realm_id, None)


async def refresh(ep: Endpoints, client_id: str, client_secret: str, current: TokenSet) -> TokenSet:
    form = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
    body = await _token_call(ep.token, client_id, client_secret, form)
    return _token_set(body, current.realm_id, current)


async def revoke(ep: Endpoints, client_id: str, client_secret: str, token: str) -> bool:
    """Revoke the grant behind `token` (a refresh token revokes the whole connection)."""
    headers = {
        "Authorization": _basic(client_id, client_secret),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    try:
        async with async_client(ep.revoke, timeout=30) as http:
            response = await http.post(ep.revoke, json={"token": token}, headers=headers)
    except httpx.HTTPError as exc:
        _log.warning("revoke failed: %s", type(exc).__name__)
        return False
    _log.info(
        "revoke answered %s intuit_tid=%s",
        response.status_code,
        response.headers.get("intuit_tid"),
    )
    return response.status_code == 200
