"""Cron and the daemon on one store at the same time.

`qbsync daemon` cycles two companies every second while cron-style `qbsync sync run --all`
processes start again and again beside it, ledger imports land in the middle and a QuickBooks
user records payments. Two processes often write the store at once (each holds the lock of a
different company). No process meets "database is locked" (every transaction takes the write
lock up front and waits its turn), every process exits 0 (or 75: another run held a company's
lock), and every piece of work is done exactly once: each document and payment reaches
QuickBooks once, and each payment recorded in QuickBooks reaches the ledger once."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from qbsync import paths
from tests.fixtures.qbo import ConnectedCompany, connect_realm
from tests.support import run_json
from tests.sync.helpers import (
    duplicates,
    generated_ledger,
    invoice_amount,
    map_demo,
    set_config,
    start_cli,
    store_query,
)

INVOICES = 80  # per company, imported before the sync starts
PAYMENTS = 30  # local payments, on the first invoices
LATE_IMPORTS = 3  # per company, of LATE_INVOICES each, while the sync runs
LATE_INVOICES = 10
QBO_PAYMENTS = 4  # per company, recorded by a person in QuickBooks
CRON_WORKERS = 3
MIN_SECONDS = 10  # cron and the daemon meet for at least this long
DEADLINE = 150  # seconds for all of the work, on a loaded machine (it takes ~40 s)
LOCKED = "database is locked"


class Runs:
    """Every process started, with its exit code and what it printed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done: list[tuple[tuple[str, ...], int, str]] = []

    def run(self, *args: str) -> int:
        proc = start_cli(*args)
        out, err = proc.communicate(timeout=DEADLINE)
        with self.lock:
            self.done.append((args, proc.returncode, out + err))
        return proc.returncode

    def codes(self, first: str) -> list[int]:
        with self.lock:
            return [code for args, code, _ in self.done if args[0] == first]

    def report(self) -> str:
        with self.lock:
            locked = [args for args, _, text in self.done if LOCKED in text]
            codes = [(args[0], code) for args, code, _ in self.done]
        return f"exit codes: {codes}; {LOCKED!r} printed by: {locked}"


def _count(sql: str, params: list[Any]) -> int:
    return int(store_query(sql, params)[0]["n"])


def _docs(company: ConnectedCompany, realm: str, entity: str) -> list[dict[str, Any]]:
    return list(company.server.sim.company(realm).data[entity].values())


def _all_done(keys: list[str]) -> bool:
    for key in keys:
        ops = _count("SELECT COUNT(*) AS n FROM outbox WHERE company = ?", [key])
        left = _count(
            "SELECT COUNT(*) AS n FROM outbox WHERE company = ? AND state != 'done'", [key]
        )
        from_qbo = _count(
            "SELECT COUNT(*) AS n FROM ledger_payments WHERE company = ? AND source = 'quickbooks'",
            [key],
        )
        expected = INVOICES + LATE_IMPORTS * LATE_INVOICES + PAYMENTS
        if ops != expected or left or from_qbo != QBO_PAYMENTS:
            return False
    return True


def _record_qbo_payments(company: ConnectedCompany, key: str, realm: str) -> list[str]:
    """A person in QuickBooks records full payments on exported invoices that no local payment
    touches; returns the invoices' numbers."""
    unpaid = store_query(
        "SELECT l.local_id, l.qbo_id FROM qbo_links l WHERE l.company = ? AND "
        "l.local_type = 'invoice' AND NOT EXISTS (SELECT 1 FROM ledger_payments p WHERE "
        "p.company = l.company AND p.invoice_id = l.local_id) ORDER BY l.local_id LIMIT ?",
        [key, QBO_PAYMENTS],
    )
    assert len(unpaid) == QBO_PAYMENTS, unpaid
    docs = {d["Id"]: d for d in _docs(company, realm, "Invoice")}
    numbers = []
    for row in unpaid:
        doc = docs[row["qbo_id"]]
        number = int(doc["DocNumber"])
        company.control.record_payment(
            realm,
            doc["CustomerRef"]["value"],
            invoice_amount(number),
            invoice_id=row["qbo_id"],
            ref_num=f"QBO-{number}",
        )
        numbers.append(str(number))
    return numbers


