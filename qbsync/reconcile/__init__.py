"""`qbsync reconcile`: the ledger held against QuickBooks, document by document, to the cent.

Reads both sides (ledger_side, quickbooks_side), compares them (compare) and renders the
report (report). It writes nothing: not to the store, not to QuickBooks.
"""
