"""The Intuit app a company connects through: its client id on the company's row, its client
secret in the secrets store (never in SQLite or config)."""

from __future__ import annotations

from qbsync.companies import records
from qbsync.companies.config_entry import ensure_company
from qbsync.errors import NotFoundError, UsageError
from qbsync.workspace import Workspace


def client_secret_name(company: str) -> str:
    """The secrets store's name for a company's app client secret."""
    return f"{company}/client_secret"


def app_credentials(ws: Workspace, key: str) -> tuple[str, str]:
    """(client_id, client_secret) of the Intuit app this company connects through."""
    row = records.get_row(ws.store, key)
    client_id = row["client_id"] if row else None
    secret = ws.secrets.get(client_secret_name(key))
    if not client_id or not secret:
        raise NotFoundError(
            f"no Intuit app credentials for company {key!r}",
            f"run `qbsync app set --company {key} --client-id ID` with the secret on stdin",
        )
    return client_id, secret


def has_client_secret(ws: Workspace, key: str) -> bool:
    return ws.secrets.get(client_secret_name(key)) is not None


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
    records.upsert_row(ws.store, key, settings.environment, client_id=client_id.strip())


def forget_app_credentials(ws: Workspace, key: str) -> bool:
    had = has_client_secret(ws, key)
    ws.secrets.delete(client_secret_name(key))
    if records.get_row(ws.store, key) is not None:
        records.update_row(ws.store, key, client_id=None)
    return had
