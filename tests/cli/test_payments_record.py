"""`qbsync payments record` says what it did: the amount as the ledger stores it, and whether
anything was recorded and queued (recording the identical payment again does neither)."""

from __future__ import annotations

from tests.fixtures.ledger import SampleLedger
from tests.support import run_json
from tests.sync.helpers import store_query

RECORD = ("payments", "record", "--invoice", "INV-1003", "--date", "2026-11-20", "--id", "P-4")


def _pushes() -> int:
    rows = store_query(
        "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'push_payment' AND subject_id = 'P-4'"
    )
    return int(rows[0]["n"])


def test_a_payment_recorded_again_queues_nothing_and_says_so(sample_ledger: SampleLedger) -> None:
    first = run_json(*RECORD, "--amount", "1e2")["data"]
    assert (first["amount"], first["queued"]) == ("100.00", True)
    assert _pushes() == 1
    again = run_json(*RECORD, "--amount", "100.00")["data"]
    assert (again["amount"], again["queued"]) == ("100.00", False)
    assert _pushes() == 1
