"""A large import is written by a helper process (ledger/writer.py) while the importer plans:
the store it leaves is the one the importer alone would leave, a problem, an error or a dead
helper leave nothing written, and nothing else writes while the helper holds the lock."""

from __future__ import annotations

import marshal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qbsync.errors import InputError
from qbsync.ledger import importer, writer
from qbsync.ledger.changes import Plan
from qbsync.ledger.importer import import_files
from qbsync.ledger.writer import HelperWriter, WriterFailed, store_file
from qbsync.outbox import OpKind, SubjectType
from qbsync.store import open_store
from qbsync.store.database import Database
from tests.fixtures.ledger import ensure_company
from tests.ledger.util import dump, fingerprint
from tests.perf.test_import_stream import MONEY, _append, _folder, _read, _write

pytestmark = pytest.mark.slow  # each starts a helper process


def _always_helped(monkeypatch: pytest.MonkeyPatch) -> list[HelperWriter]:
    """Every import goes through a helper from now on, whatever its size; the list returned
    fills with the helpers started."""
    started: list[HelperWriter] = []
    original = HelperWriter.__init__

    def start(self: HelperWriter, path: Path) -> None:
        original(self, path)
        started.append(self)

    monkeypatch.setattr(importer, "HELPER_FROM_BYTES", 0)
    monkeypatch.setattr(HelperWriter, "__init__", start)
    return started


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[HelperWriter]:
    monkeypatch.setattr(importer, "CHUNK", 50)
    return _always_helped(monkeypatch)


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Database:
    monkeypatch.setenv("QBSYNC_HOME", str(tmp_path / name))
    ensure_company("acme")
    return open_store()


def test_the_helper_leaves_the_store_the_importer_alone_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    money = tmp_path / "ledger.yaml"
    money.write_text(MONEY)  # tax per rate, discounts, a credit note, a payment, a second currency
    folder = _folder(tmp_path, 230)
    here = _store(tmp_path, monkeypatch, "here")
    monkeypatch.setattr(importer, "CHUNK", 50)
    first = [import_files(here, "acme", [money]), import_files(here, "acme", [folder])]

    started = _always_helped(monkeypatch)
    helped = _store(tmp_path, monkeypatch, "helped")
    second = [import_files(helped, "acme", [money]), import_files(helped, "acme", [folder])]

    assert len(started) == 2 and all(h.proc.returncode == 0 for h in started)
    assert second == first
    assert dump(helped, stable=True) == dump(here, stable=True)
    assert helped.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 235