def _wait(condition: Any, what: str, deadline: float, runs: Runs) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; {runs.report()}")
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(DEADLINE + 120)  # the deadline, then stopping every process cleanly
def test_cron_runs_and_the_daemon_share_one_store(
    file_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = file_company
    beta_realm = company.control.add_company("Second Co", seed="demo")
    connect_realm(company.server, "beta", beta_realm)
    realms = {company.key: company.realm_id, "beta": beta_realm}
    numbers: dict[str, set[str]] = {}
    late: list[tuple[str, Path]] = []
    for key in realms:
        path = tmp_path / f"{key}.json"
        data = generated_ledger(path, INVOICES, PAYMENTS)
        numbers[key] = {d["number"] for d in data["invoices"]}
        run_json("ledger", "import", str(path), "--company", key)
        map_demo(key)
        for n in range(LATE_IMPORTS):
            part = tmp_path / f"{key}-late-{n}.json"
            start = 5001 + INVOICES + n * LATE_INVOICES
            data = generated_ledger(part, LATE_INVOICES, start=start)
            numbers[key] |= {d["number"] for d in data["invoices"]}
            late.append((key, part))
    # Small batches and a little latency: the work spans many cycles, cron's and the daemon's.
    set_config("sync.batch_size", "10")
    company.control.set_latency(per_request_ms=5, per_batch_item_ms=10)

    runs = Runs()
    stop = threading.Event()

    def cron() -> None:
        while not stop.is_set():
            runs.run("sync", "run", "--all", "--quiet")

    def imports() -> None:
        for key, part in late:
            runs.run("ledger", "import", str(part), "--company", key)

    started = time.monotonic()
    deadline = started + DEADLINE
    daemon = start_cli("daemon", "--interval", "1s")
    threads = [threading.Thread(target=cron) for _ in range(CRON_WORKERS)]
    threads.append(threading.Thread(target=imports))
    paid_in_qbo: dict[str, list[str]] = {}
    try:
        for thread in threads:
            thread.start()
        for key, realm in realms.items():
            _wait(
                lambda key=key: (
                    _count(
                        "SELECT COUNT(*) AS n FROM qbo_links WHERE company = ? AND "
                        "local_type = 'invoice'",
                        [key],
                    )
                    >= QBO_PAYMENTS + PAYMENTS
                ),
                f"the first exports of {key}",
                deadline,
                runs,
            )
            paid_in_qbo[key] = _record_qbo_payments(company, key, realm)
        _wait(lambda: _all_done(list(realms)), "all of the work", deadline, runs)
        while time.monotonic() - started < MIN_SECONDS:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=DEADLINE)
        daemon.send_signal(signal.SIGTERM)
        try:
            out, err = daemon.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            out, err = daemon.communicate()

    # Nobody met a locked database, and every exit was a success or "a lock is held".
    printed = [(args, text) for args, _, text in runs.done if LOCKED in text]
    assert printed == [] and LOCKED not in out + err, printed or out + err
    logged = [p.name for p in paths.log_dir().glob("qbsync.log*") if LOCKED in p.read_text()]
    assert logged == []
    assert daemon.returncode == 0, (out, err)
    assert {code for _, code, _ in runs.done} <= {0, 75}, [(a, c) for a, c, _ in runs.done]
    assert runs.codes("ledger") == [0] * len(late)
    cron = runs.codes("sync")
    assert 75 in cron, cron  # the runs met: some found a company's lock held
    cycles = store_query("SELECT company, trigger, result FROM sync_cycles")
    assert {c["trigger"] for c in cycles} == {"daemon", "manual"}  # both ran cycles
    assert {c["result"] for c in cycles} <= {"succeeded", "cancelled"}, cycles

    for key, realm in realms.items():
        # Each document and each local payment reached QuickBooks once.
        sent = [d["DocNumber"] for d in _docs(company, realm, "Invoice")]
        assert duplicates(sent) == [] and set(sent) == numbers[key], key
        notes = [p.get("PrivateNote") or "" for p in _docs(company, realm, "Payment")]
        assert len([n for n in notes if "qbsync:" in n]) == PAYMENTS, key
        ops = store_query("SELECT kind, subject_id, state FROM outbox WHERE company = ?", [key])
        assert duplicates([(o["kind"], o["subject_id"]) for o in ops]) == []
        assert {o["state"] for o in ops} == {"done"}
        links = store_query("SELECT local_type, qbo_id FROM qbo_links WHERE company = ?", [key])
        assert duplicates([(r["local_type"], r["qbo_id"]) for r in links]) == []
        assert len([r for r in links if r["local_type"] == "payment"]) == PAYMENTS
        # Each payment recorded in QuickBooks reached the ledger once.
        from_qbo = store_query(
            "SELECT p.qbo_id, i.number FROM ledger_payments p JOIN ledger_invoices i "
            "ON i.company = p.company AND i.id = p.invoice_id "
            "WHERE p.company = ? AND p.source = 'quickbooks'",
            [key],
        )
        assert sorted(r["number"] for r in from_qbo) == sorted(paid_in_qbo[key]), key
        assert duplicates([r["qbo_id"] for r in from_qbo]) == []
    assert company.server.sim.check_invariants() == []
    print(
        f"cron runs: {len(cron)} ({cron.count(75)} found a lock held); cycles: {len(cycles)} "
        f"({sum(c['trigger'] == 'manual' for c in cycles)} by cron); "
        f"seconds: {time.monotonic() - started:.1f}"
    )
