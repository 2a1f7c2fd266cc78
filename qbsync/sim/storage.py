"""Where the simulator keeps its companies: SQLite, in a file (`--state FILE`) or in memory.

One row per object, its exact content as JSON text (Decimals kept exact), plus the columns the
company looks objects up by: DocNumber, CustomerRef, TxnDate, names, last update time, the
change stamp and whether it is active or holds open credit. Deletions (for CDC), payment links,
requestid replays, each company's counters and the simulator's own settings (app, tokens,
admin key, clock) have their own tables. A bounded cache of decoded objects sits in front, so
memory stays flat however large a company grows.

Writes go to the database as they happen, inside one transaction that `commit` ends; the
simulator commits before it answers a request that changed something. The file runs in WAL mode
with synchronous=NORMAL: a commit survives the process being killed (not a power cut).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from qbsync.sim.values import RawJSON, state_dumps, state_loads

SCHEMA_VERSION = 2
CACHE_SIZE = 4096
SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS companies (
    realm TEXT PRIMARY KEY, pos INTEGER NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    realm TEXT NOT NULL, entity TEXT NOT NULL, id TEXT NOT NULL, num INTEGER,
    doc_key TEXT, customer_key TEXT, name_key TEXT, txn_date TEXT, updated REAL,
    ts INTEGER, active INTEGER NOT NULL, open_credit INTEGER NOT NULL, body TEXT NOT NULL,
    view TEXT NOT NULL,
    UNIQUE (realm, entity, id));
CREATE INDEX IF NOT EXISTS objects_order ON objects (realm, entity);
CREATE INDEX IF NOT EXISTS objects_doc ON objects (realm, entity, doc_key)
    WHERE doc_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS objects_customer ON objects (realm, entity, customer_key)
    WHERE customer_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS objects_name ON objects (realm, entity, name_key)
    WHERE name_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS objects_open ON objects (realm, customer_key) WHERE open_credit = 1;
CREATE INDEX IF NOT EXISTS objects_date ON objects (realm, entity, txn_date)
    WHERE txn_date IS NOT NULL;
CREATE INDEX IF NOT EXISTS objects_updated ON objects (realm, entity, updated);
CREATE INDEX IF NOT EXISTS objects_ts ON objects (realm, entity, ts);
CREATE TABLE IF NOT EXISTS tombstones (
    realm TEXT NOT NULL, entity TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL,
    ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (realm, entity, id));
CREATE INDEX IF NOT EXISTS tombstones_ts ON tombstones (realm, entity, ts);
CREATE TABLE IF NOT EXISTS links (
    realm TEXT NOT NULL, txn_type TEXT NOT NULL, txn_id TEXT NOT NULL,
    payment_id TEXT NOT NULL, amount TEXT NOT NULL,
    PRIMARY KEY (realm, txn_type, txn_id, payment_id));
CREATE TABLE IF NOT EXISTS replay (
    realm TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (realm, key));
"""

# ------------------------------------------------------------------ exact JSON

_MARK = "\x00$d:"
_MARKED = re.compile(r'"\\u0000\$d:([^"]*)"')


def pack(obj: Any) -> str:
    """JSON text of an object with its Decimals as exact JSON numbers (always written with a
    point or an exponent, so they read back as Decimals while ints stay ints)."""
    found = 0

    def default(o: Any) -> Any:
        nonlocal found
        if isinstance(o, RawJSON):
            return o.value()
        if isinstance(o, Decimal) and o.is_finite():
            found += 1
            text = str(o)
            if "." not in text and "E" not in text:
                text += "E0"
            return _MARK + text
        raise TypeError(type(o).__name__)

    try:
        text = json.dumps(obj, default=default, separators=(",", ":"))
    except (TypeError, ValueError):
        return state_dumps(obj)
    text, n = _MARKED.subn(r"\1", text)
    if n != found:  # a string of the caller's looked like a marked Decimal: the slow form
        return state_dumps(obj)
    return text


def unpack(text: str) -> Any:
    if '"$d"' in text:
        return state_loads(text)
    return json.loads(text, parse_float=Decimal)


# ------------------------------------------------------------------ the database


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


