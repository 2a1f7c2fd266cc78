"""A company's own settings in the store (name, counters, change number), reopening a stored
company, and a company as plain data (the JSON state files written before the store) and back.
"""

from __future__ import annotations

from typing import Any, Self

from qbsync.sim.clock import Clock
from qbsync.sim.company.balances import Balances
from qbsync.sim.company.model import ENTITIES
from qbsync.sim.storage import Store


class Persistence(Balances):
    """`settings`, `open`, `to_state` and `from_state`."""

    def settings(self) -> dict[str, Any]:
        """What the store keeps in the company's own row (its objects have their tables)."""
        return {
            "name": self.name,
            "country": self.country,
            "counters": self.counters,
            "change_seq": self.change_seq,
            "top_doc_number": self.top_doc_number,
            "fields": {e: sorted(f) for e, f in self.fields.items() if f},
        }

    @classmethod
    def open(cls, store: Store, realm: str, settings: dict[str, Any], clock: Clock) -> Self:
        """A company already in the store: nothing is read but its row."""
        c = cls(realm, settings["name"], clock, settings.get("country", "US"), store)
        c.counters = {k: int(v) for k, v in settings.get("counters", {}).items()}
        c.change_seq = int(settings.get("change_seq", 0))
        c.top_doc_number = int(settings.get("top_doc_number", 1000))
        for e, names in settings.get("fields", {}).items():
            c.fields[e] = set(names)
        return c

    def to_state(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "name": self.name,
            "country": self.country,
            "data": {e: dict(self.data[e].items()) for e in ENTITIES},
            "tombstones": {
                e: {i: list(v) for i, v in self.tombstones[e].items()} for e in ENTITIES
            },
            "counters": self.counters,
            "replay": {k: list(v) for k, v in self.replay.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], clock: Clock, store: Store | None = None) -> Self:
        c = cls(state["realm_id"], state["name"], clock, state.get("country", "US"), store)
        c.store.drop_company_data(c.realm_id)
        for e in ENTITIES:
            objs = state["data"].get(e, {})
            c.data[e].load(list(objs.items()))
            # Files written before changes were numbered hold (text, ts): number them 0.
            c.tombstones[e].load(
                [
                    (i, (str(v[0]), int(v[1]), int(v[2]) if len(v) > 2 else 0))
                    for i, v in state["tombstones"].get(e, {}).items()
                ]
            )
            seqs = [int(o.get("_seq", 0)) for o in objs.values()]
            c.change_seq = max([c.change_seq, c.tombstones[e].max_seq(), *seqs])
            for obj in objs.values():
                c.fields[e].update(k.lower() for k in obj)
                num = str(obj.get("DocNumber") or "")
                if e in ("Invoice", "CreditMemo") and num.isdigit():
                    c.top_doc_number = max(c.top_doc_number, int(num))
        c.counters = dict(state["counters"])
        for k, v in state.get("replay", {}).items():
            c.replay[k] = (int(v[0]), v[1])
        c.rebuild_links()
        return c
