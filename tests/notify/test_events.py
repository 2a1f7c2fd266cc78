"""The events alerts carry: one per cycle with every reason in it, and never a secret."""

from __future__ import annotations

import json
from typing import Any

from qbsync.notify import events
from qbsync.redact import register_secret


def outcome(result: str, **extra: Any) -> dict[str, Any]:
    return {
        "cycle_id": 7,
        "company": "acme",
        "result": result,
        "exit_code": {"succeeded": 0, "aborted": 3}.get(result, 1),
        "summary": f"acme: {result} in 1.0s",
        "error": None,
        **extra,
    }


def exc(n: int, kind: str = "export_failing") -> dict[str, Any]:
    return {
        "id": n,
        "kind": kind,
        "title": "export keeps failing",
        "subject_type": "invoice",
        "subject_id": f"INV-{n}",
        "message": f"INV-{n}: QuickBooks refused it",
        "hint": "fix the mapping",
    }


def test_a_good_cycle_says_nothing() -> None:
    assert events.cycle_event(outcome("succeeded"), []) is None
    assert events.cycle_event(outcome("cancelled"), []) is None
    # the expiry and auth exceptions have events of their own, not the digest
    assert events.cycle_event(outcome("succeeded"), [exc(1, "connection_expiring")]) is None


def test_one_digest_lists_every_exception_the_cycle_opened() -> None:
    event = events.cycle_event(outcome("succeeded"), [exc(1), exc(2), exc(3)])
    assert event is not None
    assert event["event"] == "exceptions_opened" and event["events"] == ["exceptions_opened"]
    assert [e["subject_id"] for e in event["exceptions"]] == ["INV-1", "INV-2", "INV-3"]
    assert event["exceptions_total"] == 3
    assert "3 new exceptions in cycle 7" in event["title"]
    assert "INV-2: QuickBooks refused it" in event["text"]


def test_a_huge_digest_is_cut_and_counted() -> None:
    many = [exc(n) for n in range(events.DIGEST_LIMIT + 5)]
    event = events.cycle_event(outcome("succeeded"), many)
    assert event is not None
    assert len(event["exceptions"]) == events.DIGEST_LIMIT
    assert event["exceptions_total"] == events.DIGEST_LIMIT + 5
    assert "... and 5 more" in event["text"]


def test_failure_and_reconnect_come_first_in_one_event() -> None:
    failed = events.cycle_event(outcome("failed", error="inbound: HTTP 503"), [exc(1)])
    assert failed is not None
    assert failed["event"] == "cycle_failed"
    assert failed["events"] == ["cycle_failed", "exceptions_opened"]
    assert "inbound: HTTP 503" in failed["text"] and failed["cycle"]["exit_code"] == 1
    aborted = events.cycle_event(
        outcome("aborted", error="QuickBooks refused the refresh token"),
        [exc(1, "connection_auth_failed")],
    )
    assert aborted is not None
    assert aborted["events"] == ["reconnect_needed"] and aborted["exceptions"] == []
    assert "qbsync connect --company acme" in aborted["hint"]
    assert aborted["cycle"]["exit_code"] == 3
    # the next runs that find the connection still refused say nothing more
    assert events.cycle_event(outcome("aborted", error="refused"), []) is None


def test_no_alert_carries_a_token_or_a_secret() -> None:
    refresh = "AB11762304551Fgqz8hTPTlSeCretRefreshValue"
    password = "smtp-pa55word-value"
    register_secret(refresh)
    register_secret(password)
    access = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJlLXZhbHVl"
    leaky = (
        f"Authorization: Bearer {access}; refresh_token={refresh}; "
        f'{{"client_secret": "cs-9f8e7d6c5b4a"}}; password: {password}'
    )
    payloads = [
        events.cycle_event(outcome("failed", error=leaky, summary=leaky), [exc(1)]),
        events.cycle_event(outcome("aborted", error=leaky), [exc(3, "connection_auth_failed")]),
        events.cycle_event(
            outcome("succeeded"),
            [{**exc(2), "message": leaky, "hint": leaky, "subject_id": refresh}],
        ),
        events.expiry_event("acme", "refresh", "2027-01-01T00:00:00+00:00", 6.5, 7),
        events.sample_event("acme"),
    ]
    for payload in payloads:
        assert payload is not None
        text = json.dumps(payload)
        for secret in (refresh, password, access, "cs-9f8e7d6c5b4a"):
            assert secret not in text, (secret, text)
    assert "[REDACTED]" in json.dumps(payloads[0])


def test_expiry_event_names_the_end_and_the_threshold() -> None:
    event = events.expiry_event("acme", "hard", "2028-05-01T00:00:00+00:00", 1.4, 2)
    assert event["event"] == "token_expiring" and event["events"] == ["token_expiring"]
    assert event["expiry"] == {
        "which": "hard",
        "ends_at": "2028-05-01T00:00:00+00:00",
        "days_left": 1,
        "threshold_days": 2,
    }
    assert "five-year cap" in event["text"] and "expires in 1 day" in event["title"]