class Store:
    """One SQLite database (a file, or memory when `path` is None) and the object cache."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # It holds the app's secret and tokens: owner only, from the start.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.db = sqlite3.connect(
            str(path) if path is not None else ":memory:",
            isolation_level=None,
            check_same_thread=False,
            cached_statements=512,
        )
        if path is not None:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.cache: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
        # Objects stored since the last flush, written together (an object changed several
        # times in one request is written once) before any read and at commit.
        self.dirty: dict[tuple[str, str, str], dict[str, Any]] = {}
        # (key, object) -> the parameters of the objects upsert; set by the tables.
        self.encode: Callable[[tuple[str, str, str], dict[str, Any]], Sequence[Any]] | None = None
        self.upsert = ""

    # -------------------------------------------------------------- statements

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.lock:
            if not self.db.in_transaction:
                self.db.execute("BEGIN")
            self.db.execute(sql, params)

    def write_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self.lock:
            if not self.db.in_transaction:
                self.db.execute("BEGIN")
            self.db.executemany(sql, rows)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            if self.dirty:
                self.flush()
            return self.db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self.lock:
            if self.dirty:
                self.flush()
            row: tuple[Any, ...] | None = self.db.execute(sql, params).fetchone()
            return row

    def stage(self, key: tuple[str, str, str], obj: dict[str, Any]) -> None:
        """Store an object: cached at once, written at the next flush."""
        with self.lock:
            self.dirty[key] = obj
            self.remember(key, obj)

    def unstage(self, key: tuple[str, str, str]) -> None:
        with self.lock:
            self.dirty.pop(key, None)
            self.cache.pop(key, None)

    def staged(self, key: tuple[str, str, str]) -> dict[str, Any] | None:
        return self.dirty.get(key)

    def flush(self) -> None:
        with self.lock:
            if not self.dirty:
                return
            assert self.encode is not None
            pending = [self.encode(key, obj) for key, obj in self.dirty.items()]
            self.dirty = {}
            self.write_many(self.upsert, pending)

    def commit(self) -> None:
        with self.lock:
            self.flush()
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.commit()
            self.db.close()

    def copy_to(self, path: Path) -> None:
        """A full copy of the database in another file (a simulator started in memory and
        then given a state file)."""
        with self.lock:
            self.commit()
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.unlink()
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            dest = sqlite3.connect(str(path))
            try:
                self.db.backup(dest)
            finally:
                dest.close()

    # -------------------------------------------------------------- cache

    def cached(self, key: tuple[str, str, str]) -> dict[str, Any] | None:
        with self.lock:
            obj = self.cache.get(key)
            if obj is not None:
                self.cache.move_to_end(key)
            return obj

    def remember(self, key: tuple[str, str, str], obj: dict[str, Any]) -> None:
        with self.lock:
            self.cache[key] = obj
            self.cache.move_to_end(key)
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)

    def forget(self, key: tuple[str, str, str]) -> None:
        with self.lock:
            self.cache.pop(key, None)

    # -------------------------------------------------------------- settings and companies

    def get_meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.rows("SELECT key, value FROM meta")}

    def put_meta(self, key: str, value: Any) -> None:
        self.write(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, sort_keys=True)),
        )

    def company_states(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (realm, json.loads(state))
            for realm, state in self.rows("SELECT realm, state FROM companies ORDER BY pos")
        ]

    def put_company(self, realm: str, state: dict[str, Any]) -> None:
        self.write(
            "INSERT INTO companies (realm, pos, state) VALUES "
            "(?, (SELECT coalesce(max(pos), 0) + 1 FROM companies), ?) "
            "ON CONFLICT (realm) DO UPDATE SET state = excluded.state",
            (realm, json.dumps(state, sort_keys=True)),
        )

    def drop_company_data(self, realm: str) -> None:
        """Every object, deletion, link and replay of a company (its row stays)."""
        with self.lock:
            for table in ("objects", "tombstones", "links", "replay"):
                self.write(f"DELETE FROM {table} WHERE realm = ?", (realm,))
            for key in [k for k in self.cache if k[0] == realm]:
                del self.cache[key]
            self.dirty = {k: v for k, v in self.dirty.items() if k[0] != realm}

    def iter_chunks(
        self, sql: str, params: Sequence[Any], size: int = 500
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of `sql` (which must select rowid first and accept `AND rowid > ?` appended
        before an ORDER BY rowid LIMIT) a chunk at a time, so a scan holds little and sees
        writes made between chunks as a dict's iteration would not need to."""
        last = 0
        while True:
            chunk = self.rows(f"{sql} AND rowid > ? ORDER BY rowid LIMIT {size}", (*params, last))
            if not chunk:
                return
            yield chunk
            if len(chunk) < size:
                return
            last = chunk[-1][0]
