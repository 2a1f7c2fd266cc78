"""Mappings that invoices waiting for export still lack."""

from __future__ import annotations

from qbsync.doctor.check import Check, qbo_company
from qbsync.workspace import Workspace


def check_mappings(ws: Workspace, company: str | None) -> list[Check]:
    """Mappings that finalized invoices waiting for export still lack (`mappings check`)."""
    from qbsync.views.mappings_check import missing_mappings

    key = qbo_company(ws, company)
    if key is None:
        return []  # nothing configured yet: the config check says so
    missing = missing_mappings(ws.store, key)
    if not missing:
        return [Check("mappings", "ok", f"{key}: invoices waiting for export are fully mapped")]
    by_kind: dict[str, list[str]] = {}
    for item in missing:
        by_kind.setdefault(item["kind"], []).append(item["local_id"])
    parts = [
        f"{kind} {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}"
        for kind, ids in by_kind.items()
    ]
    kind, ids = next(iter(by_kind.items()))
    if kind == "customers":
        fix = f"match customers: qbsync wizard customers --company {key} (or qbsync mappings set)"
    else:
        fix = f"qbsync mappings set {kind} {ids[0]} QBO_ID --company {key} (or import a mappings file)"
    return [
        Check(
            "mappings",
            "warn",
            f"{key}: {len(missing)} unmapped hold invoices back from export: {'; '.join(parts)}",
            f"{fix}; the full list: qbsync mappings check",
        )
    ]
