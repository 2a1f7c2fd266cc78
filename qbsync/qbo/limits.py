"""Intuit's per-realm limits and the API minor version, as the client and its pacer use them.

Plain values: whoever opens a client (qbsync.companies, from config.yaml's `qbo` section) passes
them in, so the client reads no configuration of its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int = 500
    requests_per_second: int = 10
    batch_requests_per_minute: int = 40
    batch_items: int = 30
    minor_version: int = 75
