"""Getting an authorization code from the person who consents: Intuit's authorize URL in a
browser with the callback listener, or (production keys, which cannot redirect to localhost) a
pasted redirect URL. The state is checked either way.
"""

from __future__ import annotations

import secrets
import webbrowser
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from qbsync.errors import InputError, QbsyncError, UsageError
from qbsync.logs import get_logger
from qbsync.qbo import oauth
from qbsync.qbo.listener import CallbackListener

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


def by_listener(
    ep: oauth.Endpoints,
    client_id: str,
    state: str,
    host: str,
    port: int,
    timeout: float,
    open_url: OpenUrl | None,
    notify: Notify,
) -> tuple[str, str, str | None]:
    """(code, redirect_uri, realm_id) from the browser's redirect to a local listener."""
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


def by_paste(
    ep: oauth.Endpoints,
    client_id: str,
    state: str,
    redirect_uri: str,
    open_url: OpenUrl | None,
    notify: Notify,
    read_pasted: ReadPasted | None,
) -> tuple[str, str, str | None]:
    """(code, redirect_uri, realm_id) from the URL a person pastes after consenting."""
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
