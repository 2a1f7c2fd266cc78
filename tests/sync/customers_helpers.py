"""Helpers shared by the customer and settings tests."""

from __future__ import annotations

from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.sync.helpers import set_mapping, sim_docs


def map_item(company: ConnectedCompany) -> str:
    """Map service S-SUP to the simulator's "Support Plan" item; its id."""
    [item] = [d["Id"] for d in sim_docs(company.server, "Item") if d["Name"] == "Support Plan"]
    with Workspace() as ws:
        set_mapping(ws, company.key, "items", "S-SUP", str(item), "Support Plan")
    return str(item)
