"""QuickBooks reference lists (accounts, items, tax codes, ...) as the CLI and mappings see them."""

from __future__ import annotations

from typing import Any

from qbsync.qbo.client import QboClient

LIST_KINDS: dict[str, str] = {
    "accounts": "Account",
    "items": "Item",
    "tax-codes": "TaxCode",
    "terms": "Term",
    "classes": "Class",
    "departments": "Department",
    "payment-methods": "PaymentMethod",
    "customers": "Customer",
}


async def fetch_list(
    client: QboClient, entity: str, include_inactive: bool = False
) -> list[dict[str, Any]]:
    """Active records; with include_inactive the `Active = false` ones too (QBO leaves them
    out of plain queries). Ordered by Id, each record once."""
    found = await client.query_all(entity)
    if include_inactive:
        found += await client.query_all(entity, where="Active = false")
    unique = {str(r.get("Id")): r for r in found}
    return sorted(unique.values(), key=_id_order)


def _id_order(record: dict[str, Any]) -> tuple[int, str]:
    text = str(record.get("Id", ""))
    return (int(text), "") if text.isdigit() else (1 << 62, text)
