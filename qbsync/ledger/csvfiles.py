"""CSV ledger files, read row by row: a file of 100,000 invoices is never held whole.

Each chunk of invoices takes its lines from invoice_lines.csv in one of two ways:
- StreamedLines reads the lines file alongside, for a file that lists lines in the invoices'
  order (what billing systems export). Nothing is held but the next line. A line that comes
  after its invoice has been planned raises LinesOutOfOrder, and the import starts again with:
- LineIndex, which indexes the lines file first, in a private temporary SQLite database (on
  disk, gone when closed), and serves any order.
Either way a line whose invoice no invoices.csv of the import holds is an error.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from qbsync.errors import InputError
from qbsync.ledger.addresses import ADDRESS_FIELDS as ADDRESS_PARTS
from qbsync.ledger.models import KINDS
from qbsync.ledger.readers import NO_RECORDS_HINT, RawRecord
from qbsync.yamlfile import not_utf8

CSV_KINDS = (*KINDS, "invoice_lines")
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "clients": (
        "id",
        "name",
        "email",
        "currency",
        "cc_email",
        "phone",
        "terms",
        "tax_region",
        "tax_exempt",
        "parent",
        *(f"{kind}_{part}" for kind in ("bill", "ship") for part in ADDRESS_PARTS),
    ),
    "services": ("id", "name"),
    "tax_regions": ("id", "name", "rate"),
    "terms": ("id", "name", "due_days"),
    "invoices": (
        "id",
        "number",
        "client",
        "date",
        "due_date",
        "terms",
        "status",
        "type",
        "currency",
        "memo",
        "amounts",
        "tax_total",
        "exchange_rate",
    ),
    "invoice_lines": (
        "invoice",
        "service",
        "description",
        "quantity",
        "unit_price",
        "tax_region",
        "service_date",
        "tax_amount",
        "kind",
        "amount",
        "percent",
        "taxable",
    ),
    "payments": ("id", "invoice", "amount", "date", "method", "reference", "home_amount"),
    "credit_applications": ("id", "credit_note", "invoice", "amount", "date"),
}


def csv_kind(path: Path) -> str:
    kind = path.stem.lower()
    if kind not in CSV_KINDS:
        names = ", ".join(f"{k}.csv" for k in CSV_KINDS)
        raise InputError(f"{path}: cannot tell what this CSV holds (name it one of: {names})")
    return kind


def csv_rows(path: Path, kind: str) -> Iterator[RawRecord]:
    """The file's records, one at a time (blank rows skipped), each knowing its row and line."""
    source = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from _rows(handle, source, kind)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise not_utf8(path) from None