def test_lines_out_of_order_start_the_import_again_with_a_helper_of_its_own(
    ledger_db: Database,
    tmp_path: Path,
    helpers: list[HelperWriter],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = _folder(tmp_path, 230)
    rows = _read(folder / "invoice_lines.csv")
    _write(folder / "invoice_lines.csv", rows[0], [*rows[1:2], *rows[3:], rows[2]])
    written: list[HelperWriter] = []
    write = HelperWriter.write
    monkeypatch.setattr(
        HelperWriter, "write", lambda self, plan: (written.append(self), write(self, plan))[1]
    )
    out = import_files(ledger_db, "acme", [folder])
    # INV-1's line at the end of the file was met while the last chunk took its lines: the
    # first helper had the lists and four chunks, and, told nothing more, rolled them back.
    assert len(helpers) == 2
    assert [written.count(h) for h in helpers] == [5, 6]  # the lists and 4 (then 5) chunks
    assert all(h.proc.returncode == 0 for h in helpers)
    assert out["counts"]["invoices"]["added"] == 230
    assert ledger_db.execute("SELECT COUNT(*) FROM ledger_invoices").fetchone()[0] == 230
    assert ledger_db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 230


def test_a_problem_leaves_nothing_written_and_no_helper_running(
    ledger_db: Database, tmp_path: Path, helpers: list[HelperWriter]
) -> None:
    folder = _folder(tmp_path, 230)
    _append(folder / "invoices.csv", ["INV-X", "NX", "CL-NOBODY", "2026-11-02", "finalized"])
    _append(folder / "invoice_lines.csv", ["INV-X", "S-1", "1", "1.00", "TR-1"])
    before = fingerprint(ledger_db)
    with pytest.raises(InputError, match="unknown client 'CL-NOBODY'"):
        import_files(ledger_db, "acme", [folder])
    assert fingerprint(ledger_db) == before
    assert len(helpers) == 1 and helpers[0].proc.returncode == 0  # rolled back, ended


def test_a_helper_that_dies_is_an_error_and_nothing_is_written(
    ledger_db: Database,
    tmp_path: Path,
    helpers: list[HelperWriter],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write = HelperWriter.write

    def write_then_die(self: HelperWriter, plan: Plan) -> None:
        write(self, plan)
        if plan.kinds["invoices"].added:  # killed once it has written invoices
            self.proc.kill()
            self.proc.wait()

    monkeypatch.setattr(HelperWriter, "write", write_then_die)
    before = fingerprint(ledger_db)
    with pytest.raises(WriterFailed, match=r"writer stopped \(exit code -9\); nothing was written"):
        import_files(ledger_db, "acme", [_folder(tmp_path, 120)])
    assert fingerprint(ledger_db) == before


def test_an_error_inside_the_helper_is_named_and_nothing_is_written(
    ledger_db: Database,
) -> None:
    plan = Plan("acme")
    plan.kinds["clients"].added.append({"id": "CL-1", "name": "One", "currency": "USD"})
    row: dict[str, Any] = {"id": "INV-1", "client_id": "CL-NOBODY"}  # no such client
    plan.kinds["invoices"].added.append(row)
    path = store_file(ledger_db)
    assert path is not None
    before = fingerprint(ledger_db)
    with HelperWriter(path) as helper, pytest.raises(WriterFailed) as raised:
        helper.write(plan)
        helper.finish()
    assert "could not be written: KeyError" in str(raised.value)
    assert str(raised.value).endswith("nothing was written")
    assert fingerprint(ledger_db) == before


def test_nothing_else_writes_while_the_helper_holds_the_lock(ledger_db: Database) -> None:
    path = store_file(ledger_db)
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with HelperWriter(path), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released once the helper ends
        other.rollback()
    finally:
        other.close()


def test_small_imports_dry_runs_and_stores_in_memory_are_written_here(
    ledger_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Path] = []
    monkeypatch.setattr(writer.HelperWriter, "__init__", lambda self, path: started.append(path))
    folder = _folder(tmp_path, 20)
    assert importer._size(importer._files([folder])) < importer.HELPER_FROM_BYTES
    import_files(ledger_db, "acme", [folder], dry_run=True)
    import_files(ledger_db, "acme", [folder])
    monkeypatch.setattr(importer, "HELPER_FROM_BYTES", 0)
    import_files(ledger_db, "acme", [folder], dry_run=True)
    memory = open_store(memory=True)
    ensure_company("acme")
    import_files(memory, "acme", [folder])
    assert started == []
    assert memory.execute("SELECT COUNT(*) FROM ledger_invoices").fetchone()[0] == 20


def test_the_helper_receives_plans_without_loading_the_import_models() -> None:
    # The helper runs beside the importer: pydantic and the models would add 17 MB to the
    # import's peak memory and 0.1 s before the helper takes the lock.
    plan = Plan("acme")
    plan.kinds["invoices"].added.append({"id": "INV-1"})
    plan.ops.append((OpKind.EXPORT_INVOICE, SubjectType.INVOICE, "INV-1"))
    code = (
        "import marshal, sys\n"
        "import qbsync.ledger.writer, qbsync.ledger.store, qbsync.store.db\n"
        "plan = qbsync.ledger.writer.Plan.from_wire(marshal.load(sys.stdin.buffer))\n"
        "print(type(plan).__name__, plan.ops[0][0].value,"
        " sorted(m for m in ('pydantic', 'qbsync.ledger.models') if m in sys.modules))"
    )
    wire = marshal.dumps(plan.to_wire())
    proc = subprocess.run([sys.executable, "-c", code], input=wire, capture_output=True, check=True)
    assert proc.stdout.decode().split() == ["Plan", "export_invoice", "[]"]


def test_a_plan_crosses_the_pipe_whole() -> None:
    # Every part of a plan, as the helper rebuilds it from what marshal carried.
    plan = Plan("acme")
    plan.kinds["clients"].updated.append({"id": "CL-1", "name": "Acme", "due_days": 30})
    plan.kinds["invoices"].added.append({"id": "INV-1", "total": "104.38", "memo": None})
    plan.kinds["invoices"].unchanged = 3
    plan.kinds["invoices"].kept_void = 1
    plan.kinds["payments"].reversed = 2
    plan.lines["INV-1"] = [("acme", "INV-1", 1, "S-1", None, "2", "50.00", "100.00")]
    plan.discounts["INV-1"] = [("acme", "INV-1", 2, "Loyalty", "5.00", None, 1, "5.00")]
    plan.taxes["INV-1"] = [("acme", "INV-1", "TR-1", "State", "4.5", "95.00", "4.28")]
    plan.ops += [
        (OpKind.EXPORT_INVOICE, SubjectType.INVOICE, "INV-1"),
        (OpKind.PUSH_PAYMENT, SubjectType.PAYMENT, "PAY-1"),
    ]
    assert Plan.from_wire(marshal.loads(marshal.dumps(plan.to_wire()))) == plan


def test_a_helper_that_cannot_start_says_why(
    ledger_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "MODULE", "qbsync.ledger.no_such_helper")
    path = store_file(ledger_db)
    assert path is not None
    with pytest.raises(WriterFailed) as raised:
        HelperWriter(path)
    message = str(raised.value)  # Python names itself first: "/path/to/python: No module ..."
    assert message.startswith("the import's writer stopped (exit code 1: "), message
    assert message.endswith(
        ": No module named qbsync.ledger.no_such_helper); nothing was written"
    ), message
