"""A company's entry in config.yaml: created or updated when a company is set up or connected.

Only what the user chose is written (the environment, the simulator's URL, the first company as
the default): defaults stay out of the file, so that later default changes still apply."""

from __future__ import annotations

import re

from qbsync.config import COMPANY_KEY_PATTERN, COMPANY_KEY_RULE, CompanySettings, Config
from qbsync.errors import UsageError
from qbsync.workspace import Workspace


def check_key(key: str) -> str:
    """A company key as config.yaml accepts it, else exit 2 with the rule."""
    if not re.match(COMPANY_KEY_PATTERN, key):
        raise UsageError(f"{key!r} is not a company key", COMPANY_KEY_RULE)
    return key


def company_entry(
    ws: Workspace, key: str, environment: str | None = None, sim_url: str | None = None
) -> tuple[CompanySettings, Config | None]:
    """The company's settings with `environment` and `sim_url` applied, and the config to save
    for them (None when config.yaml already says so). The first company becomes the default."""
    check_key(key)
    cfg = ws.config
    current = cfg.companies.get(key)
    settings = current.model_copy() if current else CompanySettings()
    if environment is not None and (current is None or environment != settings.environment):
        settings.environment = environment
    if sim_url is not None and sim_url.rstrip("/") != settings.sim_url:
        settings.sim_url = sim_url.rstrip("/")
    if settings.environment == "sim" and not settings.sim_url:
        raise UsageError(
            f"company {key!r} uses the simulator but has no simulator URL",
            "pass --sim-url URL (printed by `qbsync sim serve`)",
        )
    if current is not None and settings == current:
        return current, None
    updated = cfg.model_copy(update={"companies": {**cfg.companies, key: settings}})
    if updated.default_company is None:
        updated = updated.model_copy(update={"default_company": key})
    return settings, updated


def ensure_company(
    ws: Workspace, key: str, environment: str | None = None, sim_url: str | None = None
) -> CompanySettings:
    """The company's config entry, created or updated (environment, sim_url) and saved."""
    settings, updated = company_entry(ws, key, environment, sim_url)
    if updated is not None:
        ws.save_config(updated)
    return settings


def resolve_key(ws: Workspace, key: str | None) -> str:
    """A company key for commands that may create the company: the given one, else the config's."""
    if key is not None:
        return check_key(key)
    return ws.company(None)[0]
