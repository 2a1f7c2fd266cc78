"""Connecting and disconnecting a company, usable without the CLI.

connect: authorize URL with a random state -> the browser (or a pasted redirect URL for
production keys, which cannot redirect to localhost) -> code exchange -> tokens into the secrets
store -> the companies row and config -> CompanyInfo for the name. Connecting again is
reconnecting (same realm only). disconnect: revoke, delete the tokens, keep everything else.
"""

from __future__ import annotations

import json
import secrets
import webbrowser
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from qbsync.errors import InputError, QbsyncError, UsageError
from qbsync.logs import get_logger
from qbsync.qbo import oauth, records
from qbsync.qbo.errors import QboError
from qbsync.qbo.listener import CallbackListener
from qbsync.qbo.oauth import TokenSet
from qbsync.qbo.session import open_client, run
from qbsync.qbo.tokens import read_tokens, store_tokens
from qbsync.secrets import tokens_name
from qbsync.timeutil import utc_now_iso
from qbsync.workspace import Workspace

DEFAULT_TIMEOUT = 300.0
_log = get_logger("qbo.connect")

OpenUrl = Callable[[str], object]
Notify = Callable[[str], None]
ReadPasted = Callable[[str], str]


def headless_browser(url: str) -> None:
    """A 'browser' for a simulator with auto-consent: follow the redirects to the listener."""
    with httpx.Client(timeout=30, follow_redirects=True) as http:
        http.get(url)


