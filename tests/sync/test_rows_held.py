"""An invoice the history wizard left for review (QuickBooks holds its number on a document
that is not the same) is never exported until decided, and `invoices list` says so: held, with
the reason, in the table and in JSON. End to end against the simulator in-process."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo
from tests.sync.test_dupes_numbers import after_an_interval
from tests.sync.test_dupes_paths import numbers_held
from tests.wizard.helpers import qbo_copy


def test_a_wizard_review_row_is_listed_as_held_with_its_reason_until_decided(
    connected_company: ConnectedCompany,
    sample_ledger: SampleLedger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctl, realm = connected_company.control, connected_company.realm_id
    map_demo(connected_company.key)
    qbo_copy(connected_company, "INV-1001")
    wrong = qbo_copy(connected_company, "INV-1002", extra=Decimal("10.00"))
    data = run_json("wizard", "history", "--accept-confident")["data"]
    review = {p["invoice"]: p for p in data["proposals"]}["INV-1002"]
    assert review["status"] == "review"
    run_json("sync", "run")

    rows = {r["id"]: r for r in run_json("invoices", "list")["data"]}
    held = rows["INV-1002"]
    assert held["held"] == "wizard review"
    assert f"Id {wrong['Id']}" in held["held_reason"]
    assert "qbsync wizard history" in held["held_reason"]
    assert held["status"] == "finalized" and held["qbo_id"] is None
    assert all(rows[i]["held"] is None for i in ("INV-1001", "INV-1003", "CN-2001"))
    table = run("invoices", "list").stdout
    assert "held: wizard review" in table
    assert (
        "INV-1002 held (wizard review): invoice 1002: QuickBooks already holds Invoice number 1002"
        in (" ".join(table.split()))
    )

    # Never exported while it waits: a later cycle creates nothing.
    after_an_interval(monkeypatch)
    run_json("sync", "run")
    assert numbers_held(connected_company.server, "Invoice") == Counter(
        {"1001": 1, "1002": 1, "1003": 1}
    )
    assert link(connected_company.key, "invoice", "INV-1002") is None

    # Decided: theirs was a mistake, deleted in QuickBooks; ours goes and the hold is gone.
    ctl.delete_invoice(realm, str(wrong["Id"]))
    after_an_interval(monkeypatch)
    run_json("sync", "run")
    row = link(connected_company.key, "invoice", "INV-1002")
    assert row is not None and row["qbo_id"] != str(wrong["Id"])
    listed = {r["id"]: r for r in run_json("invoices", "list")["data"]}
    assert listed["INV-1002"]["held"] is None and listed["INV-1002"]["held_reason"] is None
    assert "held:" not in run("invoices", "list").stdout
