"""Intuit's OAuth 2.0 server, in simulator time: apps, authorization codes, token grants."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlparse

ACCESS_TTL = 3600
REFRESH_TTL = 8_640_000  # about 100 days, rolling
REFRESH_GRACE = 24 * 3600  # the previous refresh token keeps working this long
HARD_TTL = 5 * 365 * 24 * 3600  # the five-year cap on every refresh token
CODE_TTL = 300
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
KNOWN_SCOPES = {
    ACCOUNTING_SCOPE,
    "com.intuit.quickbooks.payment",
    "openid",
    "profile",
    "email",
    "phone",
    "address",
}


class OAuthError(Exception):
    def __init__(self, error: str, status: int = 400, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def body(self) -> dict[str, str]:
        out = {"error": self.error}
        if self.description:
            out["error_description"] = self.description
        return out


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str = "qbsync"
    redirect_uris: list[str] = field(default_factory=list)

    def redirect_ok(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        # Development keys accept localhost callbacks, as Intuit's sandbox keys do.
        u = urlparse(uri)
        return u.scheme in ("http", "https") and u.hostname in ("localhost", "127.0.0.1")


@dataclass
class Code:
    code: str
    client_id: str
    realm_id: str
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class Grant:
    """One consent: the chain of refresh tokens and access tokens it produced."""

    id: str
    client_id: str
    realm_id: str
    scope: str
    hard_expires_at: float
    revoked: bool = False
    current_refresh: str = ""


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    expires_at: float
    superseded_at: float | None = None


@dataclass
class AccessToken:
    token: str
    grant_id: str
    expires_at: float


class OAuthRegistry:
    def __init__(self) -> None:
        self.apps: dict[str, App] = {}
        self.codes: dict[str, Code] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self._lock = threading.RLock()

    # ---------------------------------------------------------------- apps

    def register(self, name: str = "qbsync", redirect_uris: list[str] | None = None) -> App:
        app = App(
            client_id="AB" + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")[:48],
            client_secret=secrets.token_urlsafe(30)[:40],
            name=name,
            redirect_uris=list(redirect_uris or []),
        )
        with self._lock:
            self.apps[app.client_id] = app
        return app

    def authenticate_client(self, authorization: str | None, form: dict[str, str]) -> App:
        """Client authentication by HTTP Basic or by client_id/client_secret in the form."""
        cid = secret = None
        if authorization and authorization.lower().startswith("basic "):
            try:
                raw = base64.b64decode(authorization[6:].strip()).decode()
                cid, _, secret = raw.partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", 401) from None
        elif form.get("client_id"):
            cid, secret = form.get("client_id"), form.get("client_secret")
        app = self.apps.get(cid or "")
        if app is None or not secret or not secrets.compare_digest(app.client_secret, secret):
            raise OAuthError("invalid_client", 401)
        return app

    # ---------------------------------------------------------------- authorize

    def issue_code(self, app: App, realm_id: str, redirect_uri: str, scope: str, now: float) -> str:
        code = "AB11" + secrets.token_urlsafe(36)
        with self._lock:
            self.codes[code] = Code(
                code, app.client_id, realm_id, redirect_uri, scope, now + CODE_TTL
            )
        return code

    # ---------------------------------------------------------------- token endpoint

    def exchange_code(
        self, app: App, code: str, redirect_uri: str, now: float, hard_header: bool
    ) -> dict[str, Any]:
        with self._lock:
            rec = self.codes.get(code)
            if rec is None or rec.used or rec.expires_at < now or rec.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if rec.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant", description="redirect_uri mismatch")
            rec.used = True
            grant = Grant(
                id=secrets.token_hex(8),
                client_id=app.client_id,
                realm_id=rec.realm_id,
                scope=rec.scope,
                hard_expires_at=now + HARD_TTL,
            )
            self.grants[grant.id] = grant
            return self._issue(grant, now, hard_header, new_refresh=True)

    def refresh(self, app: App, token: str, now: float, hard_header: bool) -> dict[str, Any]:
        with self._lock:
            rec = self.refresh_tokens.get(token)
            grant = self.grants.get(rec.grant_id) if rec else None
            if rec is None or grant is None or grant.revoked or grant.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if now >= rec.expires_at or now >= grant.hard_expires_at:
                raise OAuthError("invalid_grant", description="refresh token expired")
            if rec.superseded_at is not None:
                if now >= rec.superseded_at + REFRESH_GRACE:
                    raise OAuthError("invalid_grant", description="refresh token rotated")
                # Inside the grace window a racing client gets the chain's latest token back.
                return self._issue(grant, now, hard_header, new_refresh=False)
            return self._issue(grant, now, hard_header, new_refresh=True)

    def _issue(
        self, grant: Grant, now: float, hard_header: bool, *, new_refresh: bool
    ) -> dict[str, Any]:
        if new_refresh:
            old = self.refresh_tokens.get(grant.current_refresh)
            if old is not None:
                old.superseded_at = now
            token = "AB11" + secrets.token_urlsafe(40)
            expires = min(now + REFRESH_TTL, grant.hard_expires_at)
            self.refresh_tokens[token] = RefreshToken(token, grant.id, expires)
            grant.current_refresh = token
        current = self.refresh_tokens[grant.current_refresh]
        access = "eyJ" + secrets.token_urlsafe(60)
        self.access_tokens[access] = AccessToken(access, grant.id, now + ACCESS_TTL)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": ACCESS_TTL,
            "refresh_token": current.token,
            "x_refresh_token_expires_in": int(current.expires_at - now),
        }
        if hard_header:
            body["x_refresh_token_hard_expires_in"] = int(grant.hard_expires_at - now)
        return body

    # ---------------------------------------------------------------- revoke + checks

    def revoke(self, token: str) -> bool:
        with self._lock:
            grant_id = None
            if token in self.refresh_tokens:
                grant_id = self.refresh_tokens[token].grant_id
            elif token in self.access_tokens:
                grant_id = self.access_tokens[token].grant_id
            grant = self.grants.get(grant_id or "")
            if grant is None:
                return False
            grant.revoked = True
            return True

    def revoke_realm(self, realm_id: str) -> int:
        with self._lock:
            n = 0
            for g in self.grants.values():
                if g.realm_id == realm_id and not g.revoked:
                    g.revoked = True
                    n += 1
            return n

    def check_access(self, token: str, now: float) -> tuple[Grant | None, str]:
        """(grant, "") when valid, else (None, why) with the gateway's detail text."""
        with self._lock:
            rec = self.access_tokens.get(token)
            if rec is None:
                return None, "Token invalid"
            grant = self.grants.get(rec.grant_id)
            if grant is None or grant.revoked:
                return None, "Token revoked"
            if now >= rec.expires_at:
                return None, "Token expired"
            return grant, ""

    # ---------------------------------------------------------------- persistence

    def to_state(self, now: float) -> dict[str, Any]:
        with self._lock:
            return {
                "apps": [asdict(a) for a in self.apps.values()],
                "grants": [asdict(g) for g in self.grants.values()],
                "refresh_tokens": [
                    asdict(r)
                    for r in self.refresh_tokens.values()
                    if r.expires_at > now and not self.grants[r.grant_id].revoked
                ],
                "access_tokens": [
                    asdict(a) for a in self.access_tokens.values() if a.expires_at > now
                ],
            }

    def load_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.apps = {a["client_id"]: App(**a) for a in state.get("apps", [])}
            self.grants = {g["id"]: Grant(**g) for g in state.get("grants", [])}
            self.refresh_tokens = {
                r["token"]: RefreshToken(**r) for r in state.get("refresh_tokens", [])
            }
            self.access_tokens = {
                a["token"]: AccessToken(**a) for a in state.get("access_tokens", [])
            }
            self.codes = {}
