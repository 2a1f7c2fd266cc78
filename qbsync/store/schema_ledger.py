"""Schema for the ledger and the mappings (steps 0020-0039)."""

from __future__ import annotations

from qbsync.store.migrations import MIGRATIONS  # noqa: F401
