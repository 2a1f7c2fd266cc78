"""`ledger import`: read, validate, plan and write an import in chunks, all in one transaction,
so that memory stays flat however long the files are and a problem anywhere leaves nothing
written (with dry_run, nothing is written and only what would change is reported).

Records come in dependency order: the ledger's lists, then invoices (CSV invoices with their
lines from invoice_lines.csv), payments and credit applications. YAML and JSON documents are read
whole (their parser holds a document anyway); CSV files are read row by row.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qbsync.errors import InputError
from qbsync.ledger.changes import KINDS, Plan, Summary
from qbsync.ledger.csvfiles import (
    LineIndex,
    LinesOutOfOrder,
    StreamedLines,
    csv_kind,
    csv_rows,
)
from qbsync.ledger.planner import LIST_KINDS, Planner
from qbsync.ledger.readers import (
    NO_RECORDS_HINT,
    SUFFIXES,
    RawRecord,
    document_records,
    expand,
    load_json_text,
    load_yaml_text,
    read_text,
)
from qbsync.ledger.store import apply_plan
from qbsync.ledger.writer import IMPORT_CACHE_KB, HelperWriter, store_file
from qbsync.store.database import Database
from qbsync.store.tx import transaction

Lines = LineIndex | StreamedLines
CHUNK = 2_000  # records planned and written at a time
# From this size on, a helper process writes while the import plans (writer.py). Below it an
# import takes under a second, and starting the helper would be most of it.
HELPER_FROM_BYTES = 1_000_000


def import_files(
    db: Database, company: str, paths: Iterable[Path], *, dry_run: bool = False
) -> dict[str, Any]:
    files = _files(paths)
    try:
        summary = _import(db, company, files, dry_run, StreamedLines)
    except LinesOutOfOrder:  # nothing was written: read it all again, lines indexed first
        summary = _import(db, company, files, dry_run, LineIndex)
    return {
        "company": company,
        "files": [str(p) for p in files],
        "dry_run": dry_run,
        "changed": summary.changes > 0,
        **summary.as_dict(),
    }


def _import(
    db: Database, company: str, files: list[Path], dry_run: bool, lines: type[Lines]
) -> Summary:
    summary = Summary()
    # Validated while the write lock is held, so that what was checked (a payment id still
    # free, an invoice still a draft) is what gets written, whatever runs alongside.
    with _writes(db, files, dry_run) as write, _no_cycle_collector():
        planner = Planner(db, company)
        read = 0
        for kind, records in read_chunks(files, lines=lines):
            read += len(records)
            plan = planner.plan(kind, records)
            summary.add(plan)
            if not planner.problems.count and (plan.changes or plan.ops):
                write(plan)
        if not read:
            raise _no_records(files)
        planner.finish()  # raises every problem found: nothing is committed
    return summary


def _no_records(files: list[Path]) -> InputError:
    """An import of files that hold no record at all: an export cut short (or not written yet),
    not a ledger already up to date. One file of several with none (payments.csv with only its
    header: no payments this time) is normal."""
    if len(files) == 1:
        what = f"{files[0]}: holds no records"
    else:
        names = ", ".join(str(p) for p in files[:3]) + (", ..." if len(files) > 3 else "")
        what = f"none of the {len(files)} files holds a record ({names})"
    return InputError(what, NO_RECORDS_HINT)


@contextmanager
def _writes(db: Database, files: list[Path], dry_run: bool) -> Iterator[Callable[[Plan], None]]:
    """Where the plans go: nowhere (a dry run), a helper process (a large import into a store
    on disk), or this connection, each in one transaction committed when the block ends well."""
    if dry_run:
        yield lambda plan: None
        return
    path = store_file(db)
    if path is not None and not db.conn.in_transaction and _size(files) >= HELPER_FROM_BYTES:
        with HelperWriter(path) as helper:
            yield helper.write
            helper.finish()
        return
    with transaction(db), _larger_cache(db):
        yield lambda plan: apply_plan(db, plan)


def _size(files: list[Path]) -> int:
    return sum(path.stat().st_size for path in files)


@contextmanager
def _larger_cache(db: Database) -> Iterator[None]:
    """A larger page cache while the import writes: at 100,000 invoices the tables' indexes
    outgrow SQLite's default 2 MB, and every insert went back to the file for its pages."""
    (before,) = db.execute("PRAGMA cache_size").fetchone()
    db.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KB}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {before}")


@contextmanager
def _no_cycle_collector() -> Iterator[None]:
    """The cycle collector off while an import runs. An import makes millions of short-lived
    containers and keeps the ids it has seen: the collector kept walking them all, a quarter of
    the time of a 100,000-invoice import. Nothing an import makes depends on it (records free
    themselves when their chunk is done); it is back on, as it was, when the import ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _files(paths: Iterable[Path]) -> list[Path]:
    """The files to read, each once, every one of a known format and (CSV) a known kind."""
    files: list[Path] = []
    seen: set[Path] = set()
    for path in expand(paths):
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        fmt = SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise InputError(f"{path}: unknown format (use .yaml, .yml, .json or .csv)")
        if fmt == "csv":
            csv_kind(path)
        files.append(path)
    return files


def read_chunks(
    files: list[Path], size: int | None = None, *, lines: type[Lines] = LineIndex
) -> Iterator[tuple[str, list[RawRecord]]]:
    """("lists", every list record), then each kind after the lists in chunks of `size`
    (CHUNK), in file order within a kind; CSV invoices with their lines read by `lines`."""
    size = size or CHUNK
    documents: dict[Path, list[RawRecord]] = {}
    csv_files: dict[Path, str] = {}
    for path in files:
        fmt = SUFFIXES[path.suffix.lower()]
        if fmt == "csv":
            csv_files[path] = csv_kind(path)
            continue
        text, source = read_text(path), str(path)
        if not text or text.isspace():  # stops at the first character that is not a space
            raise InputError(f"{source}: empty file: holds no records", NO_RECORDS_HINT)
        located = load_yaml_text(text, source) if fmt == "yaml" else load_json_text(text, source)
        if located.data is None:  # YAML of nothing but comments (or `---`)
            raise InputError(f"{source}: holds no records (only comments)", NO_RECORDS_HINT)
        documents[path] = document_records(located, source)

    def of_kind(kinds: tuple[str, ...]) -> Iterator[RawRecord]:
        for path in files:
            if path in documents:
                yield from (r for r in documents[path] if r.kind in kinds)
            elif csv_files[path] in kinds:
                yield from csv_rows(path, csv_files[path])

    yield "lists", list(of_kind(LIST_KINDS))
    reader = lines()
    try:
        for path, kind in csv_files.items():
            if kind == "invoice_lines":
                reader.add(path)
        for kind in KINDS[len(LIST_KINDS) :]:
            chunk: list[RawRecord] = []
            for record in of_kind((kind,)):
                chunk.append(record)
                if len(chunk) >= size:
                    yield kind, _with_lines(kind, chunk, reader)
                    chunk = []
            if chunk:
                yield kind, _with_lines(kind, chunk, reader)
            if kind == "invoices":
                reader.raise_if_orphans()
    finally:
        reader.close()


def _with_lines(kind: str, chunk: list[RawRecord], lines: Lines) -> list[RawRecord]:
    if kind == "invoices":
        lines.attach(chunk)
    return chunk
