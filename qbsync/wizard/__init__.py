"""The reconciliation wizard: link what already exists in QuickBooks before the first export.

customers: ledger clients to QuickBooks customers (matching.py); history: existing QuickBooks
invoices to ledger invoices (history.py); go-live: the cutover date (golive.py); plan files for
scripted runs (plan.py); decisions saved as they are made (decisions.py).
"""
