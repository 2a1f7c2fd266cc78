"""The chaos run (bench/chaos.py) as a test: 500 documents, 200 payments, credits QuickBooks
applies on its own, split payments, voids and deletes on both sides, hand-keyed duplicates, the
CSV fallback for a slice and a 35-day gap, against `qbsync sim serve` in a process of its own on
a real socket, the CLI in-process. Afterwards `qbsync reconcile` exits 0, QuickBooks holds each
DocNumber once, and every payment is counted once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.chaos import Chaos, ShiftedClock
from qbsync import timeutil
from qbsync.companies.connection import connect_company
from qbsync.companies.credentials import set_app_credentials
from qbsync.qbo.authorize import headless_browser
from qbsync.sim.control import SimControl
from qbsync.workspace import Workspace
from tests.fixtures.ledger import ensure_company
from tests.fixtures.qbo import generous_limits
from tests.support import run

KEY = "acme"


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    """`qbsync sim serve` in a child process (Intuit's limits off), on a free port."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from qbsync.cli.app import main; main()",
            "sim",
            "serve",
            "--port",
            "0",
            "--auto-consent",
            "--limits",
            "off",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info: dict[str, str] = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def cli(*args: str) -> tuple[int, Any]:
    result = run(*args, "--json")
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.mark.slow
@pytest.mark.e2e
def test_chaos_run_ties_out(
    served: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeutil, "dt", timeutil.dt)  # the shifted clock is undone afterwards
    clock = ShiftedClock()
    clock.install()
    ensure_company(KEY)
    with Workspace() as ws:
        set_app_credentials(
            ws, KEY, served["client_id"], served["client_secret"], "sim", served["url"]
        )
        generous_limits(ws)
        connect_company(ws, KEY, "sim", served["url"], open_url=headless_browser)
    with SimControl(served["url"], served["admin_key"], timeout=60) as control:
        chaos = Chaos(cli, control, served["realm_id"], KEY, tmp_path, clock.shift)
        figures = chaos.run()
        checks = chaos.checks()
    print("CHAOS", json.dumps({"figures": figures, "checks": checks}, default=str))

    # Every part of the story happened.
    events = figures["events"]
    assert figures["documents"] == 500
    assert figures["documents_by_state"]["credit_note:paid"] > 0
    assert figures["credited_documents"] > 0  # credits QuickBooks applied on its own
    assert checks["credit_only_payments_in_quickbooks"] > 0
    assert (
        events["payments_local"]
        + sum(n for k, n in events.items() if k.startswith("payments_quickbooks"))
        == 200
    )
    assert events["payments_quickbooks_split"] > 0 and events["payments_moved_in_quickbooks"] > 0
    assert events["payments_voided_in_quickbooks"] > 0
    assert events["payments_deleted_in_quickbooks"] > 0
    assert events["csv_imported_in_quickbooks"] == events["csv_exported"] == 50
    assert events["twins_exact"] > 0 and events["twins_wrong"] > 0
    assert events["ledger_voids"] > 0 and events["ledger_voids_refused"] == 4
    assert events["invoices_voided_in_quickbooks"] > 0
    assert events["invoices_deleted_in_quickbooks"] > 0
    assert events["gap_payments_quickbooks"] > 0 and events["gap_invoices_voided_in_quickbooks"]
    assert figures["exceptions_opened"]["duplicate_number"] == events["twins_wrong"]
    assert figures["problems"] == []
    # Afterwards: everything ties, each number once, each payment counted once.
    assert checks["reconcile_untied"] == []
    assert checks["reconcile_exit"] == 0, checks["reconcile_summary"]
    assert checks["numbers_held_twice"] == []
    assert checks["paid_mismatches"] == []
    assert checks["cash_on_unlinked_invoices"] == []
    assert checks["payments_missing_in_ledger"] == []
    assert checks["ledger_payments_not_in_quickbooks"] == []
    assert checks["payments_from_two_sources"] == []
    assert checks["credit_moves_counted_as_cash"] == []
    assert checks["ledger_paid_total"] == checks["quickbooks_cash_total"]
    # Each payment voided or deleted in QuickBooks is reversed in the ledger once, named in one
    # qbo_void_reversed exception; it stays open while its invoice owes the money again.
    reversed_payments = (
        events["payments_voided_in_quickbooks"]
        + events["payments_deleted_in_quickbooks"]
        + events["gap_payments_voided_in_quickbooks"]
    )
    assert figures["exceptions_opened"]["qbo_void_reversed"] == reversed_payments
    assert figures["exceptions_outcome"].pop("qbo_void_reversed: open/-") == reversed_payments
    assert figures["exceptions_outcome"] == {
        f"{kind}: resolved/{action}": n
        for kind, action, n in (
            (
                "drift_voided_or_deleted",
                "accept",
                figures["exceptions_opened"].get("drift_voided_or_deleted"),
            ),
            ("duplicate_number", "retry", events["twins_wrong"]),
        )
    }
