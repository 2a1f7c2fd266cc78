"""An import is read, planned and written in chunks inside one transaction: memory stays flat
as the files grow, records in later chunks see those in earlier ones, and a problem in the last
chunk still leaves nothing written."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import pytest

from qbsync.errors import InputError
from qbsync.ledger import importer
from qbsync.ledger.importer import import_files
from qbsync.store.database import Database
from tests.ledger.util import fingerprint

LISTS = {
    "clients": (["id", "name", "currency"], [["CL-1", "Client one", "USD"]]),
    "services": (["id", "name"], [["S-1", "Support"]]),
    "tax_regions": (["id", "name", "rate"], [["TR-1", "Harbor County", "8.25"]]),
}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def _append(path: Path, row: list[str]) -> None:
    with path.open("a", newline="") as f:
        csv.writer(f).writerow(row)


def _folder(tmp_path: Path, n: int, *, reverse_lines: bool = False) -> Path:
    """n finalized invoices of one or two taxed lines, as CSV files."""
    folder = tmp_path / f"import-{n}"
    folder.mkdir()
    for name, (header, rows) in LISTS.items():
        _write(folder / f"{name}.csv", header, rows)
    invoices = [[f"INV-{i}", f"N{i}", "CL-1", "2026-11-02", "finalized"] for i in range(n)]
    _write(folder / "invoices.csv", ["id", "number", "client", "date", "status"], invoices)
    lines = [
        [f"INV-{i}", "S-1", str(1 + k), "12.50", "TR-1"] for i in range(n) for k in range(1 + i % 2)
    ]
    if reverse_lines:  # the lines file in another order than the invoices file
        lines.reverse()
    header = ["invoice", "service", "quantity", "unit_price", "tax_region"]
    _write(folder / "invoice_lines.csv", header, lines)
    return folder


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK", 50)


def _count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_lines_in_any_order_reach_their_invoices_across_chunks(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 230, reverse_lines=True)
    out = import_files(ledger_db, "acme", [folder])
    assert out["counts"]["invoices"]["added"] == 230
    assert out["ops"] == {"export_invoice": 230}
    assert _count(ledger_db, "ledger_invoice_lines") == 345  # 115 invoices of 2 lines
    # INV-1 has two lines, written in the invoice's own order (file order of the lines).
    rows = ledger_db.execute(
        "SELECT line_no, quantity FROM ledger_invoice_lines WHERE invoice_id = 'INV-1' "
        "ORDER BY line_no"
    ).fetchall()
    assert [q for _, q in rows] == ["2", "1"]  # reversed file: quantity 2 came first
    total = ledger_db.execute("SELECT total FROM ledger_invoices WHERE id = 'INV-1'").fetchone()
    assert total[0] == "40.59"  # 3 x 12.50 = 37.50 + 8.25 % tax 3.09


def test_a_payment_names_an_invoice_from_an_earlier_chunk(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 120)
    _write(
        folder / "payments.csv",
        ["id", "invoice", "amount", "date"],
        [["PAY-1", "INV-3", "10.00", "2026-11-05"], ["PAY-2", "INV-119", "5.00", "2026-11-05"]],
    )
    out = import_files(ledger_db, "acme", [folder])
    assert out["counts"]["payments"]["added"] == 2
    assert _count(ledger_db, "ledger_payments") == 2


def test_a_problem_in_the_last_chunk_leaves_nothing_written(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 230)
    _append(folder / "invoices.csv", ["INV-X", "NX", "CL-NOBODY", "2026-11-02", "finalized"])
    _append(folder / "invoice_lines.csv", ["INV-X", "S-1", "1", "1.00", "TR-1"])
    before = fingerprint(ledger_db)
    with pytest.raises(InputError) as raised:
        import_files(ledger_db, "acme", [folder])
    assert "invoices.csv:232 (row 231): client: unknown client 'CL-NOBODY'" in str(raised.value)
    assert fingerprint(ledger_db) == before
    assert _count(ledger_db, "outbox") == 0


def test_a_duplicate_id_in_a_later_chunk_names_the_first(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 120)
    _append(folder / "invoices.csv", ["INV-7", "N7", "CL-1", "2026-11-02", "finalized"])
    with pytest.raises(InputError) as raised:
        import_files(ledger_db, "acme", [folder])
    assert "row 121): id: duplicate id 'INV-7' (also at" in str(raised.value)
    assert "(row 8): id)" in str(raised.value)


def test_a_line_of_no_invoice_is_an_error_and_nothing_is_written(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 120)
    _append(folder / "invoice_lines.csv", ["INV-GONE", "S-1", "1", "1.00", "TR-1"])
    before = fingerprint(ledger_db)
    with pytest.raises(InputError, match=r"invoice 'INV-GONE' is not in an invoices\.csv"):
        import_files(ledger_db, "acme", [folder])
    assert fingerprint(ledger_db) == before


def _peak(ledger_db: Database, folder: Path) -> int:
    tracemalloc.start()
    try:
        import_files(ledger_db, "acme", [folder], dry_run=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_by_a_few_hundred_bytes_an_invoice(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    # What stays of an invoice for later chunks is its id, type, status and client, and where
    # it was read (for a duplicate's message): under 1 KB. Holding the whole import, as reading
    # it all before planning did, cost over 10 KB an invoice.
    small = _peak(ledger_db, _folder(tmp_path, 500))
    large = _peak(ledger_db, _folder(tmp_path, 2_000))
    assert (large - small) / 1_500 < 1_024, (small, large)


def test_many_problems_name_the_first_ten_and_count_the_rest(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 120)
    rows = _read(folder / "invoices.csv")
    for row in rows[1:26]:  # 25 invoices, across chunks, name a client nobody has
        row[2] = "CL-NOBODY"
    _write(folder / "invoices.csv", rows[0], rows[1:])
    with pytest.raises(InputError) as raised:
        import_files(ledger_db, "acme", [folder])
    message = str(raised.value)
    assert message.count("unknown client 'CL-NOBODY'") == 10
    assert message.endswith("(and 15 more)")


def _set_status(folder: Path, status: str) -> None:
    rows = _read(folder / "invoices.csv")
    for row in rows[1:]:
        row[4] = status
    _write(folder / "invoices.csv", rows[0], rows[1:])


def _lines(db: Database) -> list[tuple[str, int, str]]:
    return db.execute(
        "SELECT invoice_id, line_no, quantity FROM ledger_invoice_lines ORDER BY 1, 2"
    ).fetchall()


def test_an_edited_draft_replaces_its_lines_and_a_void_keeps_them(
    ledger_db: Database, tmp_path: Path, small_chunks: None
) -> None:
    folder = _folder(tmp_path, 120)
    _set_status(folder, "draft")
    import_files(ledger_db, "acme", [folder])
    rows = _read(folder / "invoice_lines.csv")
    for row in rows[1:]:
        row[2] = "7"  # every quantity changes
    _write(folder / "invoice_lines.csv", rows[0], rows[1:])
    out = import_files(ledger_db, "acme", [folder])
    assert out["counts"]["invoices"]["updated"] == 120
    edited = _lines(ledger_db)
    assert len(edited) == 180 and {q for _, _, q in edited} == {"7"}
    _set_status(folder, "finalized")
    import_files(ledger_db, "acme", [folder])
    _set_status(folder, "void")
    out = import_files(ledger_db, "acme", [folder])
    assert out["counts"]["invoices"]["updated"] == 120
    assert out["ops"] == {"void_invoice": 120}
    assert _lines(ledger_db) == edited  # a void document keeps what it said


MONEY = """\
version: 1
clients:
  - {id: CL-US, name: Hudson Dental, currency: USD}
  - {id: CL-DE, name: Spree Praxis, currency: EUR}
