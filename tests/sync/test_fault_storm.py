"""2,000 invoices and 500 payments through a simulator that fails 5% of requests (500s,
429s, timeouts, dropped connections, some after the write happened): after enough cycles
everything is synced, nothing is duplicated, and every balance agrees."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import (
    duplicates,
    generated_ledger,
    map_demo,
    set_config,
    sim_docs,
    store_query,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

INVOICES = 2000
LOCAL_PAYMENTS = 450
QBO_PAYMENTS = 50
MAX_CYCLES = 40


def inject_storm(company: ConnectedCompany) -> None:
    """About 5% of API requests fail, in every way QuickBooks and networks fail."""
    api = "/v3/company/*"
    ctl = company.control
    ctl.inject_fault(api, status=500, probability=0.01)
    ctl.inject_fault(api, status=503, probability=0.005, when="after")
    ctl.inject_fault(api, kind="throttle", probability=0.01)
    ctl.inject_fault(api, kind="timeout", probability=0.01, when="after", hang_seconds=1.5)
    ctl.inject_fault(api, kind="drop", probability=0.005)
    ctl.inject_fault(api, kind="drop", probability=0.01, when="after")


def pending_ops() -> int:
    return int(store_query("SELECT COUNT(*) AS n FROM outbox WHERE state != 'done'")[0]["n"])


def applied_qbo_payments() -> int:
    return len(
        store_query("SELECT DISTINCT qbo_id FROM ledger_payments WHERE source = 'quickbooks'")
    )


def test_2000_invoices_500_payments_with_5_percent_faults(
    served_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> None:
    company = served_company
    sim, realm = company.server.sim, company.realm_id
    data = generated_ledger(tmp_path / "ledger.json", INVOICES, LOCAL_PAYMENTS)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", ledger_company)
    map_demo(company.key)
    set_config("sync.backoff", "0.05s")  # retries come due at once; the loop below is bounded
    set_config("sync.request_timeout", "1s")  # injected timeouts hang 1.5 s
    inject_storm(company)
    calls_before = company.control.counts(realm)["total"]

    started = time.monotonic()
    cycles: list[dict[str, Any]] = []
    # QuickBooks-side payments: on invoices the ledger pays nothing on, once they are there.
    qbo_targets = [f"INV-{5001 + LOCAL_PAYMENTS + i}" for i in range(QBO_PAYMENTS)]
    paid_in_qbo: set[str] = set()
    for _ in range(MAX_CYCLES):
        result = run("sync", "run", "--json")
        assert result.exit_code in (0, 1), result.stdout  # 1: a cycle whose inbound failed
        cycles.append(json.loads(result.stdout)["data"]["cycles"][0])
        linked = {
            r["local_id"]: r["qbo_id"]
            for r in store_query(
                "SELECT local_id, qbo_id FROM qbo_links WHERE local_type = 'invoice'"
            )
        }
        for target in qbo_targets:
            if target in linked and target not in paid_in_qbo:
                doc = sim.get(realm, "Invoice", linked[target])
                sim.record_payment(
                    realm, doc["CustomerRef"]["value"], doc["Balance"], invoice_id=doc["Id"]
                )
                paid_in_qbo.add(target)
        if (
            pending_ops() == 0
            and len(paid_in_qbo) == QBO_PAYMENTS
            and applied_qbo_payments() == QBO_PAYMENTS
            and cycles[-1]["result"] == "succeeded"
        ):
            break
    seconds = time.monotonic() - started
    fired = sum(r["fired"] for r in company.control.faults())
    company.control.clear_faults()
    counts = company.control.counts(realm)

    assert fired >= 5, fired  # the storm did blow (about 5% of ~550 requests)
    errored = store_query(
        "SELECT id, kind, subject_id, last_error FROM outbox WHERE state != 'done'"
    )
    assert errored == [], errored
    invoices = sim_docs(company.server, "Invoice")
    payments = sim_docs(company.server, "Payment")
    numbers = [d["DocNumber"] for d in invoices]
    assert duplicates(numbers) == []
    assert len(invoices) == INVOICES
    assert set(numbers) == {d["number"] for d in data["invoices"]}
    assert len(payments) == LOCAL_PAYMENTS + QBO_PAYMENTS
    markers = [p.get("PrivateNote") for p in payments if "qbsync:" in (p.get("PrivateNote") or "")]
    assert len(markers) == LOCAL_PAYMENTS and duplicates(markers) == []
    assert applied_qbo_payments() == QBO_PAYMENTS
    assert sim.check_invariants() == []

    # Every ledger invoice's paid amount is what QuickBooks has received on it.
    links = {
        r["qbo_id"]: r["local_id"]
        for r in store_query("SELECT local_id, qbo_id FROM qbo_links WHERE local_type = 'invoice'")
    }
    assert len(links) == INVOICES
    ledger_paid: dict[str, Decimal] = {}
    for r in store_query("SELECT invoice_id, amount FROM ledger_payments"):
        ledger_paid[r["invoice_id"]] = ledger_paid.get(r["invoice_id"], Decimal(0)) + Decimal(
            r["amount"]
        )
    mismatched = [
        (links[d["Id"]], ledger_paid.get(links[d["Id"]], Decimal(0)), d["TotalAmt"], d["Balance"])
        for d in invoices
        if ledger_paid.get(links[d["Id"]], Decimal(0))
        != Decimal(str(d["TotalAmt"])) - Decimal(str(d["Balance"]))
    ]
    assert mismatched == []
    api_calls = sum(c["stats"]["api_calls"] for c in cycles if "stats" in c)
    print(
        f"\n{len(cycles)} cycles in {seconds:.1f}s; qbsync's API calls {api_calls}; "
        f"requests the simulator answered {counts['total'] - calls_before}; "
        f"faults fired {fired}; duplicates 0"
    )
