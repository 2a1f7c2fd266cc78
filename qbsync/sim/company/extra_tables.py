"""What a company keeps in the store beside its objects: deletions (what CDC reports as
Deleted), which payments apply to which documents, the credit memos with credit left (read
from the memos' indexed rows) and the answers to requestids, each with the dict-like face the
company code uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync.sim.company.model import ref_id
from qbsync.sim.company.tables import ODD, Table, norm
from qbsync.sim.storage import Store, pack, unpack


class Tombstones:
    """Deleted objects of one entity: id -> (LastUpdatedTime text, epoch seconds, change)."""

    def __init__(self, store: Store, realm: str, entity: str) -> None:
        self.store = store
        self._args = (realm, entity)
        self._where = "realm = ? AND entity = ?"

    def __setitem__(self, oid: str, value: tuple[str, int, int]) -> None:
        self.store.write(
            "INSERT INTO tombstones (realm, entity, id, text, ts, seq) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (realm, entity, id) DO UPDATE SET text = excluded.text, "
            "ts = excluded.ts, seq = excluded.seq",
            (*self._args, oid, *value),
        )

    def load(self, items: list[tuple[str, tuple[str, int, int]]]) -> None:
        for oid, value in items:
            self[oid] = value

    def get(self, oid: str, default: Any = None) -> Any:
        found = self.store.one(
            f"SELECT text, ts, seq FROM tombstones WHERE {self._where} AND id = ?",
            (*self._args, oid),
        )
        return default if found is None else (str(found[0]), int(found[1]), int(found[2]))

    def __contains__(self, oid: object) -> bool:
        return isinstance(oid, str) and self.get(oid) is not None

    def pop(self, oid: str, default: Any = None) -> Any:
        value = self.get(oid)
        if value is None:
            return default
        self.store.write(
            f"DELETE FROM tombstones WHERE {self._where} AND id = ?", (*self._args, oid)
        )
        return value

    def since(self, ts: float) -> list[tuple[str, tuple[str, int, int]]]:
        return [
            (r[0], (str(r[1]), int(r[2]), int(r[3])))
            for r in self.store.rows(
                f"SELECT id, text, ts, seq FROM tombstones WHERE {self._where} AND ts >= ? "
                "ORDER BY rowid",
                (*self._args, ts),
            )
        ]

    def items(self) -> list[tuple[str, tuple[str, int, int]]]:
        return self.since(float("-inf"))

    def values(self) -> list[tuple[str, int, int]]:
        return [v for _, v in self.items()]

    def __len__(self) -> int:
        found = self.store.one(f"SELECT count(*) FROM tombstones WHERE {self._where}", self._args)
        return int(found[0]) if found else 0

    def max_seq(self) -> int:
        found = self.store.one(f"SELECT max(seq) FROM tombstones WHERE {self._where}", self._args)
        return int(found[0]) if found and found[0] is not None else 0


class Links:
    """Which payments apply how much to which document: (TxnType, TxnId) -> {payment: amount}."""

    def __init__(self, store: Store, realm: str) -> None:
        self.store = store
        self.realm = realm

    def get(
        self, key: tuple[str, str], default: dict[str, Decimal] | None = None
    ) -> dict[str, Decimal]:
        found = self.store.rows(
            "SELECT payment_id, amount FROM links WHERE realm = ? AND txn_type = ? "
            "AND txn_id = ? ORDER BY rowid",
            (self.realm, *key),
        )
        if not found:
            return {} if default is None else default
        return {str(p): Decimal(a) for p, a in found}

    def put(self, key: tuple[str, str], pid: str, amount: Decimal) -> None:
        self.store.write(
            "INSERT INTO links (realm, txn_type, txn_id, payment_id, amount) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (realm, txn_type, txn_id, payment_id) "
            "DO UPDATE SET amount = excluded.amount",
            (self.realm, *key, pid, str(amount)),
        )

    def drop(self, key: tuple[str, str], pid: str) -> None:
        self.store.write(
            "DELETE FROM links WHERE realm = ? AND txn_type = ? AND txn_id = ? AND payment_id = ?",
            (self.realm, *key, pid),
        )

    def clear(self) -> None:
        self.store.write("DELETE FROM links WHERE realm = ?", (self.realm,))

    def items(self) -> list[tuple[tuple[str, str], dict[str, Decimal]]]:
        out: dict[tuple[str, str], dict[str, Decimal]] = {}
        for t, i, p, a in self.store.rows(
            "SELECT txn_type, txn_id, payment_id, amount FROM links WHERE realm = ? ORDER BY rowid",
            (self.realm,),
        ):
            out.setdefault((str(t), str(i)), {})[str(p)] = Decimal(a)
        return list(out.items())


class OpenCredit:
    """Customer id -> ids of its credit memos with credit left (read from the memos' rows)."""

    def __init__(self, store: Store, realm: str) -> None:
        self.store = store
        self.realm = realm

    def get(self, cid: str, default: Any = ()) -> Any:
        memos = Table(self.store, self.realm, "CreditMemo")
        found = self.store.rows(
            "SELECT id FROM objects WHERE realm = ? AND customer_key IN (?, ?) "
            "AND open_credit = 1 ORDER BY rowid",
            (self.realm, norm(cid), ODD),
        )
        ids = {oid for (oid,) in found if ref_id(memos[oid].get("CustomerRef")) == cid}
        return ids or default


class Replay:
    """requestid -> (status, body): the first answer to a request, given again on a repeat."""

    def __init__(self, store: Store, realm: str) -> None:
        self.store = store
        self.realm = realm

    def get(self, key: str, default: Any = None) -> Any:
        found = self.store.one(
            "SELECT status, body FROM replay WHERE realm = ? AND key = ?", (self.realm, key)
        )
        return default if found is None else (int(found[0]), unpack(found[1]))

    def __getitem__(self, key: str) -> tuple[int, Any]:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        result: tuple[int, Any] = found
        return result

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (
            self.store.one("SELECT 1 FROM replay WHERE realm = ? AND key = ?", (self.realm, key))
            is not None
        )

    def __setitem__(self, key: str, value: tuple[int, Any]) -> None:
        self.store.write(
            "INSERT INTO replay (realm, key, status, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (realm, key) DO UPDATE SET status = excluded.status, "
            "body = excluded.body",
            (self.realm, key, int(value[0]), pack(value[1])),
        )

    def __len__(self) -> int:
        found = self.store.one("SELECT count(*) FROM replay WHERE realm = ?", (self.realm,))
        return int(found[0]) if found else 0

    def items(self) -> list[tuple[str, tuple[int, Any]]]:
        return [
            (str(k), (int(s), unpack(b)))
            for k, s, b in self.store.rows(
                "SELECT key, status, body FROM replay WHERE realm = ? ORDER BY rowid",
                (self.realm,),
            )
        ]