services:
  - {id: S-1, name: Managed services}
tax_regions:
  - id: TR-NYC
    name: New York City
    components: [{name: NY State, rate: 4.5}, {name: NYC, rate: 4.375}]
  - {id: TR-DE, name: Germany VAT, rate: 19}
invoices:
  - id: INV-NYC
    number: "5001"
    client: CL-US
    date: 2026-11-02
    status: finalized
    lines:
      - {service: S-1, quantity: 10, unit_price: 45.00, tax_region: TR-NYC}
      - {service: S-1, quantity: 1, unit_price: 50.00, tax_region: TR-NYC}
      - {kind: discount, description: Loyalty, percent: 10}
      - {kind: discount, description: Voucher, amount: 15.00, taxable: false}
  - id: CN-NYC
    number: CN-5001
    type: credit_note
    client: CL-US
    date: 2026-11-05
    status: finalized
    lines:
      - {service: S-1, quantity: 1, unit_price: 100.00, tax_region: TR-NYC}
  - id: INV-DE
    number: "5004"
    client: CL-DE
    date: 2026-11-02
    status: finalized
    exchange_rate: 1.0825
    lines:
      - {service: S-1, quantity: 1, unit_price: 1000.00, tax_region: TR-DE}
payments:
  - {id: PAY-DE, invoice: INV-DE, amount: 500.00, date: 2026-11-10}
credit_applications:
  - {id: CA-1, credit_note: CN-NYC, invoice: INV-NYC, amount: 108.88, date: 2026-11-06}
"""


def test_tax_discounts_a_credit_and_a_second_currency_come_out_the_same_one_record_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qbsync.store import open_store
    from tests.fixtures.ledger import ensure_company
    from tests.ledger.util import dump

    path = tmp_path / "ledger.yaml"
    path.write_text(MONEY)
    results = []
    for chunk in (2_000, 1):
        monkeypatch.setenv("QBSYNC_HOME", str(tmp_path / f"home-{chunk}"))
        monkeypatch.setattr(importer, "CHUNK", chunk)
        ensure_company("acme")
        db = open_store()
        out = import_files(db, "acme", [path])
        assert out["ops"] == {
            "export_invoice": 2,
            "export_credit_memo": 1,
            "push_payment": 1,
            "apply_credit": 1,
        }
        results.append(dump(db, stable=True))
        totals = db.execute(
            "SELECT id, currency, discount, tax, total FROM ledger_invoices ORDER BY id"
        ).fetchall()
        db.close()
    assert results[0] == results[1]
    # Worked by hand: 500.00 of items, 10 % (50.00) before tax and 15.00 after; tax on 450.00
    # at 4.5 % + 4.375 % = 20.25 + 19.69; the credit note 100.00 + 8.88; the EUR invoice 19 %.
    assert totals == [
        ("CN-NYC", "USD", "0.00", "8.88", "108.88"),
        ("INV-DE", "EUR", "0.00", "190.00", "1190.00"),
        ("INV-NYC", "USD", "65.00", "39.94", "474.94"),
    ]
