"""The local SQLite store (ledger, mappings, outbox, sync state). See db.py and migrations.py."""

from qbsync.store.db import open_store

__all__ = ["open_store"]