def _parse_pasted(text: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(code, state, realm_id, error) from a pasted redirect URL, query string, or bare code."""
    text = text.strip()
    if not text:
        raise InputError("nothing was pasted")
    if "=" not in text:
        return text, None, None, None
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    values = {k: v[0] for k, v in parse_qs(query).items() if v}
    return values.get("code"), values.get("state"), values.get("realmId"), values.get("error")


def _by_listener(
    ep: oauth.Endpoints,
    client_id: str,
    state: str,
    host: str,
    port: int,
    timeout: float,
    open_url: OpenUrl | None,
    notify: Notify,
) -> tuple[str, str, str | None]:
    with CallbackListener(state, port) as listener:
        redirect = listener.redirect_uri(host)
        url = oauth.authorize_url(ep.authorize, client_id, redirect, state)
        opener = open_url or webbrowser.open
        notify(f"Waiting for QuickBooks' answer on {redirect} (up to {timeout:g} s).")
        notify(f"If no browser opens, visit: {url}")
        try:
            opener(url)
        except Exception as exc:  # a browser that cannot start: the printed URL still works
            _log.warning("opening the browser failed: %s", type(exc).__name__)
        answer = listener.wait(timeout)
    if answer.error == "state_mismatch":
        raise QbsyncError(
            "the answer's state did not match this sign-in (a stale tab, or a forged request)",
            "run qbsync connect again and finish it in the browser it opens",
        )
    if answer.error:
        raise QbsyncError(
            f"QuickBooks did not grant access: {answer.error}",
            "run qbsync connect again and choose Connect on the consent page",
        )
    assert answer.code is not None
    return answer.code, redirect, answer.realm_id


def _by_paste(
    ep: oauth.Endpoints,
    client_id: str,
    state: str,
    redirect_uri: str,
    open_url: OpenUrl | None,
    notify: Notify,
    read_pasted: ReadPasted | None,
) -> tuple[str, str, str | None]:
    if read_pasted is None:
        raise UsageError(
            "--redirect-uri needs someone at a terminal to paste the URL the browser lands on",
            "run qbsync connect interactively (without --json, stdin a terminal)",
        )
    url = oauth.authorize_url(ep.authorize, client_id, redirect_uri, state)
    notify(f"Open this URL, approve, then paste the address the browser lands on:\n{url}")
    if open_url is not None:
        open_url(url)
    code, got_state, realm_id, error = _parse_pasted(read_pasted("Redirected URL (or code)"))
    if error:
        raise QbsyncError(f"QuickBooks did not grant access: {error}")
    if got_state is not None and not secrets.compare_digest(got_state, state):
        raise QbsyncError(
            "the pasted URL's state does not match this sign-in",
            "paste the URL from the sign-in this command started",
        )
    if not code:
        raise InputError("the pasted text carries no code")
    if realm_id is None:
        realm_id = read_pasted("Company id (realmId in the URL)").strip() or None
    return code, redirect_uri, realm_id


def connect_company(
    ws: Workspace,
    key: str,
    env: str | None = None,
    sim_url: str | None = None,
    *,
    port: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    redirect_uri: str | None = None,
    open_url: OpenUrl | None = None,
    notify: Notify = lambda message: None,
    read_pasted: ReadPasted | None = None,
) -> dict[str, Any]:
    """Run the OAuth flow for company `key` and record the connection; returns its summary.

    `open_url` shows the authorize URL to a person (default: the system browser); tests and the
    demo pass `headless_browser` against a simulator with auto-consent.
    """
    settings = records.ensure_company(ws, key, env, sim_url)
    client_id, client_secret = records.app_credentials(ws, key)
    ep = oauth.endpoints(settings)
    state = oauth.new_state()
    redirect_uri = redirect_uri or settings.redirect_uri
    if redirect_uri:
        code, used_redirect, realm_id = _by_paste(
            ep, client_id, state, redirect_uri, open_url, notify, read_pasted
        )
    else:
        host = "127.0.0.1" if settings.environment == "sim" else "localhost"
        code, used_redirect, realm_id = _by_listener(
            ep, client_id, state, host, port, timeout, open_url, notify
        )
    if not realm_id:
        raise QbsyncError("QuickBooks' answer carried no company id (realmId)")

    row = records.get_row(ws, key)
    if row and row["realm_id"] and row["realm_id"] != realm_id:
        raise UsageError(
            f"company {key!r} is QuickBooks company {row['realm_id']}, but the consent chose "
            f"{realm_id}",
            "choose the same company on the consent page, or connect the other one under a "
            "new --company KEY",
        )
    tokens = run(oauth.exchange_code(ep, client_id, client_secret, code, used_redirect, realm_id))
    # The tokens are stored before the row says connected: never connected without tokens.
    records.upsert_row(ws, key, settings.environment, realm_id=realm_id)
    store_tokens(ws, key, tokens)
    records.update_row(ws, key, connected=1, needs_reconnect=0, connected_at=utc_now_iso())
    name = _company_name(ws, key)
    if name:
        records.update_row(ws, key, name=name)
    _log.info("connected %s to realm %s (%s)", key, realm_id, settings.environment)
    return summary(ws, key)


def _company_name(ws: Workspace, key: str) -> str | None:
    async def read() -> str | None:
        async with open_client(ws, key) as client:
            info = await client.company_info()
            return info.get("CompanyName") or info.get("LegalName")

    try:
        return run(read())
    except QboError as exc:
        _log.warning("connected %s but CompanyInfo failed: %s", key, exc.message)
        return None


def summary(ws: Workspace, key: str) -> dict[str, Any]:
    row = records.get_row(ws, key) or {}
    return {
        "company": key,
        "name": row.get("name"),
        "realm_id": row.get("realm_id"),
        "environment": row.get("environment"),
        "connected": bool(row.get("connected")),
        "needs_reconnect": bool(row.get("needs_reconnect")),
        "access_expires_at": row.get("access_expires_at"),
        "refresh_expires_at": row.get("refresh_expires_at"),
        "refresh_hard_expires_at": row.get("refresh_hard_expires_at"),
        "last_refresh_at": row.get("last_refresh_at"),
        "connected_at": row.get("connected_at"),
    }


def disconnect_company(ws: Workspace, key: str) -> dict[str, Any]:
    """Revoke the grant at Intuit, delete the tokens; app credentials, mappings and history stay."""
    key, settings = ws.company(key)
    tokens: TokenSet | None = None
    try:
        tokens = read_tokens(ws, key)
    except (ValueError, json.JSONDecodeError):
        tokens = None  # unreadable: nothing to revoke, still delete it
    revoked = False
    if tokens is not None:
        try:
            client_id, client_secret = records.app_credentials(ws, key)
            ep = oauth.endpoints(settings)
            revoked = run(oauth.revoke(ep, client_id, client_secret, tokens.refresh_token))
        except QbsyncError as exc:
            _log.warning("revoking %s failed: %s", key, exc.message)
    ws.secrets.delete(tokens_name(key))
    if records.get_row(ws, key) is not None:
        records.update_row(
            ws,
            key,
            connected=0,
            needs_reconnect=0,
            access_expires_at=None,
            refresh_expires_at=None,
            refresh_hard_expires_at=None,
        )
    _log.info("disconnected %s (revoked at Intuit: %s)", key, revoked)
    return {"company": key, "revoked": revoked, "tokens_deleted": tokens is not None}
