"""Delivering one event to one target: a command (the JSON on stdin), a webhook (JSON POST with
retries), SMTP e-mail, or apprise URLs (the optional extra qbsync[apprise], imported only when
such a target sends). Each raises DeliveryError naming what went wrong, secrets masked."""

from __future__ import annotations

import importlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qbsync import __version__
from qbsync.config import NotifyTarget
from qbsync.redact import redact

if TYPE_CHECKING:  # the libraries of each kind are imported when one sends, not by a cycle
    from email.message import EmailMessage

    import httpx

APPRISE_INSTALL = "install the extra: uv tool install --force '.[apprise]' (or pip install apprise)"


class DeliveryError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
        self.message = redact(message)


@dataclass
class Resolved:
    """A target with its secrets read from the secrets store (never from config.yaml)."""

    target: NotifyTarget
    url: str | None = None
    password: str | None = None


def body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=1, sort_keys=True).encode("utf-8")


def send_command(r: Resolved, event: dict[str, Any]) -> None:
    argv = list(r.target.command or [])
    try:
        done = subprocess.run(
            argv,
            input=body(event),
            capture_output=True,
            timeout=r.target.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DeliveryError(f"{argv[0]} did not finish within {r.target.timeout:g} s") from None
    except OSError as err:
        raise DeliveryError(f"{argv[0]} could not start: {err.strerror or err}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = f": {said[-1][:200]}" if said else ""
        raise DeliveryError(f"{argv[0]} exited {done.returncode}{tail}")


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def send_webhook(
    r: Resolved,
    event: dict[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST the event; retried on 5xx, 429 and connection errors or timeouts, with a delay that
    doubles from `backoff`. Returns the attempts it took."""
    import httpx

    target = r.target
    url = r.url or target.url or ""
    headers = {"User-Agent": f"qbsync/{__version__}", "Content-Type": "application/json"}
    problem = ""
    with httpx.Client(timeout=target.timeout, transport=transport) as http:
        for attempt in range(target.retries + 1):
            if attempt:
                sleep(target.backoff * 2 ** (attempt - 1))
            try:
                response = http.post(url, content=body(event), headers=headers)
            except httpx.TransportError as err:
                problem = f"{type(err).__name__}: {err}"
                continue
            if response.is_success:
                return attempt + 1
            problem = f"HTTP {response.status_code}"
            if not _retryable(response.status_code):
                raise DeliveryError(f"the webhook answered {problem} (not retried)")
    raise DeliveryError(f"the webhook failed {target.retries + 1} times; last: {problem}")


def email_message(r: Resolved, event: dict[str, Any]) -> EmailMessage:
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = str(event.get("title") or "qbsync alert")
    message["From"] = r.target.sender or ""
    message["To"] = ", ".join(r.target.to)
    message.set_content(str(event.get("text") or ""))
    message.add_attachment(
        body(event), maintype="application", subtype="json", filename="event.json"
    )
    return message


def send_email(r: Resolved, event: dict[str, Any], *, smtp: Any = None) -> None:
    import smtplib
    import ssl

    target = r.target
    host = target.smtp_host or ""
    ssl_mode = target.security == "ssl"
    port = target.smtp_port or (465 if ssl_mode else 587 if target.security == "starttls" else 25)
    context = ssl.create_default_context()
    if smtp is None:
        smtp = smtplib.SMTP_SSL if ssl_mode else smtplib.SMTP
    try:
        kwargs: dict[str, Any] = {"timeout": target.timeout}
        if ssl_mode:
            kwargs["context"] = context
        with smtp(host, port, **kwargs) as server:
            if target.security == "starttls":
                server.starttls(context=context)
            if target.username:
                if r.password is None:
                    raise DeliveryError(
                        f"no password in the secrets store under {target.password_secret!r}"
                    )
                server.login(target.username, r.password)
            server.send_message(email_message(r, event))
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"SMTP {host}:{port}: {type(err).__name__}: {err}") from None


def send_apprise(r: Resolved, event: dict[str, Any]) -> None:
    try:
        apprise = importlib.import_module("apprise")
    except ImportError:
        raise DeliveryError(f"apprise is not installed: {APPRISE_INSTALL}") from None
    sender = apprise.Apprise()
    if not sender.add(r.url or r.target.url or ""):
        raise DeliveryError("apprise does not understand this URL")
    if not sender.notify(title=str(event.get("title") or ""), body=str(event.get("text") or "")):
        raise DeliveryError("apprise could not deliver (its log says why)")


SENDERS: dict[str, Callable[[Resolved, dict[str, Any]], Any]] = {
    "command": send_command,
    "webhook": send_webhook,
    "email": send_email,
    "apprise": send_apprise,
}


def deliver(r: Resolved, event: dict[str, Any]) -> None:
    SENDERS[r.target.type](r, event)
