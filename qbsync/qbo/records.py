"""A company's non-secret records: its config entry, its `companies` row, its app credentials.

The row holds what people and doctor look at (name, realm, expiries); the tokens and the client
secret live in the secrets store under `tokens_name` and `client_secret_name`.
"""

from __future__ import annotations

from typing import Any

from qbsync.config import CompanySettings
from qbsync.errors import NotFoundError, ReconnectRequired, UsageError
from qbsync.secrets import client_secret_name
from qbsync.timeutil import utc_now_iso
from qbsync.workspace import Workspace

ROW_FIELDS = (
    "key",
    "name",
    "realm_id",
    "environment",
    "connected",
    "needs_reconnect",
    "client_id",
    "access_expires_at",
    "refresh_expires_at",
    "refresh_hard_expires_at",
    "last_refresh_at",
    "connected_at",
    "created_at",
    "updated_at",
)


def get_row(ws: Workspace, key: str) -> dict[str, Any] | None:
    cursor = ws.store.execute("SELECT * FROM companies WHERE key = ?", [key])
    found = cursor.fetchone()
    if found is None:
        return None
    return dict(zip([c[0] for c in cursor.description], found, strict=True))


def all_rows(ws: Workspace) -> list[dict[str, Any]]:
    cursor = ws.store.execute("SELECT * FROM companies ORDER BY key")
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def upsert_row(ws: Workspace, key: str, environment: str, **fields: Any) -> None:
    """Create the row when missing, then set `fields` (and updated_at)."""
    unknown = set(fields) - set(ROW_FIELDS)
    if unknown:
        raise ValueError(f"unknown companies columns: {sorted(unknown)}")
    now = utc_now_iso()
    with ws.store.conn:
        ws.store.execute(
            "INSERT OR IGNORE INTO companies (key, environment, created_at, updated_at) "
            "VALUES (?, ?, ?, ?)",
            [key, environment, now, now],
        )
        values = {"environment": environment, **fields, "updated_at": now}
        assignments = ", ".join(f"{name} = ?" for name in values)
        ws.store.execute(
            f"UPDATE companies SET {assignments} WHERE key = ?", [*values.values(), key]
        )


def update_row(ws: Workspace, key: str, **fields: Any) -> None:
    unknown = set(fields) - set(ROW_FIELDS)
    if unknown:
        raise ValueError(f"unknown companies columns: {sorted(unknown)}")
    values = {**fields, "updated_at": utc_now_iso()}
    assignments = ", ".join(f"{name} = ?" for name in values)
    with ws.store.conn:
        ws.store.execute(
            f"UPDATE companies SET {assignments} WHERE key = ?", [*values.values(), key]
        )


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


def app_credentials(ws: Workspace, key: str) -> tuple[str, str]:
    """(client_id, client_secret) of the Intuit app this company connects through."""
    row = get_row(ws, key)
    client_id = row["client_id"] if row else None
    secret = ws.secrets.get(client_secret_name(key))
    if not client_id or not secret:
        raise NotFoundError(
            f"no Intuit app credentials for company {key!r}",
            f"run `qbsync app set --company {key} --client-id ID` with the secret on stdin",
        )
    return client_id, secret


def require_connected(ws: Workspace, key: str) -> dict[str, Any]:
    row = get_row(ws, key)
    hint = f"run `qbsync connect --company {key}`"
    if row is None or not row["connected"] or not row["realm_id"]:
        raise ReconnectRequired(f"company {key!r} is not connected", hint)
    if row["needs_reconnect"]:
        raise ReconnectRequired(f"company {key!r} needs reconnecting (its grant was refused)", hint)
    return row


def set_app_credentials(
    ws: Workspace,
    key: str,
    client_id: str,
    client_secret: str,
    environment: str | None = None,
    sim_url: str | None = None,
) -> None:
    """Record the Intuit app a company connects through: the id on its row, the secret in the
    secrets store."""
    if not client_id.strip() or not client_secret.strip():
        raise UsageError("the client id and the client secret must not be empty")
    secrets = ws.secrets  # fails first when no secrets store works: nothing half-written
    settings = ensure_company(ws, key, environment, sim_url)
    secrets.set(client_secret_name(key), client_secret.strip())
    upsert_row(ws, key, settings.environment, client_id=client_id.strip())


def forget_app_credentials(ws: Workspace, key: str) -> bool:
    had = ws.secrets.get(client_secret_name(key)) is not None
    ws.secrets.delete(client_secret_name(key))
    if get_row(ws, key) is not None:
        update_row(ws, key, client_id=None)
    return had
