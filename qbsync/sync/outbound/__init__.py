"""Outbound: drain the outbox into QuickBooks.

Every op is claimed (attempts + 1, marked uncertain) in its own committed transaction before its
request leaves, and completed (QBO Id and SyncToken, the link, the op done) in one transaction
after the answer. An op found uncertain (a lost answer, a crash) is settled by looking for the
document's marker before anything is created again: no duplicate reaches QuickBooks.

`drain` orders and sends the due ops; `opstate` makes each op's transitions; `exports`,
`voids` and `payments` send one kind of op each.
"""

from qbsync.sync.outbound.drain import BATCH_CONCURRENCY, Outbound, recover
from qbsync.sync.outbound.opstate import FATAL

__all__ = ["BATCH_CONCURRENCY", "FATAL", "Outbound", "recover"]
