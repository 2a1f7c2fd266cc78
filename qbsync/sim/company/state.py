"""A company as plain data, for the simulator's state file, and back; what is derived is
rebuilt on load.
"""

from __future__ import annotations

from typing import Any, Self

from qbsync.sim.clock import Clock
from qbsync.sim.company.balances import Balances
from qbsync.sim.company.model import ENTITIES


class Persistence(Balances):
    """`to_state` and `from_state`."""

    def to_state(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "name": self.name,
            "country": self.country,
            "data": self.data,
            "tombstones": {
                e: {i: list(v) for i, v in t.items()} for e, t in self.tombstones.items()
            },
            "counters": self.counters,
            "replay": {k: list(v) for k, v in self.replay.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], clock: Clock) -> Self:
        c = cls(state["realm_id"], state["name"], clock, state.get("country", "US"))
        for e in ENTITIES:
            c.data[e] = state["data"].get(e, {})
            # Files written before changes were numbered hold (text, ts): number them 0.
            c.tombstones[e] = {
                i: (str(v[0]), int(v[1]), int(v[2]) if len(v) > 2 else 0)
                for i, v in state["tombstones"].get(e, {}).items()
            }
        c.counters = dict(state["counters"])
        c.replay = {k: (int(v[0]), v[1]) for k, v in state.get("replay", {}).items()}
        c.rebuild_links()
        for memo in c.data["CreditMemo"].values():
            c._index_credit(None, memo)
        for e in ENTITIES:
            seqs = [t[2] for t in c.tombstones[e].values()]
            seqs += [int(o.get("_seq", 0)) for o in c.data[e].values()]
            c.change_seq = max([c.change_seq, *seqs])
            for obj in c.data[e].values():
                c.fields[e].update(k.lower() for k in obj)
                num = str(obj.get("DocNumber") or "")
                if e in ("Invoice", "CreditMemo") and num.isdigit():
                    c.top_doc_number = max(c.top_doc_number, int(num))
        return c
