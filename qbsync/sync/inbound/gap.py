"""After a gap longer than the change feed reaches back: deletions found by ids.

Queries by LastUpdatedTime read every object changed since the cursor, but a deleted object is
simply gone from them. So the ids QuickBooks still holds are read, page by page (1000 a page,
whole objects: QuickBooks' query language has no projections), for each kind of object qbsync
linked, and every linked id that is gone comes back as the change feed would have reported it,
`{"Id": ..., "status": "Deleted"}`: the same drift and reversal path as a deletion read live.
"""

from __future__ import annotations

from typing import Any

from qbsync.sync import links, qbo_payments
from qbsync.sync.context import CycleContext

Change = tuple[str, dict[str, Any]]

LINKED = ("Invoice", "CreditMemo", "Payment")
PAGE = 1000


def linked_ids(ctx: CycleContext) -> dict[str, set[str]]:
    """QuickBooks entity -> the Ids qbsync linked or recorded: exported and linked documents,
    payments pushed or read from QuickBooks."""
    out: dict[str, set[str]] = {entity: set() for entity in LINKED}
    for entity, qbo_id in links.qbo_index(ctx.db, ctx.company):
        if entity in out:
            out[entity].add(qbo_id)
    out["Payment"] |= qbo_payments.known_ids(ctx.db, ctx.company)
    return out


async def deletions(ctx: CycleContext) -> list[Change]:
    """The linked objects QuickBooks no longer holds, as deletions (one paged query per kind
    that has linked ids)."""
    out: list[Change] = []
    for entity, ids in linked_ids(ctx).items():
        if not ids:
            continue
        held = {str(obj.get("Id")) for obj in await ctx.client.query_all(entity, page_size=PAGE)}
        for qbo_id in sorted(ids - held, key=lambda i: (len(i), i)):
            out.append((entity, {"Id": qbo_id, "status": "Deleted", "domain": "QBO"}))
    return out
