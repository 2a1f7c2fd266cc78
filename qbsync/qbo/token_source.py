"""What the client needs from whoever keeps a company's tokens.

The client never stores, reads or refreshes tokens itself: it asks a TokenSource for one before
a request and for another after QuickBooks refuses one (401). qbsync.companies implements it
over the secrets store, with the cross-process refresh lock.
"""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    async def access_token(self) -> str:
        """A token valid for at least five more minutes (refreshed if needed)."""
        ...

    async def refreshed(self, rejected: str) -> str:
        """A token other than `rejected`, which QuickBooks just refused (401)."""
        ...
