"""Inbound: what changed in QuickBooks since the cursor, applied to the ledger.

The window is read whole (`window`: split, never skipped, when QuickBooks caps an answer at 1000
objects), then applied (`apply`: customers, drift on linked documents, payments) with the new
cursor (`cursor`) in one transaction. The new cursor is the time the cycle started reading,
never later; re-reads inside the overlap are harmless because every applier dedupes on
(Id, SyncToken).
"""
