"""A damaged store (its header overwritten, or a page of a table) is one line naming the file and
what to do, exit 1, never an "internal" error; `doctor` reports `store: fail` with that fix and
still runs the checks that do not need the store. Real qbsync processes on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from qbsync import paths
from tests.fixtures.ledger import SampleLedger
from tests.sync.helpers import cli_env, qbsync_cmd

pytestmark = pytest.mark.slow


def qbsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        qbsync_cmd(*args),
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settle(store: Path) -> int:
    """Move everything from the WAL into the file itself; the page size."""
    con = sqlite3.connect(store)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(con.execute("PRAGMA page_size").fetchone()[0])
    finally:
        con.close()


def overwrite_header(store: Path) -> None:
    _settle(store)
    with store.open("r+b") as fh:
        fh.write(b"\xff" * 100)


def overwrite_table(store: Path, table: str) -> None:
    """Overwrite the root page of `table`: the file opens, reading the table fails."""
    size = _settle(store)
    con = sqlite3.connect(store)
    try:
        [root] = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", [table]
        ).fetchone()
    finally:
        con.close()
    with store.open("r+b") as fh:
        fh.seek((root - 1) * size)
        fh.write(b"\xff" * size)


def _one_line(done: subprocess.CompletedProcess[str], store: Path) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    line = done.stderr
    assert line.count("\n") == 1 and line.startswith(f"error: the store {store} is damaged"), line
    assert "internal" not in line and "QBSYNC_DEBUG" not in line, line
    assert "restore this file from a backup" in line and "do not delete it" in line, line
    return line


def test_a_store_whose_header_is_overwritten_is_one_line_for_every_command(
    sample_ledger: SampleLedger,
) -> None:
    store = paths.database_file()
    overwrite_header(store)
    before = store.read_bytes()

    line = _one_line(qbsync("sync", "run", "--quiet"), store)
    assert "(file is not a database)" in line, line
    _one_line(qbsync("status", "--quiet"), store)
    _one_line(qbsync("invoices", "list", "--quiet"), store)

    as_json = qbsync("status", "--json")
    assert as_json.returncode == 1, as_json.stderr
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "failed"
    assert error["message"].startswith(f"the store {store} is damaged"), error
    assert "restore this file from a backup" in error["hint"], error

    # Nothing recreated or repaired behind the person's back.
    assert store.read_bytes() == before


def test_a_damaged_table_is_caught_when_it_is_read(sample_ledger: SampleLedger) -> None:
    store = paths.database_file()
    overwrite_table(store, "ledger_invoices")
    line = _one_line(qbsync("invoices", "list", "--quiet"), store)
    assert "(database disk image is malformed)" in line, line


def test_doctor_reports_a_damaged_store_and_runs_the_other_checks(
    sample_ledger: SampleLedger,
) -> None:
    store = paths.database_file()
    overwrite_header(store)

    done = qbsync("doctor", "--json")
    assert done.returncode == 1, (done.stdout, done.stderr)
    checks = {c["name"]: c for c in json.loads(done.stdout)["data"]["checks"]}
    assert checks["store"]["status"] == "fail"
    assert checks["store"]["detail"].startswith(f"the store {store} is damaged")
    assert "restore this file from a backup" in checks["store"]["fix"]
    for name in ("config", "clock"):  # no store needed
        assert checks[name]["status"] == "ok", checks[name]
    assert "secrets" in checks
    assert checks["not run"]["status"] == "warn"
    assert "migrations" in checks["not run"]["detail"], checks["not run"]
    assert [c for c in checks.values() if "is damaged" in c["detail"]] == [checks["store"]]

    person = qbsync("doctor")
    assert person.returncode == 1 and "fail  store: the store" in person.stdout, person.stdout
    quiet = qbsync("doctor", "--quiet")
    assert (quiet.returncode, quiet.stdout) == (1, "")
    assert quiet.stderr.startswith("error: doctor: failed: store"), quiet.stderr


def test_doctor_fails_the_store_on_a_damaged_table(sample_ledger: SampleLedger) -> None:
    store = paths.database_file()
    overwrite_table(store, "ledger_invoices")
    done = qbsync("doctor", "--json")
    assert done.returncode == 1, (done.stdout, done.stderr)
    checks = {c["name"]: c for c in json.loads(done.stdout)["data"]["checks"]}
    assert checks["store"]["status"] == "fail", checks["store"]
    assert str(store) in checks["store"]["detail"]
    assert "restore this file from a backup" in checks["store"]["fix"]
    assert checks["config"]["status"] == "ok"
