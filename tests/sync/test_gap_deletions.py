"""After a change-feed gap longer than QuickBooks keeps (30 days), deletions made in QuickBooks
are still seen: the ids QuickBooks holds are read page by page and every linked id that is gone
takes the same drift and reversal path as a deletion read live. The requests are counted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from qbsync.qbo.errors import QboError
from qbsync.sync.inbound.window import too_old
from tests.fixtures.qbo import ConnectedCompany
from tests.sync.helpers import store_execute
from tests.sync.test_qbo_voids import (
    EXEMPT,
    TAXED,
    _customer,
    exported,
    ledger_rows,
    open_exceptions,
    paid,
    qbo_id,
    sync,
)

__all__ = ["exported"]  # the fixture

DAY = 86400


def _delete_both(company: ConnectedCompany) -> dict[str, Any]:
    """A QuickBooks payment recorded and synced, then deleted along with a paid invoice."""
    ctl, realm = company.control, company.realm_id
    pay = ctl.record_payment(
        realm, _customer(company), "60.00", invoice_id=qbo_id("invoice", TAXED), ref_num="GAP-1"
    )
    sync()
    assert paid(TAXED) == Decimal("60.00")
    ctl.delete_invoice(realm, qbo_id("invoice", EXEMPT))
    ctl.delete_payment(realm, pay["Id"])
    return pay


def _both_seen(pay: dict[str, Any]) -> None:
    [drift] = open_exceptions("drift_voided_or_deleted")
    assert drift["subject_id"] == EXEMPT and "deleted" in drift["message"], drift
    assert "PAY-8001 of 50.00" in drift["message"], drift  # the ledger's own, dangling
    [reversed_] = open_exceptions("qbo_void_reversed")
    assert reversed_["qbo_id"] == pay["Id"] and "deleted" in reversed_["message"], reversed_
    assert paid(TAXED) == 0
    payments, _ = ledger_rows()
    assert [p["id"] for p in payments] == ["PAY-8001"]


def _queries(log: list[dict[str, Any]]) -> list[str]:
    return [r["path"] for r in log if "/query" in r["path"] or "/cdc" in r["path"]]


def test_deletions_seen_after_a_35_day_gap(exported: ConnectedCompany) -> None:
    ctl = exported.control
    pay = _delete_both(exported)
    ctl.advance_clock(35 * DAY)  # QuickBooks' clock: the cursor is past the change feed's reach
    ctl.clear_request_log()
    cycle = sync()
    _both_seen(pay)
    log = ctl.request_log()
    # The change feed twice (the access token expired with 35 days gone, then the refusal),
    # 4 + 1 queries by time (inactive customers apart), 3 id pages (one per linked kind).
    reads = _queries(log)
    assert reads.count(reads[0]) == 2 and "/cdc" in reads[0], reads
    assert len(reads) == 2 + 5 + 3, reads
    # and one token refresh: 11 requests in all, of which the id reconciliation is 3.
    assert len(log) == len(reads) + 1 and "tokens" in log[1]["path"], [r["path"] for r in log]
    assert cycle["result"] == "succeeded"

    # Never twice: the next run changes nothing and raises nothing again.
    before = ledger_rows()
    sync()
    assert ledger_rows() == before
    assert [r["occurrences"] for r in open_exceptions("qbo_void_reversed")] == [1]
    assert [r["occurrences"] for r in open_exceptions("drift_voided_or_deleted")] == [1]


def test_deletions_seen_when_our_cursor_is_older_than_the_feed(
    exported: ConnectedCompany,
) -> None:
    pay = _delete_both(exported)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).replace(microsecond=0)
    store_execute("UPDATE sync_cursors SET cursor = ?", [old.isoformat()])
    exported.control.clear_request_log()
    sync()
    _both_seen(pay)
    reads = _queries(exported.control.request_log())
    assert not any("/cdc" in r for r in reads), reads
    assert len(reads) == 5 + 3, reads


def test_the_change_feed_refusing_an_old_window_is_recognized() -> None:
    intuit = "Operation cdc with changedSince date 2026-01-01 which is older than fixed days is not supported."
    assert too_old(QboError("QuickBooks error 10000", qbo_code="10000", detail=intuit))
    assert too_old(
        QboError(
            "QuickBooks error 6000",
            qbo_code="6000",
            detail="changedSince must be within the last 30 days.",
        )
    )
    assert not too_old(QboError("QuickBooks error 6000", qbo_code="6000", detail="Invalid Number"))
