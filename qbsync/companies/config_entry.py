"""A company's entry in config.yaml: created or updated when a company is set up or connected."""

from __future__ import annotations

from qbsync.config import CompanySettings
from qbsync.errors import UsageError
from qbsync.workspace import Workspace


def ensure_company(
    ws: Workspace, key: str, environment: str | None = None, sim_url: str | None = None
) -> CompanySettings:
    """The company's config entry, created or updated (environment, sim_url); the first company
    becomes the default."""
    cfg = ws.config
    current = cfg.companies.get(key)
    settings = current.model_copy() if current else CompanySettings()
    if environment is not None:
        settings.environment = environment  # type: ignore[assignment]
    if sim_url is not None:
        settings.sim_url = sim_url.rstrip("/")
    if settings.environment == "sim" and not settings.sim_url:
        raise UsageError(
            f"company {key!r} uses the simulator but has no simulator URL",
            "pass --sim-url URL (printed by `qbsync sim serve`)",
        )
    if current is not None and settings == current:
        return current
    companies = {**cfg.companies, key: settings}
    updated = cfg.model_copy(update={"companies": companies})
    if updated.default_company is None:
        updated = updated.model_copy(update={"default_company": key})
    # model_copy skips validation: round-trip through the model so the key pattern is checked.
    ws.save_config(type(cfg).model_validate(updated.model_dump()))
    return ws.config.companies[key]


def resolve_key(ws: Workspace, key: str | None) -> str:
    """A company key for commands that may create the company: the given one, else the config's."""
    if key is not None:
        return key
    return ws.company(None)[0]
