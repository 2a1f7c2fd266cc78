"""What an import changes: each kind's rows to add and update, each invoice's lines, discount
lines and taxes, and the ops to queue (a Plan, one chunk's), and their sum (a Summary).

Plain data, apart from the models that decide it (plan.py): the helper that writes a large
import (writer.py) receives plans without loading the import's validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qbsync.outbox import OpKind, SubjectType

KINDS = (
    "clients",
    "services",
    "tax_regions",
    "terms",
    "invoices",
    "payments",
    "credit_applications",
)
"""Record kinds in dependency order (a kind refers only to kinds before it)."""

Rows = list[tuple[Any, ...]]
# Counts an import's summary shows only when they are not 0: records the file lists again that
# the ledger took off (reversed) or voided (kept_void) since, which it leaves as they are.
RARE_COUNTS = ("reversed", "kept_void")


@dataclass
class KindPlan:
    """One kind's rows to insert and to update, and how many stand as they are."""

    added: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    # Listed again, but taken off the ledger since (reversed): not taken back.
    reversed: int = 0
    # Invoices listed again as issued, but voided in the ledger since: they stay void.
    kept_void: int = 0


@dataclass
class Plan:
    """Everything an import will write for a company, and the ops it will queue."""

    company: str
    kinds: dict[str, KindPlan] = field(default_factory=lambda: {k: KindPlan() for k in KINDS})
    # Invoice id -> its rows (rows.invoice_rows): item lines, discount lines, tax per rate.
    lines: dict[str, Rows] = field(default_factory=dict)
    discounts: dict[str, Rows] = field(default_factory=dict)
    taxes: dict[str, Rows] = field(default_factory=dict)
    ops: list[tuple[OpKind, SubjectType, str]] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(len(p.added) + len(p.updated) for p in self.kinds.values())

    def to_wire(self) -> tuple[Any, ...]:
        """The plan as tuples, lists, dicts, text and numbers only (what marshal writes)."""
        kinds = {
            k: (p.added, p.updated, p.unchanged, p.reversed, p.kept_void)
            for k, p in self.kinds.items()
        }
        ops = [(kind.value, subject.value, sid) for kind, subject, sid in self.ops]
        return (self.company, kinds, self.lines, self.discounts, self.taxes, ops)

    @classmethod
    def from_wire(cls, wire: tuple[Any, ...]) -> Plan:
        company, kinds, lines, discounts, taxes, ops = wire
        return cls(
            company,
            {k: KindPlan(*fields) for k, fields in kinds.items()},
            lines,
            discounts,
            taxes,
            [(OpKind(kind), SubjectType(subject), sid) for kind, subject, sid in ops],
        )


@dataclass
class Summary:
    """What an import changes, added up over its chunks' plans."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            k: {"added": 0, "updated": 0, "unchanged": 0, **dict.fromkeys(RARE_COUNTS, 0)}
            for k in KINDS
        }
    )
    ops: dict[str, int] = field(default_factory=dict)
    changes: int = 0

    def add(self, plan: Plan) -> Summary:
        for kind, p in plan.kinds.items():
            count = self.counts[kind]
            count["added"] += len(p.added)
            count["updated"] += len(p.updated)
            count["unchanged"] += p.unchanged
            count["reversed"] += p.reversed
            count["kept_void"] += p.kept_void
        for kind, _, _ in plan.ops:
            self.ops[kind.value] = self.ops.get(kind.value, 0) + 1
        self.changes += plan.changes
        return self

    def as_dict(self) -> dict[str, Any]:
        counts = {
            kind: {k: v for k, v in c.items() if k not in RARE_COUNTS or v}
            for kind, c in self.counts.items()
        }
        return {"counts": counts, "ops": self.ops}
