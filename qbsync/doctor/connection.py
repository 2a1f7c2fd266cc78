"""The QuickBooks connection: the app's credentials and redirect URI, the tokens' expiry, a live
call, and this machine's clock against QuickBooks'."""

from __future__ import annotations

import datetime as dt

from qbsync.doctor.check import Check, Status, qbo_company
from qbsync.workspace import Workspace


def check_qbo_app(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.companies.credentials import app_credentials

    key = qbo_company(ws, company)
    if key is None:
        return [
            Check(
                "qbo app",
                "warn",
                "no company configured yet",
                "qbsync app set --company KEY --client-id ID, then qbsync connect",
            )
        ]
    client_id, _ = app_credentials(ws, key)  # NotFoundError names the fix
    checks = [Check("qbo app", "ok", f"{key}: client id {client_id}, secret stored")]
    settings = ws.config.companies[key]
    if settings.environment == "production":
        if settings.redirect_uri and settings.redirect_uri.startswith("https://"):
            detail = f"{key}: production keys redirect to {settings.redirect_uri}"
            checks.append(Check("redirect uri", "ok", detail))
        else:
            checks.append(
                Check(
                    "redirect uri",
                    "warn",
                    f"{key}: production keys cannot redirect to http://localhost",
                    "register an HTTPS redirect URI for the app at developer.intuit.com and "
                    "connect with `qbsync connect --redirect-uri URL` (paste the URL the browser "
                    f"lands on); keep it with `qbsync config set companies.{key}.redirect_uri URL`",
                )
            )
    return checks


def check_connection(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.companies import records
    from qbsync.companies.session import open_client, run
    from qbsync.companies.tokens import read_tokens
    from qbsync.qbo.retry import RetryPolicy
    from qbsync.timeutil import utc_now

    key = qbo_company(ws, company)
    if key is None:
        return []
    row = records.require_connected(ws.store, key)  # ReconnectRequired names the fix
    tokens = read_tokens(ws, key)
    if tokens is None:
        return [Check("connection", "fail", f"{key}: no tokens stored", "qbsync connect")]
    checks: list[Check] = []
    reconnect = f"qbsync connect --company {key}"
    now = utc_now()
    refresh_left = None
    if tokens.refresh_expires_at:
        refresh_left = dt.datetime.fromisoformat(tokens.refresh_expires_at) - now
    hard_left = None
    if tokens.refresh_hard_expires_at:
        hard_left = dt.datetime.fromisoformat(tokens.refresh_hard_expires_at) - now
    soonest = min((d for d in (refresh_left, hard_left) if d is not None), default=None)
    if soonest is None:
        checks.append(Check("token expiry", "warn", f"{key}: refresh expiry unknown"))
    elif soonest <= dt.timedelta(0):
        checks.append(Check("token expiry", "fail", f"{key}: the refresh token expired", reconnect))
    else:
        status: Status = "warn" if soonest < dt.timedelta(days=14) else "ok"
        checks.append(
            Check(
                "token expiry",
                status,
                f"{key}: refresh token good for {soonest.days} more days "
                f"(access token until {tokens.access_expires_at})",
                f"reconnect before it lapses: {reconnect}" if status == "warn" else None,
            )
        )

    async def probe() -> tuple[dict, dt.datetime | None]:
        # Diagnose quickly: one retry, not the sync engine's patience.
        async with open_client(ws, key, retry=RetryPolicy(attempts=2, base_delay=0.5)) as client:
            info = await client.company_info()
            return info, client.last_server_time

    info, server_time = run(probe())
    name = info.get("CompanyName") or row.get("name") or "?"
    checks.append(Check("connection", "ok", f"{key}: {name} (realm {row['realm_id']}) answers"))
    if server_time is not None:
        skew = abs((utc_now() - server_time).total_seconds())
        if skew <= 300:
            checks.append(Check("clock skew", "ok", f"within {skew:.0f} s of QuickBooks' clock"))
        else:
            checks.append(
                Check(
                    "clock skew",
                    "warn",
                    f"this machine's clock differs from QuickBooks' by {skew:.0f} s",
                    "sync the system clock (NTP): change windows and token expiry depend on it",
                )
            )
    return checks
