"""The live ListSource: the company's lists read through the QuickBooks client.

Kept apart (and imported lazily) so that by-id mappings never need the QuickBooks client, and
so that tests can swap `open_source` for fixed lists.
"""

from __future__ import annotations

from typing import Any

from qbsync.mappings.resolve import ListSource
from qbsync.workspace import Workspace


def open_source(ws: Workspace, company: str) -> ListSource:
    """A ListSource over `company`'s live QuickBooks lists. Nothing is read (and no connection
    is needed) until a name actually has to be resolved."""

    def fetch(entity: str, include_inactive: bool) -> list[dict[str, Any]]:
        from qbsync.companies.session import open_client, run
        from qbsync.qbo.lists import fetch_list

        async def read() -> list[dict[str, Any]]:
            async with open_client(ws, company) as client:
                return await fetch_list(client, entity, include_inactive)

        return run(read())

    return fetch
