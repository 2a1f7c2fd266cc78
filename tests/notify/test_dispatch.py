"""After a cycle: who is told what. One event per cycle to the targets that want it, the expiry
warning once per target and token (a target that was down gets it next time), a company's own
targets over the global ones, and nothing a target does reaches the sync."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from qbsync.config import Config, NotifyTarget
from qbsync.notify import dispatch
from qbsync.notify.targets import DeliveryError, Resolved
from qbsync.workspace import Workspace
from tests.notify.helpers import write_notify

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


class Outbox:
    """Stands in for the senders: records what each target got; `down` ones raise."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.down: set[str] = set()

    def __call__(self, r: Resolved, event: dict[str, Any]) -> None:
        if r.target.name in self.down:
            raise DeliveryError(f"{r.target.name} is down")
        self.got.append((r.target.name, event))

    def told(self, name: str) -> list[str]:
        return [e["event"] for n, e in self.got if n == name]


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Outbox:
    box = Outbox()
    monkeypatch.setattr(dispatch, "deliver", box)
    monkeypatch.setattr(dispatch, "utc_now", lambda: NOW)
    return box


def cmd(name: str, events: list[str] | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": name, "type": "command", "command": ["true"]}
    return fields if events is None else {**fields, "events": events}


def failed(company: str = "acme") -> dict[str, Any]:
    return {"cycle_id": 3, "company": company, "result": "failed", "summary": "x", "error": "boom"}


def row(days: float, hard_days: float | None = None) -> dict[str, Any]:
    hard = (NOW + dt.timedelta(days=hard_days)).isoformat() if hard_days else None
    return {
        "refresh_expires_at": (NOW + dt.timedelta(days=days)).isoformat(),
        "refresh_hard_expires_at": hard,
    }


def after(
    outcome: dict[str, Any], company_row: dict[str, Any] | None = None
) -> list[dispatch.Delivery]:
    with Workspace() as ws:
        settings = ws.config.companies.get(outcome["company"])
        return asyncio.run(
            dispatch.after_cycle(ws, outcome["company"], settings, outcome, [], company_row)
        )


def ok(company: str = "acme") -> dict[str, Any]:
    return {"cycle_id": 4, "company": company, "result": "succeeded", "summary": "fine"}


def test_each_target_gets_the_events_it_asked_for(outbox: Outbox) -> None:
    write_notify([cmd("all"), cmd("failures", ["cycle_failed"]), cmd("expiry", ["token_expiring"])])
    after(failed(), row(90))
    assert outbox.told("all") == ["cycle_failed"] and outbox.told("failures") == ["cycle_failed"]
    assert outbox.told("expiry") == []
    after(ok(), row(6))
    assert outbox.told("expiry") == ["token_expiring"] and outbox.told("failures") == [
        "cycle_failed"
    ]


def test_expiry_thresholds(outbox: Outbox) -> None:
    assert dispatch.expiry_due(row(14.5)) is None
    assert dispatch.expiry_due(row(13.9))[3] == 14  # type: ignore[index]
    assert dispatch.expiry_due(row(7))[3] == 7  # type: ignore[index]
    assert dispatch.expiry_due(row(0.5))[3] == 2  # type: ignore[index]
    assert dispatch.expiry_due(row(-1))[3] == 2  # type: ignore[index]  # already expired
    # the hard cap, when nearer, is the end that counts
    which, _, days, threshold = dispatch.expiry_due(row(90, hard_days=5))  # type: ignore[misc]
    assert (which, round(days), threshold) == ("hard", 5, 7)
    assert dispatch.expiry_due({"refresh_expires_at": None}) is None
    assert dispatch.expiry_due(None) is None


def test_expiry_warning_once_per_target_and_a_down_target_gets_it_next_time(
    outbox: Outbox,
) -> None:
    write_notify([cmd("up"), cmd("flaky")])
    outbox.down = {"flaky"}
    results = after(ok(), row(6))
    assert [(d.target, d.ok) for d in results] == [("up", True), ("flaky", False)]
    assert results[1].error == "flaky is down"
    assert outbox.told("up") == ["token_expiring"] and outbox.told("flaky") == []
    outbox.down = set()
    after(ok(), row(6))
    assert outbox.told("up") == ["token_expiring"]  # not again
    assert outbox.told("flaky") == ["token_expiring"]  # its turn, once it is back
    after(ok(), row(5.5))
    assert len(outbox.got) == 2
    # the same token seen with an end a few minutes off is still the same token
    after(ok(), row(5.5 + 0.01))
    assert len(outbox.got) == 2


def test_a_company_of_its_own_replaces_the_global_targets(outbox: Outbox) -> None:
    write_notify([cmd("global")])
    write_notify([cmd("beta-team")], company="beta")
    after(failed("acme"))
    after(failed("beta"))
    assert [(n, e["company"]) for n, e in outbox.got] == [("global", "acme"), ("beta-team", "beta")]


def test_nothing_a_target_does_reaches_the_sync(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notify([cmd("a")])

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in delivery")

    monkeypatch.setattr(dispatch, "deliver", broken)
    [result] = after(failed())
    assert not result.ok and "RuntimeError: a bug in delivery" in (result.error or "")
    monkeypatch.setattr(dispatch.events, "cycle_event", broken)
    assert after(failed()) == []  # even a bug before delivery is logged, not raised


def test_a_url_secret_is_read_from_the_secrets_store(outbox: Outbox) -> None:
    write_notify([{"name": "chat", "type": "webhook", "url_secret": "chat-url"}])
    [missing] = after(failed())
    assert not missing.ok and "qbsync notify secret chat-url" in (missing.error or "")
    with Workspace() as ws:
        ws.secrets.set(
            dispatch.secret_name("chat-url"), "https://hooks.example.com/T0/B0/s3cr3tpath"
        )
    [sent] = after(failed())
    assert sent.ok


def test_a_url_holding_a_secret_is_refused_in_config() -> None:
    with pytest.raises(ValueError, match="url_secret"):
        NotifyTarget(name="x", type="webhook", url="https://h.example.com/?token=abc")
    with pytest.raises(ValueError, match="url_secret"):
        NotifyTarget(name="x", type="webhook", url="https://user:pw@h.example.com/")
    with pytest.raises(ValueError, match="needs url or url_secret"):
        NotifyTarget(name="x", type="webhook")
    with pytest.raises(ValueError, match="needs smtp_host"):
        NotifyTarget(name="x", type="email", sender="a@b.c", to=["d@e.f"])


def test_notify_durations_stay_text_when_the_config_is_saved() -> None:
    from qbsync import config

    write_notify([{**cmd("a"), "timeout": "30s"}, {**cmd("b"), "timeout": "2m"}])
    cfg = config.load()
    assert cfg.notify.targets[1].timeout == 120.0
    config.save(cfg.model_copy(update={"log_level": "debug"}))
    text = config.paths.config_file().read_text()
    assert "timeout: 30s" in text and "timeout: 2m" in text
    assert config.load().notify.targets[0].timeout == 30.0
    assert isinstance(Config().notify.targets, list)
