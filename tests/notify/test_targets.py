"""Each kind of target: a command gets the JSON on stdin, a webhook is retried on 5xx and
connection errors with a doubling delay, e-mail goes over STARTTLS or SSL with the password from
the secrets store, apprise is imported only when such a target sends."""

from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from qbsync.config import NotifyTarget
from qbsync.notify import events
from qbsync.notify.targets import (
    DeliveryError,
    Resolved,
    send_apprise,
    send_command,
    send_email,
    send_webhook,
)

EVENT = events.sample_event("acme")


def target(**fields: Any) -> NotifyTarget:
    return NotifyTarget.model_validate({"name": "t", **fields})


def test_command_gets_the_json_event_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "event.json"
    send_command(Resolved(target(type="command", command=["sh", "-c", f"cat > {out}"])), EVENT)
    assert json.loads(out.read_text()) == EVENT


def test_command_exit_code_and_timeout_are_errors(tmp_path: Path) -> None:
    failing = target(type="command", command=["sh", "-c", "echo 'no route' >&2; exit 4"])
    with pytest.raises(DeliveryError, match="sh exited 4: no route"):
        send_command(Resolved(failing), EVENT)
    slow = target(type="command", command=["sleep", "5"], timeout="200ms")
    with pytest.raises(DeliveryError, match=r"did not finish within 0\.2 s"):
        send_command(Resolved(slow), EVENT)
    missing = target(type="command", command=[str(tmp_path / "nothing-here")])
    with pytest.raises(DeliveryError, match="could not start"):
        send_command(Resolved(missing), EVENT)


def hook(**fields: Any) -> Resolved:
    return Resolved(target(type="webhook", url="https://hooks.example.com/q", **fields))


def test_webhook_retries_5xx_and_connection_errors_with_backoff() -> None:
    answers: list[Any] = [503, httpx.ConnectError("refused"), 500, 204]
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    slept: list[float] = []
    attempts = send_webhook(
        hook(backoff="1s"), EVENT, transport=httpx.MockTransport(handler), sleep=slept.append
    )
    assert attempts == 4 and slept == [1.0, 2.0, 4.0]
    assert seen == [EVENT] * 4


def test_webhook_gives_up_after_its_retries_and_never_retries_a_4xx() -> None:
    calls: list[int] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502)

    with pytest.raises(DeliveryError, match="failed 3 times; last: HTTP 502"):
        send_webhook(
            hook(retries=2), EVENT, transport=httpx.MockTransport(down), sleep=lambda s: None
        )
    assert len(calls) == 3

    def refuses(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404)

    calls.clear()
    with pytest.raises(DeliveryError, match="HTTP 404 \\(not retried\\)"):
        send_webhook(hook(), EVENT, transport=httpx.MockTransport(refuses), sleep=lambda s: None)
    assert len(calls) == 1


class FakeSMTP:
    made: ClassVar[list[FakeSMTP]] = []

    def __init__(self, host: str, port: int, **kwargs: Any) -> None:
        self.host, self.port, self.kwargs = host, port, kwargs
        self.actions: list[Any] = []
        FakeSMTP.made.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.actions.append("quit")

    def starttls(self, context: Any = None) -> None:
        self.actions.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.actions.append(("login", user, password))

    def send_message(self, message: Any) -> None:
        self.actions.append(("send", message))


def mail(**fields: Any) -> NotifyTarget:
    return target(
        type="email",
        smtp_host="smtp.example.com",
        sender="qbsync@example.com",
        to=["books@example.com", "cfo@example.com"],
        username="qbsync@example.com",
        password_secret="smtp",
        **fields,
    )


def test_email_over_starttls_with_the_stored_password() -> None:
    FakeSMTP.made.clear()
    send_email(Resolved(mail(), password="pw-from-store"), EVENT, smtp=FakeSMTP)
    [server] = FakeSMTP.made
    assert (server.host, server.port) == ("smtp.example.com", 587)
    assert server.actions[0] == "starttls"
    assert server.actions[1] == ("login", "qbsync@example.com", "pw-from-store")
    message = server.actions[2][1]
    assert message["Subject"] == EVENT["title"]
    assert message["To"] == "books@example.com, cfo@example.com"
    assert EVENT["text"] in message.get_body(("plain",)).get_content()
    [attached] = list(message.iter_attachments())
    assert json.loads(attached.get_content()) == EVENT


def test_email_over_ssl_and_without_a_password() -> None:
    FakeSMTP.made.clear()
    send_email(Resolved(mail(security="ssl"), password="pw"), EVENT, smtp=FakeSMTP)
    [server] = FakeSMTP.made
    assert server.port == 465 and "context" in server.kwargs
    assert "starttls" not in server.actions
    with pytest.raises(DeliveryError, match="no password in the secrets store under 'smtp'"):
        send_email(Resolved(mail()), EVENT, smtp=FakeSMTP)

    class Refused(FakeSMTP):
        def login(self, user: str, password: str) -> None:
            import smtplib

            raise smtplib.SMTPAuthenticationError(535, b"bad credentials")

    with pytest.raises(DeliveryError, match="SMTPAuthenticationError"):
        send_email(Resolved(mail(), password="pw"), EVENT, smtp=Refused)


def test_apprise_is_optional_and_imported_only_to_send(monkeypatch: pytest.MonkeyPatch) -> None:
    r = Resolved(target(type="apprise", url_secret="chat"), url="json://chat.example.com/x")
    monkeypatch.setitem(sys.modules, "apprise", None)  # not installed
    with pytest.raises(DeliveryError, match=r"qbsync\[apprise\]|\.\[apprise\]"):
        send_apprise(r, EVENT)
    sent: list[dict[str, Any]] = []

    class Apprise:
        def add(self, url: str) -> bool:
            sent.append({"url": url})
            return True

        def notify(self, title: str, body: str) -> bool:
            sent.append({"title": title, "body": body})
            return True

    monkeypatch.setitem(sys.modules, "apprise", types.SimpleNamespace(Apprise=Apprise))
    send_apprise(r, EVENT)
    assert sent == [
        {"url": "json://chat.example.com/x"},
        {"title": EVENT["title"], "body": EVENT["text"]},
    ]


def test_the_core_never_imports_apprise() -> None:
    root = Path(__file__).resolve().parents[2] / "qbsync"
    found = []
    for file in root.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            found += [f"{file}: {n}" for n in names if n.split(".")[0] == "apprise"]
    assert found == []
