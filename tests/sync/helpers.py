"""Helpers for sync tests: a connected company with the sample ledger mapped to the
simulator's demo company, and small readers for the simulator's state."""

from __future__ import annotations

from typing import Any

from qbsync.qbo.lists import fetch_list
from qbsync.qbo.session import open_client, run
from qbsync.timeutil import utc_now_iso
from qbsync.workspace import Workspace

DEMO_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    # kind: local id -> (QBO entity, name)
    "customers": {
        "CL-1": ("Customer", "Acme Dental"),
        "CL-2": ("Customer", "Brightside Law LLP"),
        "CL-3": ("Customer", "Cedar Clinic"),
        "CL-4": ("Customer", "Delta Logistics"),
    },
    "items": {
        "S-MSP": ("Item", "Managed Services"),
        "S-HOURS": ("Item", "Consulting Hours"),
        "S-HW": ("Item", "Hardware Setup"),
        "S-BACKUP": ("Item", "Backup Storage"),
    },
    "tax_codes": {"TR-HC": ("TaxCode", "Harbor County")},
    "terms": {
        "T-DUE": ("Term", "Due on receipt"),
        "T-15": ("Term", "Net 15"),
        "T-30": ("Term", "Net 30"),
    },
    "payment_methods": {
        "stripe": ("PaymentMethod", "Credit Card"),
        "check": ("PaymentMethod", "Check"),
    },
    "accounts": {"deposit": ("Account", "Checking")},
}


def qbo_ids(company: str) -> dict[tuple[str, str], str]:
    """(entity, name) -> Id, read through the real client."""

    async def read() -> dict[tuple[str, str], str]:
        with Workspace() as ws:
            client = open_client(ws, company)
            async with client:
                out = {}
                for entity in {e for kind in DEMO_NAMES.values() for e, _ in kind.values()}:
                    for obj in await fetch_list(client, entity, include_inactive=True):
                        name = obj.get("DisplayName") or obj.get("Name")
                        out[(entity, name)] = str(obj["Id"])
                return out

    return run(read())


def map_demo(company: str, *, skip: tuple[tuple[str, str], ...] = ()) -> dict[tuple[str, str], str]:
    """Map the sample ledger to the demo company (TR-EX to NON). Returns the QBO ids."""
    ids = qbo_ids(company)
    with Workspace() as ws, ws.store.atomic():
        rows = [("tax_codes", "TR-EX", "NON", "NON")]
        for kind, entries in DEMO_NAMES.items():
            for local, (entity, name) in entries.items():
                if (kind, local) not in skip:
                    rows.append((kind, local, ids[(entity, name)], name))
        for kind, local, qbo_id, name in rows:
            set_mapping(ws, company, kind, local, qbo_id, name)
    return ids


def set_mapping(ws: Workspace, company: str, kind: str, local: str, qbo_id: str, name: str) -> None:
    ws.store.execute(
        "INSERT OR REPLACE INTO mappings (company, kind, local_id, qbo_id, qbo_name, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [company, kind, local, qbo_id, name, utc_now_iso()],
    )


def sim_docs(server: Any, entity: str) -> list[dict[str, Any]]:
    """Every object of `entity` the simulator's default company holds (in-process look)."""
    company = server.sim.company(server.realm_id)
    return list(company.data[entity].values())


def link(company: str, local_type: str, local_id: str) -> dict[str, Any] | None:
    with Workspace() as ws:
        rows = list(
            ws.store.query(
                "SELECT * FROM qbo_links WHERE company = ? AND local_type = ? AND local_id = ?",
                [company, local_type, local_id],
            )
        )
        return rows[0] if rows else None
