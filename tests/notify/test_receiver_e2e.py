"""Alerts end to end: the real `sync run` against the simulator (in-process), alerts posted to
a local HTTP receiver on a real socket: one digest per failing cycle, none for a good one, and
the token expiry warnings on the right days, once each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from qbsync.notify import dispatch
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.notify.receiver import Receiver
from tests.support import run, run_json
from tests.sync.helpers import map_demo, set_config, store_execute

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def hook(receiver: Receiver) -> None:
    from tests.notify.helpers import write_notify

    write_notify([{"name": "hook", "type": "webhook", "url": receiver.url, "backoff": "10ms"}])


def sync(code: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = run_json("sync", "run", code=code)["data"]["cycles"][0]
    return data


def test_one_digest_per_failing_cycle(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, receiver: Receiver
) -> None:
    map_demo(connected_company.key)
    hook(receiver)
    set_config("sync.attempt_cap", "1")
    ctl = connected_company.control
    # Every export refused, and inbound cannot read: a failed cycle that opens exceptions.
    ctl.inject_fault("/v3/company/*/batch", method="POST", status=400, code="6000")
    ctl.inject_fault("/v3/company/*/cdc*", method="GET", status=503, count=1000)
    first = sync(code=1)
    assert first["result"] == "failed" and first["stats"]["exceptions_raised"] >= 2
    [digest] = receiver.received
    assert digest["event"] == "cycle_failed"
    assert digest["events"] == ["cycle_failed", "exceptions_opened"]
    assert digest["cycle"]["cycle_id"] == first["cycle_id"]
    assert digest["exceptions_total"] == first["stats"]["exceptions_raised"]
    assert len(digest["exceptions"]) == first["stats"]["exceptions_raised"]
    assert "export_failing" in {e["kind"] for e in digest["exceptions"]}
    assert all(e["message"] and e["subject_id"] for e in digest["exceptions"])
    assert digest["cycle"]["exit_code"] == 1
    # The same trouble again: one message for this cycle, its exceptions already told.
    second = sync(code=1)
    assert len(receiver.received) == 2
    assert receiver.received[1]["events"] == ["cycle_failed"]
    assert receiver.received[1]["cycle"]["cycle_id"] == second["cycle_id"]
    # QuickBooks reads again: a good cycle says nothing.
    ctl.clear_faults()
    assert sync()["result"] == "succeeded"
    assert len(receiver.received) == 2


def test_a_target_that_is_down_changes_nothing_for_cron(
    connected_company: ConnectedCompany, receiver: Receiver
) -> None:
    hook(receiver)
    receiver.statuses = [503] * 4  # every attempt of the first alert: 1 + 3 retries
    connected_company.control.inject_fault("/v3/company/*/cdc*", method="GET", status=503)
    quiet = run("sync", "run", "--quiet")
    assert quiet.exit_code == 1
    # cron's one line for the failed cycle; nothing about the alert that could not go out
    assert len(quiet.stderr.strip().splitlines()) == 1 and "alert" not in quiet.stderr
    assert receiver.hits == 4 and receiver.received == []
    # Not queued: the next failing cycle sends its own.
    run("sync", "run", "--quiet")
    assert receiver.kinds() == ["cycle_failed"] and receiver.hits == 5


def test_expiry_warnings_at_14_7_and_2_days_once_each(
    connected_company: ConnectedCompany, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook(receiver)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ends = (start + dt.timedelta(days=100)).isoformat()
    store_execute("UPDATE companies SET refresh_expires_at = ? WHERE key = ?", [ends, "acme"])

    def on_day(day: float) -> None:
        moment = start + dt.timedelta(days=day)
        monkeypatch.setattr(dispatch, "utc_now", lambda: moment)
        assert sync()["result"] == "succeeded"

    told: list[int] = []
    for day in (1, 80, 85.9, 86.5, 87, 90, 93.1, 95, 97.9, 98.5, 99, 99.9):
        on_day(day)
        told = [e["expiry"]["threshold_days"] for e in receiver.received]
    assert told == [14, 7, 2]
    assert [e["expiry"]["days_left"] for e in receiver.received] == [13, 6, 1]
    assert {e["expiry"]["ends_at"] for e in receiver.received} == {ends}
    assert all(e["event"] == "token_expiring" for e in receiver.received)
    # A reconnect (a new token, a new end) is warned about afresh.
    later = (start + dt.timedelta(days=200)).isoformat()
    store_execute("UPDATE companies SET refresh_expires_at = ? WHERE key = ?", [later, "acme"])
    on_day(186.5)
    assert [e["expiry"]["threshold_days"] for e in receiver.received] == [14, 7, 2, 14]


def test_reconnect_needed_once_per_outage(
    connected_company: ConnectedCompany, receiver: Receiver
) -> None:
    hook(receiver)
    connected_company.control.revoke_all_tokens(connected_company.realm_id)
    store_execute("UPDATE companies SET access_expires_at = ?", ["2000-01-01T00:00:00+00:00"])
    assert sync(code=3)["result"] == "aborted"
    [told] = receiver.received
    assert told["event"] == "reconnect_needed" and told["cycle"]["exit_code"] == 3
    assert "qbsync connect --company acme" in told["hint"]
    assert sync(code=3)["result"] == "aborted"  # cron's next run: still refused, not told again
    assert len(receiver.received) == 1
