"""A person's `exceptions resolve --reexport` and `invoices export` while a run holds the
company's lock say what happened. The re-export is queued and goes with that run or the next
(exit 0, the exception still open until QuickBooks takes it), never "skipped"; the export
queues nothing and says to ask again (exit 75). Real qbsync processes, the simulator on a socket,
the lock held by this test as a running cycle holds it."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from typing import Any

import pytest

from qbsync.sync.lock import company_lock
from tests.fixtures.ledger import SAMPLE_LEDGER
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import cli_env, link, map_demo, qbsync_cmd, store_query

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def qbsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        qbsync_cmd(*args),
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def exception(exception_id: int) -> dict[str, Any]:
    data: dict[str, Any] = run_json("exceptions", "show", str(exception_id))["data"]
    return data


@pytest.fixture
def imported(file_company: ConnectedCompany) -> ConnectedCompany:
    run_json("ledger", "import", str(SAMPLE_LEDGER), "--company", file_company.key)
    map_demo(file_company.key)
    return file_company


def test_reexport_while_a_run_holds_the_lock_is_queued_and_sent_by_the_next(
    imported: ConnectedCompany,
) -> None:
    ctl, realm = imported.control, imported.realm_id
    assert qbsync("sync", "run", "--quiet").returncode == 0
    inv = link(imported.key, "invoice", "INV-1003")
    assert inv
    doc = ctl.get(realm, "Invoice", inv["qbo_id"])
    lines = [line for line in doc["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    lines[0]["SalesItemLineDetail"]["Qty"] = 5
    lines[0]["Amount"] = 750
    ctl.edit_invoice(realm, inv["qbo_id"], {"Line": lines})
    assert qbsync("sync", "run", "--quiet").returncode == 0
    [drift] = run_json("exceptions", "list", "--open", "--kind", "drift_changed")["data"]

    with company_lock(imported.key, "sync run (a test holding the lock)"):
        done = qbsync("exceptions", "resolve", str(drift["id"]), "--reexport", "--json")
        assert done.returncode == 0, (done.stdout, done.stderr)
        data = json.loads(done.stdout)["data"]
        assert data["queued"].startswith("the re-export of invoice 1003 is queued, not sent now")
        assert "is being synced by" in data["queued"]
        assert "skipped" not in done.stdout
        [op] = data["run"]["ops"]
        assert (op["kind"], op["state"]) == ("reexport", "pending")
        assert exception(drift["id"])["status"] == "open"  # nothing sent yet: not resolved
        assert Decimal(str(ctl.get(realm, "Invoice", inv["qbo_id"])["TotalAmt"])) != Decimal(
            "771.88"
        )
        quiet = qbsync("exceptions", "resolve", str(drift["id"]), "--reexport", "--quiet")
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
        ops = store_query("SELECT id FROM outbox WHERE kind = 'reexport' AND state = 'pending'")
        assert len(ops) == 1  # asked twice, queued once

    assert qbsync("sync", "run", "--quiet").returncode == 0
    assert exception(drift["id"])["status"] == "resolved"
    after = ctl.get(realm, "Invoice", inv["qbo_id"])
    assert Decimal(str(after["TotalAmt"])) == Decimal("771.88")


def test_export_while_a_run_holds_the_lock_queues_nothing_and_says_to_ask_again(
    imported: ConnectedCompany,
) -> None:
    run_json("config", "set", f"companies.{imported.key}.go_live", "2030-01-01")
    before = store_query("SELECT id, kind, subject_id, state, next_attempt_at FROM outbox")

    with company_lock(imported.key, "sync run (a test holding the lock)"):
        done = qbsync("invoices", "export", "INV-1001", "--json")
        assert done.returncode == 75, (done.stdout, done.stderr)
        error = json.loads(done.stdout)["error"]
        assert error["code"] == "locked" and "is being synced by" in error["message"]
        assert error["hint"] == (
            "nothing was queued or sent; run the same qbsync invoices export again once that "
            "run ends"
        )
        assert (
            store_query("SELECT id, kind, subject_id, state, next_attempt_at FROM outbox") == before
        )

    # Once the lock is free, the same command sends it (go-live holds it from the cycle only).
    again = qbsync("invoices", "export", "INV-1001", "--json")
    assert again.returncode == 0, (again.stdout, again.stderr)
    [op] = json.loads(again.stdout)["data"]["ops"]
    assert op["state"] == "done"
    assert link(imported.key, "invoice", "INV-1001")