def _rows(handle: Iterator[str], source: str, kind: str) -> Iterator[RawRecord]:
    reader = csv.reader(handle, strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise InputError(f"{source}:1: empty file (expected a header row)", NO_RECORDS_HINT)
        columns = [c.strip() for c in header]
        allowed = CSV_COLUMNS[kind]
        unknown = [c for c in columns if c not in allowed]
        if unknown:
            raise InputError(
                f"{source}:1: unknown column {unknown[0]!r} (columns: {', '.join(allowed)})"
            )
        if len(set(columns)) != len(columns):
            raise InputError(f"{source}:1: a column is named twice")
        width, row_no = len(columns), 0
        start = reader.line_num + 1
        for cells in reader:
            if not cells:  # an empty line: not a row
                start = reader.line_num + 1
                continue
            row_no += 1
            if len(cells) > width:
                raise InputError(f"{source}:{start} (row {row_no}): more cells than columns")
            # Empty and blank cells are absent fields (so are cells a short row leaves out); a
            # row of nothing but those is skipped.
            pairs = zip(columns, cells, strict=False)
            data = {k: v for k, v in pairs if v and not v.isspace()}
            if data:
                yield RawRecord(kind, data, source, row=row_no, line=start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{source}:{reader.line_num}: not valid CSV: {exc}") from None


class LinesOutOfOrder(Exception):
    """A line came after its invoice was planned: the import is read again with a LineIndex."""


def _line_owner(record: RawRecord) -> str:
    invoice_id = str(record.data.get("invoice", "")).strip()
    if not invoice_id:
        raise InputError(f"{record.where(('invoice',))}: Field required")
    return invoice_id


class _Owners:
    """A chunk's invoices that take lines from CSV (those read from CSV), by id. An id listed
    twice gives both its lines: the second is then named as a duplicate, not as lineless."""

    def __init__(self, invoices: list[RawRecord]) -> None:
        self.by_id: dict[str, list[RawRecord]] = {}
        for record in invoices:
            if record.row is not None:
                self.by_id.setdefault(str(record.data.get("id", "")).strip(), []).append(record)
        self.lines: dict[str, tuple[list[RawRecord], list[dict[str, Any]]]] = {}

    def give(self, invoice_id: str, line: RawRecord, fields: dict[str, Any]) -> None:
        """The line (where it came from, for messages) and its fields, in file order."""
        if invoice_id not in self.lines:
            places: list[RawRecord] = []
            values: list[dict[str, Any]] = []
            self.lines[invoice_id] = (places, values)
            for owner in self.by_id[invoice_id]:
                owner.children = {"lines": places}
                owner.data["lines"] = values
        places, values = self.lines[invoice_id]
        places.append(line)
        values.append(fields)


def _orphan(invoice_id: str, where: RawRecord) -> InputError:
    return InputError(
        f"{where.where(('invoice',))}: invoice {invoice_id!r} is not in an invoices.csv of this "
        "import (lines in CSV belong to invoices in CSV)"
    )


class StreamedLines:
    """invoice_lines.csv read alongside the invoices, when it lists them in the same order."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.seen: set[str] = set()  # invoices of the chunks already given their lines
        self._next: tuple[str, RawRecord] | None = None
        self._rows: Generator[tuple[str, RawRecord], None, None] | None = None

    def add(self, path: Path) -> None:
        self.files.append(path)

    def _read(self) -> Generator[tuple[str, RawRecord], None, None]:
        for path in self.files:
            for record in csv_rows(path, "invoice_lines"):
                yield _line_owner(record), record

    def _peek(self) -> tuple[str, RawRecord] | None:
        if self._rows is None:
            self._rows = self._read()
            self._next = next(self._rows, None)
        return self._next

    def attach(self, invoices: list[RawRecord]) -> None:
        """Give these invoices the lines that come next, up to one of an invoice still to come
        (or of none: raise_if_orphans says so once every invoice is read). An invoice left
        without a line means lines in another order (or none for it, which the index reports
        as well): LinesOutOfOrder, at once rather than after planning every chunk."""
        owners = _Owners(invoices)
        if not self.seen.isdisjoint(owners.by_id):  # an id again: its lines are behind us
            raise LinesOutOfOrder(next(i for i in owners.by_id if i in self.seen))
        while (upcoming := self._peek()) is not None:
            invoice_id, record = upcoming
            if invoice_id not in owners.by_id:
                if invoice_id in self.seen:
                    raise LinesOutOfOrder(invoice_id)
                break
            fields = record.data
            del fields["invoice"]
            record.data = None  # where it came from stays, for messages; its fields move
            owners.give(invoice_id, record, fields)
            assert self._rows is not None
            self._next = next(self._rows, None)
        lineless = next((i for i in owners.by_id if i not in owners.lines), None)
        if lineless is not None:
            raise LinesOutOfOrder(lineless)
        self.seen.update(owners.by_id)

    def raise_if_orphans(self) -> None:
        upcoming = self._peek()
        if upcoming is None:
            return
        invoice_id, record = upcoming
        if invoice_id in self.seen:
            raise LinesOutOfOrder(invoice_id)
        raise _orphan(invoice_id, record)

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # the lines file, closed now rather than when collected


_LINE_FIELDS = CSV_COLUMNS["invoice_lines"][1:]  # a line's fields, its invoice apart
_LINE_COLUMNS = ", ".join(f"c_{name}" for name in _LINE_FIELDS)


class LineIndex:
    """invoice_lines.csv rows by invoice id, in a temporary on-disk SQLite database."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # private, on disk once past its cache, deleted on close
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        # A column per CSV column (NULL: the cell was empty): no JSON to write and read back.
        self.db.execute(
            "CREATE TABLE lines (seq INTEGER PRIMARY KEY, invoice TEXT NOT NULL, "
            "source TEXT NOT NULL, row INTEGER NOT NULL, line INTEGER NOT NULL, "
            + ", ".join(f"c_{name} TEXT" for name in _LINE_FIELDS)
            + ")"
        )
        self.indexed = False  # the index is built once every line is in: one sort, not 200,000
        self.count = 0
        self.taken: set[str] = set()  # invoices whose lines went to them

    def add(self, path: Path) -> None:
        batch: list[tuple[str | int | None, ...]] = []
        for record in csv_rows(path, "invoice_lines"):
            invoice_id = _line_owner(record)
            cells = map(record.data.get, _LINE_FIELDS)
            batch.append((invoice_id, record.source, record.row, record.line, *cells))
            if len(batch) >= 5_000:
                self._insert(batch)
        self._insert(batch)

    def _insert(self, batch: list[tuple[str | int | None, ...]]) -> None:
        marks = ", ".join("?" for _ in _LINE_FIELDS)
        self.db.executemany(
            f"INSERT INTO lines (invoice, source, row, line, {_LINE_COLUMNS}) "
            f"VALUES (?, ?, ?, ?, {marks})",
            batch,
        )
        self.count += len(batch)
        batch.clear()

    def attach(self, invoices: list[RawRecord]) -> None:
        """Give these CSV invoices their lines, in file order (the line keeps only where it came
        from, for messages; its fields move to the invoice)."""
        if not self.count:
            return
        if not self.indexed:
            self.db.execute("CREATE INDEX lines_invoice ON lines (invoice, seq)")
            self.indexed = True
        owners = _Owners(invoices)
        ids = list(owners.by_id)
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" for _ in part)
            found = self.db.execute(
                f"SELECT invoice, source, row, line, {_LINE_COLUMNS} FROM lines "
                f"WHERE invoice IN ({marks}) ORDER BY invoice, seq",  # the index's order
                part,
            ).fetchall()
            for invoice_id, source, row, line, *values in found:
                owners.give(
                    invoice_id,
                    RawRecord("invoice_lines", None, source, row=row, line=line),
                    {k: v for k, v in zip(_LINE_FIELDS, values, strict=True) if v is not None},
                )
        self.taken.update(ids)

    def raise_if_orphans(self) -> None:
        """A line left over belongs to no invoice of the import: the first one is an error."""
        if not self.count:
            return
        rows = self.db.execute("SELECT invoice, source, row, line FROM lines ORDER BY seq")
        orphan = next((r for r in rows if r[0] not in self.taken), None)
        if orphan is None:
            return
        invoice_id, source, row, line = orphan
        raise _orphan(invoice_id, RawRecord("invoice_lines", None, source, row=row, line=line))

    def close(self) -> None:
        self.db.close()
