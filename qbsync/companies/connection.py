"""Connecting and disconnecting a company, usable without the CLI.

connect: authorize URL with a random state -> the browser (or a pasted redirect URL for
production keys, which cannot redirect to localhost) -> code exchange -> tokens into the secrets
store -> the companies row and config -> CompanyInfo for the name. Connecting again is
reconnecting (same realm only). disconnect: revoke, delete the tokens, keep everything else.
"""

from __future__ import annotations

import json
from typing import Any

from qbsync.companies import records
from qbsync.companies.config_entry import company_entry
from qbsync.companies.credentials import app_credentials
from qbsync.companies.session import open_client, run
from qbsync.companies.tokens import delete_tokens, read_tokens, store_tokens
from qbsync.config import CompanySettings, Config
from qbsync.errors import QbsyncError, UsageError
from qbsync.logs import get_logger
from qbsync.qbo import authorize, oauth
from qbsync.qbo.authorize import DEFAULT_TIMEOUT, Notify, OpenUrl, ReadPasted
from qbsync.qbo.errors import QboError
from qbsync.qbo.oauth import TokenSet
from qbsync.timeutil import utc_now_iso
from qbsync.workspace import Workspace

_log = get_logger("qbo.connect")


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
    demo pass `qbsync.qbo.authorize.headless_browser` against a simulator with auto-consent.
    """
    # Nothing is written until QuickBooks has granted access: a failed connect leaves the
    # config (its companies and its default) and the store as they were.
    settings, updated_config = company_entry(ws, key, env, sim_url)
    client_id, client_secret = app_credentials(ws, key)
    ep = oauth.endpoints(settings.environment, settings.sim_url)
    state = oauth.new_state()
    redirect_uri = redirect_uri or settings.redirect_uri
    if redirect_uri:
        notify(f"Redirect URI (register it for the app at developer.intuit.com): {redirect_uri}")
        code, used_redirect, realm_id = authorize.by_paste(
            ep, client_id, state, redirect_uri, open_url, notify, read_pasted
        )
    else:
        host = "127.0.0.1" if settings.environment == "sim" else "localhost"
        if port:
            notify(
                f"Redirect URI (register it for the app at developer.intuit.com): "
                f"http://{host}:{port}/callback"
            )
        else:
            notify(
                "The redirect URI uses a free port chosen now; for one to register with "
                "Intuit, pass --port N (then it is http://" + host + ":N/callback)."
            )
        code, used_redirect, realm_id = authorize.by_listener(
            ep, client_id, state, host, port, timeout, open_url, notify
        )
    if not realm_id:
        raise QbsyncError("QuickBooks' answer carried no company id (realmId)")
    _check_realm(ws, key, realm_id, settings, updated_config or ws.config)
    tokens = run(oauth.exchange_code(ep, client_id, client_secret, code, used_redirect, realm_id))
    if updated_config is not None:
        ws.save_config(updated_config)
    # The tokens are stored before the row says connected: never connected without tokens.
    records.upsert_row(ws.store, key, settings.environment, realm_id=realm_id)
    store_tokens(ws, key, tokens)
    records.update_row(ws.store, key, connected=1, needs_reconnect=0, connected_at=utc_now_iso())
    name = _company_name(ws, key)
    if name:
        records.update_row(ws.store, key, name=name)
    _log.info("connected %s to realm %s (%s)", key, realm_id, settings.environment)
    return summary(ws, key)


def _check_realm(
    ws: Workspace, key: str, realm_id: str, settings: CompanySettings, config: Config
) -> None:
    """One QuickBooks company, one key: refuse a realm bound to another configured key (of the
    same environment, and for the simulator the same simulator), and a key bound to another
    realm."""
    row = records.get_row(ws.store, key)
    if row and row["realm_id"] and row["realm_id"] != realm_id:
        raise UsageError(
            f"company {key!r} is QuickBooks company {row['realm_id']}, but the consent chose "
            f"{realm_id}",
            "choose the same company on the consent page, or connect the other one under a "
            "new --company KEY",
        )
    for other in records.all_rows(ws.store):
        theirs = config.companies.get(other["key"])
        if (
            other["key"] != key
            and other["realm_id"] == realm_id
            and theirs is not None
            and theirs.environment == settings.environment
            and theirs.sim_url == settings.sim_url
        ):
            raise UsageError(
                f"QuickBooks company {realm_id} is already connected as {other['key']!r}; "
                f"nothing was written (use --company {other['key']})"
            )


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
    row = records.get_row(ws.store, key) or {}
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
            client_id, client_secret = app_credentials(ws, key)
            ep = oauth.endpoints(settings.environment, settings.sim_url)
            revoked = run(oauth.revoke(ep, client_id, client_secret, tokens.refresh_token))
        except QbsyncError as exc:
            _log.warning("revoking %s failed: %s", key, exc.message)
    delete_tokens(ws, key)
    if records.get_row(ws.store, key) is not None:
        records.update_row(
            ws.store,
            key,
            connected=0,
            needs_reconnect=0,
            access_expires_at=None,
            refresh_expires_at=None,
            refresh_hard_expires_at=None,
        )
    _log.info("disconnected %s (revoked at Intuit: %s)", key, revoked)
    return {"company": key, "revoked": revoked, "tokens_deleted": tokens is not None}
