"""Removing a company from this machine: what `qbsync companies remove` does, and what it keeps.

Removed: the company's entry in config.yaml (the default moves to the only company left, or is
cleared), its tokens (revoked at Intuit first, when it answers) and its app's client secret in
the secrets store, and its client id. Kept: the ledger, and the sync state recorded under the
key (links to QuickBooks documents, mappings, cycles, exceptions), with the companies row that
says which QuickBooks company the key was bound to, so that the key can be connected again to
that company only and the kept links never point into another one.
"""

from __future__ import annotations

from typing import Any

from qbsync.companies import records
from qbsync.companies.connection import disconnect_company
from qbsync.companies.credentials import client_secret_name
from qbsync.workspace import Workspace

REMOVES = (
    "its entry in config.yaml",
    "its tokens (revoked at Intuit)",
    "its app's client id and secret",
)
KEEPS = (
    "the ledger",
    "its sync history, links and mappings (the key stays bound to its QuickBooks company)",
)


def remove_company(ws: Workspace, key: str) -> dict[str, Any]:
    key, _ = ws.company(key)
    disconnected = disconnect_company(ws, key)
    ws.secrets.delete(client_secret_name(key))
    if records.get_row(ws.store, key) is not None:
        records.update_row(ws.store, key, client_id=None)
    cfg = ws.config
    companies = {k: v for k, v in cfg.companies.items() if k != key}
    default = cfg.default_company
    note = None
    if default == key:
        default = next(iter(companies)) if len(companies) == 1 else None
        note = (
            f"{key} was the default company; the default is now {default}"
            if default
            else f"{key} was the default company; there is no default now "
            "(choose one with `qbsync companies use KEY`)"
        )
    ws.save_config(cfg.model_copy(update={"companies": companies, "default_company": default}))
    result: dict[str, Any] = {
        "company": key,
        "removed": list(REMOVES),
        "kept": list(KEEPS),
        "revoked": disconnected["revoked"],
        "default_company": default,
    }
    if note:
        result["note"] = note
    return result
