"""CSV invoices take their lines from invoice_lines.csv read alongside when it lists them in the
invoices' order, and from an index of it otherwise (csvfiles.StreamedLines and LineIndex): the
same store either way, whatever the order, the chunking or the mistakes in the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbsync.errors import InputError
from qbsync.ledger import csvfiles, importer
from qbsync.ledger.importer import import_files
from qbsync.store import open_store
from qbsync.store.database import Database
from tests.fixtures.ledger import ensure_company
from tests.ledger.util import dump, fingerprint
from tests.perf.test_import_stream import _folder, _read, _write


@pytest.fixture
def indexes(monkeypatch: pytest.MonkeyPatch) -> list[csvfiles.LineIndex]:
    """Chunks of 50; the line indexes built are listed."""
    built: list[csvfiles.LineIndex] = []
    original = csvfiles.LineIndex.__init__

    def build(self: csvfiles.LineIndex) -> None:
        original(self)
        built.append(self)

    monkeypatch.setattr(importer, "CHUNK", 50)
    monkeypatch.setattr(csvfiles.LineIndex, "__init__", build)
    return built


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Database:
    monkeypatch.setenv("QBSYNC_HOME", str(tmp_path / name))
    ensure_company("acme")
    return open_store()


def _lines(db: Database, invoice: str) -> list[tuple[int, str]]:
    return db.execute(
        "SELECT line_no, quantity FROM ledger_invoice_lines WHERE invoice_id = ? ORDER BY 1",
        [invoice],
    ).fetchall()


def test_lines_in_the_invoices_order_need_no_index_and_give_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indexes: list[csvfiles.LineIndex]
) -> None:
    folder = _folder(tmp_path, 230)
    streamed = _store(tmp_path, monkeypatch, "streamed")
    out = import_files(streamed, "acme", [folder])
    assert indexes == []
    monkeypatch.setattr(importer, "StreamedLines", csvfiles.LineIndex)  # the index, always
    indexed = _store(tmp_path, monkeypatch, "indexed")
    assert import_files(indexed, "acme", [folder]) == out
    assert len(indexes) == 1
    assert dump(streamed, stable=True) == dump(indexed, stable=True)
    assert out["counts"]["invoices"]["added"] == 230
    assert _lines(streamed, "INV-1") == [(1, "1"), (2, "2")]


def test_a_line_met_after_its_invoice_was_planned_reads_it_all_again_with_the_index(
    ledger_db: Database, tmp_path: Path, indexes: list[csvfiles.LineIndex]
) -> None:
    folder = _folder(tmp_path, 230)
    rows = _read(folder / "invoice_lines.csv")
    first_of_inv_1 = rows.pop(2)  # INV-1's first line, moved to the end of the file
    assert first_of_inv_1[:3] == ["INV-1", "S-1", "1"]
    _write(folder / "invoice_lines.csv", rows[0], [*rows[1:], first_of_inv_1])
    out = import_files(ledger_db, "acme", [folder])
    assert len(indexes) == 1
    assert out["counts"]["invoices"]["added"] == 230  # counted once, not twice
    assert ledger_db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 230
    assert _lines(ledger_db, "INV-1") == [(1, "2"), (2, "1")]  # the file's order


def test_lines_in_another_order_are_indexed_from_the_first_chunk_on(
    ledger_db: Database,
    tmp_path: Path,
    indexes: list[csvfiles.LineIndex],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attached: list[int] = []
    attach = csvfiles.StreamedLines.attach
    monkeypatch.setattr(
        csvfiles.StreamedLines,
        "attach",
        lambda self, chunk: (attached.append(len(chunk)), attach(self, chunk))[1],
    )
    out = import_files(ledger_db, "acme", [_folder(tmp_path, 230, reverse_lines=True)])
    # The first chunk's invoices found no line (the file starts with the last invoice's): the
    # import started again with the index there, not after planning all five chunks.
    assert attached == [50] and len(indexes) == 1
    assert out["counts"]["invoices"]["added"] == 230


def test_an_invoice_without_lines_is_named_as_before(
    ledger_db: Database, tmp_path: Path, indexes: list[csvfiles.LineIndex]
) -> None:
    folder = _folder(tmp_path, 120)
    rows = _read(folder / "invoice_lines.csv")
    _write(folder / "invoice_lines.csv", rows[0], [r for r in rows[1:] if r[0] != "INV-60"])
    with pytest.raises(InputError) as raised:
        import_files(ledger_db, "acme", [folder])
    assert str(raised.value).startswith(
        f"{folder / 'invoices.csv'}:62 (row 61): lines: field required"
    )
    assert len(indexes) == 1


def test_lines_of_one_chunk_in_any_order_among_themselves_need_no_index(
    ledger_db: Database, tmp_path: Path, indexes: list[csvfiles.LineIndex]
) -> None:
    folder = _folder(tmp_path, 100)
    rows = _read(folder / "invoice_lines.csv")
    first_chunk = [r for r in rows[1:] if int(r[0].split("-")[1]) < 50]
    rest = [r for r in rows[1:] if int(r[0].split("-")[1]) >= 50]
    _write(folder / "invoice_lines.csv", rows[0], [*reversed(first_chunk), *rest])
    import_files(ledger_db, "acme", [folder])
    assert indexes == []
    assert _lines(ledger_db, "INV-1") == [(1, "2"), (2, "1")]


def test_a_line_of_no_invoice_amid_the_file_is_named_and_nothing_is_written(
    ledger_db: Database, tmp_path: Path, indexes: list[csvfiles.LineIndex]
) -> None:
    folder = _folder(tmp_path, 120)
    rows = _read(folder / "invoice_lines.csv")
    rows.insert(11, ["INV-GONE", "S-1", "1", "1.00", "TR-1"])  # file line 12
    _write(folder / "invoice_lines.csv", rows[0], rows[1:])
    before = fingerprint(ledger_db)
    with pytest.raises(InputError) as raised:
        import_files(ledger_db, "acme", [folder])
    assert str(raised.value).startswith(
        f"{folder / 'invoice_lines.csv'}:12 (row 11): invoice: invoice 'INV-GONE' is not in an "
        "invoices.csv of this import"
    )
    assert fingerprint(ledger_db) == before


@pytest.mark.parametrize("again_at", [30, 80], ids=["same chunk", "later chunk"])
def test_an_invoice_listed_twice_is_named_a_duplicate_with_both_rows(
    ledger_db: Database, tmp_path: Path, indexes: list[csvfiles.LineIndex], again_at: int
) -> None:
    folder = _folder(tmp_path, 120)
    rows = _read(folder / "invoices.csv")
    rows.insert(again_at, list(rows[8]))  # INV-7 again, at data row `again_at`
    _write(folder / "invoices.csv", rows[0], rows[1:])
    with pytest.raises(InputError) as raised:
        import_files(ledger_db, "acme", [folder])
    assert str(raised.value).startswith(
        f"{folder / 'invoices.csv'}:{again_at + 1} (row {again_at}): id: duplicate id 'INV-7' "
        f"(also at {folder / 'invoices.csv'}:9 (row 8): id)"
    )
