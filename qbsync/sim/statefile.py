"""The state file: the simulator's settings and companies in its store (written where they
changed, read back on start), and the JSON state files written before the store, read once and
converted (the JSON file is kept as FILE.json-old).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qbsync.sim.company import Company
from qbsync.sim.storage import SCHEMA_VERSION, is_sqlite
from qbsync.sim.values import state_loads

if TYPE_CHECKING:
    from qbsync.sim.core import Simulator

STATE_VERSION = 1  # the JSON state files written before the store
OLD_SUFFIX = ".json-old"


def write_settings(sim: Simulator) -> None:
    """Write the simulator's settings and each company's row where they changed."""
    values: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "seed": sim.seed,
        "admin_key": sim.admin_key,
        "client_id": sim.app.client_id,
        "default_realm": sim.default_realm,
        "clock_offset": sim.clock.offset,
        "oauth": sim.oauth.to_state(sim.clock.timestamp()),
    }
    for key, value in values.items():
        text = json.dumps(value, sort_keys=True)
        if sim._written.get(key) != text:
            sim.store.put_meta(key, value)
            sim._written[key] = text
    for rid, c in sim.companies.items():
        settings = c.settings()
        text = json.dumps(settings, sort_keys=True)
        if sim._written.get(f"company:{rid}") != text:
            sim.store.put_company(rid, settings)
            sim._written[f"company:{rid}"] = text


def open_store(sim: Simulator) -> None:
    """A state file in the store's format: only the settings and companies' rows are read;
    objects are read when used."""
    meta = sim.store.get_meta()
    if meta.get("version") != SCHEMA_VERSION:
        raise ValueError(f"{sim.state_file}: unsupported simulator state version")
    sim.seed = meta.get("seed", sim.seed)
    sim.admin_key = meta["admin_key"]
    sim.clock.set_offset(float(meta.get("clock_offset", 0.0)))
    sim.oauth.load_state(meta["oauth"])
    sim.app = sim.oauth.apps[meta["client_id"]]
    sim.companies = {
        rid: Company.open(sim.store, rid, settings, sim.clock)
        for rid, settings in sim.store.company_states()
    }
    sim.default_realm = meta["default_realm"]


def old_state(path: Path) -> dict[str, Any] | None:
    """A JSON state file (written before the store): read once, kept beside as
    FILE.json-old, and converted into FILE. None when FILE is new or already converted."""
    if not path.exists() or path.stat().st_size == 0 or is_sqlite(path):
        return None
    state: dict[str, Any] = state_loads(path.read_text())
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: unsupported simulator state version")
    os.replace(path, path.with_name(path.name + OLD_SUFFIX))
    return state


def load_old(sim: Simulator, state: dict[str, Any]) -> None:
    """A simulator from a JSON state (written before the store), into its store."""
    sim.seed = state.get("seed", sim.seed)
    sim.admin_key = state["admin_key"]
    sim.clock.set_offset(float(state.get("clock_offset", 0.0)))
    sim.oauth.load_state(state["oauth"])
    sim.app = sim.oauth.apps[state["client_id"]]
    sim.companies = {}
    for cs in state["companies"]:
        c = Company.from_state(cs, sim.clock, sim.store)
        sim.companies[c.realm_id] = c
    sim.default_realm = state["default_realm"]
