"""Schema for connections and OAuth (steps 0010-0019)."""

from __future__ import annotations

from qbsync.store.migrations import MIGRATIONS  # noqa: F401
