"""Mappings: ledger ids to QuickBooks ids per company (kinds, resolution, YAML, check)."""
