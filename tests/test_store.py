from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from qbsync import paths
from qbsync.store import open_store
from qbsync.store.database import Database, StoreDamaged
from qbsync.store.db import applied_migrations, apply_migrations, configure, pending_migrations
from qbsync.store.schema import STEPS
from qbsync.store.tx import transaction
from tests.support import shared_lock_held


def test_every_migration_step_applies_alone_on_an_in_memory_database() -> None:
    names = [name for name, _ in STEPS]
    assert names == sorted(names), "steps must be appended in order"
    db = configure(Database(memory=True))
    for step_index in range(len(names)):
        apply_migrations(
            db, stop_before=names[step_index + 1] if step_index + 1 < len(names) else None
        )
        applied = applied_migrations(db)
        assert applied == names[: step_index + 1]
    assert pending_migrations(db) == []


def test_a_failing_step_rolls_back_and_stays_pending() -> None:
    db = open_store(memory=True)
    before = set(db.table_names())

    def broken(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    STEPS.append(("9999_broken", broken))
    try:
        with pytest.raises(RuntimeError):
            apply_migrations(db)
        assert set(db.table_names()) == before
        assert "9999_broken" in pending_migrations(db)
    finally:
        STEPS.pop()


def test_store_is_wal_private_and_migrated_on_open() -> None:
    db = open_store()
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert "companies" in db.table_names()
        assert pending_migrations(db) == []
    finally:
        db.close()
    mode = stat.S_IMODE(os.stat(paths.database_file()).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(paths.state_dir()).st_mode) == 0o700


@pytest.mark.slow
def test_opening_the_store_again_leaves_an_open_connections_locks_alone() -> None:
    # Closing any descriptor of the file drops every POSIX lock the process holds on it:
    # another process could then take the store for unused and checkpoint its log away.
    first = open_store()
    first.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    second = open_store()
    try:
        assert shared_lock_held(paths.database_file())
    finally:
        second.close()
        first.close()


def test_reopening_applies_nothing_twice() -> None:
    open_store().close()
    db = open_store()
    try:
        names = applied_migrations(db)
        assert len(names) == len(set(names)) == len(STEPS)
    finally:
        db.close()


def test_transaction_commits_or_undoes_everything() -> None:
    db = open_store()
    try:
        with transaction(db):
            db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'kept')")
        with pytest.raises(RuntimeError), transaction(db):
            db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'undone')")
            raise RuntimeError("boom")
        assert [r[0] for r in db.execute("SELECT message FROM events")] == ["kept"]
        assert not db.conn.in_transaction
    finally:
        db.close()


def test_a_nested_transaction_is_a_savepoint_the_outer_one_decides() -> None:
    db = open_store()
    try:
        with transaction(db):
            db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'outer')")
            with pytest.raises(RuntimeError), transaction(db):
                db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'inner')")
                raise RuntimeError("inner fails alone")
            with transaction(db):
                db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'inner2')")
        messages = sorted(r[0] for r in db.execute("SELECT message FROM events"))
        assert messages == ["inner2", "outer"]
    finally:
        db.close()


def test_transaction_takes_the_write_lock_at_begin_and_a_second_writer_waits() -> None:
    """BEGIN IMMEDIATE: while one transaction is open, another connection cannot start one; it
    waits the busy timeout (cut short here) instead of failing halfway through its work."""
    first, second = open_store(), open_store()
    try:
        second.execute("PRAGMA busy_timeout = 50")
        with transaction(first):
            first.execute("SELECT 1")  # a read only: a DEFERRED begin would hold no lock yet
            with pytest.raises(sqlite3.OperationalError, match="locked"), transaction(second):
                pass
        with transaction(second):
            second.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'later')")
        assert first.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    finally:
        first.close()
        second.close()


def test_a_lone_write_commits_without_leaving_a_transaction_open() -> None:
    db = open_store()
    try:
        db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', 'alone')")
        assert not db.conn.in_transaction
    finally:
        db.close()


def test_cycles_stored_as_cancelled_by_ctrl_c_become_interrupted() -> None:
    db = configure(Database(memory=True))
    apply_migrations(db, stop_before="0046_cycles_interrupted")
    rows = [("cancelled", "interrupted"), ("cancelled", None), ("succeeded", None)]
    for result, error in rows:
        db.execute(
            "INSERT INTO sync_cycles (company, started_at, result, error) VALUES ('acme', 't', ?, ?)",
            [result, error],
        )
    apply_migrations(db)
    got = db.execute("SELECT result, error FROM sync_cycles ORDER BY id").fetchall()
    assert got == [("interrupted", "interrupted"), ("cancelled", None), ("succeeded", None)]
    index = db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'sync_cycles'").fetchall()
    assert ("sync_cycles_company",) in index


def _overwrite(path: Path, page: int) -> None:
    """Fill page `page` (1: the header's) of the settled store file with junk."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()
    with path.open("r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(b"\xff" * size)


def test_a_damaged_store_raises_store_damaged_naming_the_file() -> None:
    path = paths.database_file()
    db = open_store()
    for n in range(50):
        db.execute("INSERT INTO events (at, kind, message) VALUES ('t', 'k', ?)", [f"m{n}" * 50])
    [root] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
    db.close()

    _overwrite(path, root)
    db = open_store()  # the header is fine: the damage shows when the table is read
    try:
        with pytest.raises(StoreDamaged, match="malformed") as caught:
            list(db.query("SELECT * FROM events"))
        assert str(path) in caught.value.message
        assert "restore this file from a backup" in (caught.value.hint or "")
        assert caught.value.exit_code == 1 and caught.value.code == "failed"
        with pytest.raises(StoreDamaged):
            db.execute("SELECT message FROM events").fetchall()
        with pytest.raises(StoreDamaged):
            for _ in db.execute("SELECT message FROM events"):
                pass
        # Other errors stay what they are.
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            db.execute("SELECT * FROM no_such_table")
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO sync_cycles (company) VALUES (NULL)")
    finally:
        db.close()

    _overwrite(path, 1)
    with pytest.raises(StoreDamaged, match="file is not a database"):
        open_store()
