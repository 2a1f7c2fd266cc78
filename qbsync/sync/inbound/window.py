"""Reading the change window: every change since a time, latest version of each object.

The change feed (CDC) answers at most 1000 objects: a capped answer is read on from its newest
time, never skipped. A window older than the feed reaches back (by our clock, or as QuickBooks
answers it) is read by queries instead, with deletions found by ids (`gap`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from qbsync.qbo.errors import QboError
from qbsync.sync.context import CycleContext
from qbsync.timeutil import parse_iso

ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")
CDC_CAP = 1000
CDC_MAX_AGE = dt.timedelta(days=29)

Change = tuple[str, dict[str, Any]]


def too_old(err: QboError) -> bool:
    """QuickBooks refusing a change-feed window older than it keeps (30 days by its clock):
    "Operation cdc with changedSince date ... which is older than fixed days is not supported",
    or "changedSince must be within the last 30 days"."""
    text = f"{err.detail or ''} {err.message}".lower()
    return "changedsince" in text and ("days" in text or "older" in text)


def deleted(obj: dict[str, Any]) -> bool:
    """A deletion as the change feed reports it."""
    return str(obj.get("status", "")).lower() == "deleted"


def _updated(obj: dict[str, Any]) -> dt.datetime:
    stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime")
    return parse_iso(stamp) if stamp else dt.datetime.min.replace(tzinfo=dt.UTC)


def _qbo_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


async def read_window(ctx: CycleContext, since: dt.datetime, until: dt.datetime) -> list[Change]:
    """Every change since `since`, latest version of each object, oldest first."""
    latest: dict[tuple[str, str], Change] = {}

    def keep(entity: str, obj: dict[str, Any]) -> None:
        key = (entity, str(obj.get("Id")))
        seen = latest.get(key)
        if seen is None or _updated(obj) >= _updated(seen[1]):
            latest[key] = (entity, obj)

    async def read_gap() -> None:
        # Older than the change feed reaches back: queries, and deletions found by ids.
        from qbsync.sync.inbound import gap

        for entity, obj in await _read_by_query(ctx, since):
            keep(entity, obj)
        for entity, obj in await gap.deletions(ctx):
            keep(entity, obj)

    if until - since > CDC_MAX_AGE:
        await read_gap()
    else:
        start = since
        while True:
            try:
                answer = await ctx.client.cdc(list(ENTITIES), start)
            except QboError as err:
                if start != since or not too_old(err):
                    raise
                # QuickBooks' clock, not ours, says the cursor is past the feed's reach.
                await read_gap()
                break
            objects = [(e, o) for e, items in answer.items() for o in items]
            for entity, obj in objects:
                keep(entity, obj)
            ctx.tick("inbound", len(latest), len(latest))
            if len(objects) < CDC_CAP:
                break
            # Capped: QuickBooks gave the oldest 1000. Go on from the newest time among them
            # (inclusive, so that same-second neighbours are read again, deduped above).
            newest = max(_updated(o) for _, o in objects)
            if newest <= start:
                # 1000+ changes inside one second: read that second by query instead.
                for entity, obj in await _read_by_query(
                    ctx, start, start + dt.timedelta(seconds=1)
                ):
                    keep(entity, obj)
                newest = start + dt.timedelta(seconds=1)
            start = newest
    return sorted(latest.values(), key=lambda c: (ENTITIES.index(c[0]), _updated(c[1])))


async def _read_by_query(
    ctx: CycleContext, since: dt.datetime, before: dt.datetime | None = None
) -> list[Change]:
    """For a cursor older than the change feed reaches back: queries by LastUpdatedTime. They
    cannot see deletions: `gap.deletions` finds those by ids."""
    out: list[Change] = []
    where = f"MetaData.LastUpdatedTime >= '{_qbo_time(since)}'"
    if before is not None:
        where += f" AND MetaData.LastUpdatedTime < '{_qbo_time(before)}'"
    for entity in ENTITIES:
        for obj in await ctx.client.query_all(entity, where):
            out.append((entity, obj))
        if entity == "Customer":  # plain queries hide inactive customers
            for obj in await ctx.client.query_all(entity, f"Active = false AND {where}"):
                out.append((entity, obj))
    return out
