"""The store's schema, as ordered migration steps (applied by sqlite-utils' Migrations).

Each area module lists its steps in STEPS; STEPS here holds them in the order below, which is the
order they are applied in (each step in its own transaction, when the store opens). A step's name
is its function's name without the leading `m` (`m0040_outbox` is `0040_outbox`), as recorded in
stores that applied it. Never edit a step that has shipped; append a new one.

Ranges: 0001-0009 core, 0020-0039 ledger and mappings, 0040-0069 sync, 0070-0079 wizard,
0080-0089 health, 0090-0099 performance. Money columns hold integer cents or decimal text,
never REAL.
"""

from __future__ import annotations

from collections.abc import Callable

from qbsync.store.database import Database
from qbsync.store.schema import core, health, ledger, perf, sync, wizard

Step = Callable[[Database], None]

STEPS: list[tuple[str, Step]] = [
    (step.__name__.removeprefix("m"), step)
    for area in (core, ledger, sync, wizard, health, perf)
    for step in area.STEPS
]

__all__ = ["STEPS", "Step"]
