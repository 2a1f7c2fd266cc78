"""`qbsync companies list|show|use|remove`: connections and their non-secret metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync.cli.command import command, group
from qbsync.cli.confirm import YesOption, confirm
from qbsync.cli.output import Page
from qbsync.companies import records
from qbsync.companies.credentials import has_client_secret
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

app = group("Connected QuickBooks companies and the default one.")


def _state(row: dict[str, Any]) -> str:
    if not row.get("connected"):
        return "disconnected"
    return "reconnect needed" if row.get("needs_reconnect") else "connected"


def _describe(ws: Workspace, key: str) -> dict[str, Any]:
    settings = ws.config.companies.get(key)
    row = records.get_row(ws.store, key) or {}
    return {
        "key": key,
        "name": row.get("name"),
        "realm_id": row.get("realm_id"),
        "environment": row.get("environment") or (settings.environment if settings else None),
        "state": _state(row),
        "connected": bool(row.get("connected")),
        "needs_reconnect": bool(row.get("needs_reconnect")),
        "default": ws.config.default_company == key,
        "access_expires_at": row.get("access_expires_at"),
        "refresh_expires_at": row.get("refresh_expires_at"),
        "last_refresh_at": row.get("last_refresh_at"),
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
    }


def _render_list(out: Console, data: list[dict[str, Any]]) -> None:
    from qbsync.cli.render import rows_table

    # A terminal gets the columns a person scans; --json has every field.
    if not data:
        out.print("no company yet: qbsync app set --company KEY ..., then qbsync connect")
        return
    rows = [
        {
            "key": f"{c['key']} *" if c["default"] else c["key"],
            "name": c["name"],
            "realm": c["realm_id"],
            "env": c["environment"],
            "state": c["state"],
            "access until": c["access_expires_at"],
            "last refresh": c["last_refresh_at"],
        }
        for c in data
    ]
    out.print(rows_table(rows, title="companies (* default)"))


@command(app, "list", render=_render_list)
def list_(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 1000,
) -> Page:
    """Every company: key, name, realm, environment, connection state, expiries."""
    with Workspace() as ws:
        # A removed company's row stays (its sync state is kept) but is not listed.
        rows = records.all_rows(ws.store)
        keys = sorted(set(ws.config.companies) | {r["key"] for r in rows if r["connected"]})
        return Page.of([_describe(ws, key) for key in keys], limit)


@command(app, "show")
def show(
    key: Annotated[str | None, typer.Argument(help="Company key (default: the default).")] = None,
) -> dict[str, Any]:
    """One company's metadata (no secrets)."""
    with Workspace() as ws:
        key, settings = ws.company(key)
        row = records.get_row(ws.store, key) or {}
        return {
            **_describe(ws, key),
            "sim_url": settings.sim_url,
            "refresh_hard_expires_at": row.get("refresh_hard_expires_at"),
            "connected_at": row.get("connected_at"),
            "client_id": row.get("client_id"),
            "client_secret": "stored" if has_client_secret(ws, key) else "missing",
        }


@command(app, "use")
def use(key: Annotated[str, typer.Argument(help="Company key to make the default.")]) -> dict:
    """Make a company the default for every command."""
    with Workspace() as ws:
        key, _ = ws.company(key)
        ws.save_config(ws.config.model_copy(update={"default_company": key}))
        return {"default_company": key}


def _render_remove(out: Console, data: dict[str, Any]) -> None:
    out.print(f"removed company {data['company']}: {', '.join(data['removed'])}", markup=False)
    out.print(f"kept: {', '.join(data['kept'])}", markup=False)
    if data.get("note"):
        out.print(data["note"], markup=False)


@command(app, "remove", render=_render_remove)
def remove(
    key: Annotated[str, typer.Argument(help="Company key to remove.")],
    yes: YesOption = False,
) -> dict[str, Any]:
    """Remove a company from this machine, after confirmation.

    Removes its entry in config.yaml, its tokens (revoked at Intuit first) and its app's client
    id and secret. Keeps the ledger and the company's sync history, links and mappings: the key
    stays bound to its QuickBooks company, and connecting it again picks them up. When it was
    the default, the only company left becomes the default, or there is none; it says which.
    """
    from qbsync.companies.removal import KEEPS, REMOVES, remove_company

    with Workspace() as ws:
        key, _ = ws.company(key)
        confirm(f"remove company {key}: {', '.join(REMOVES)}; keep {' and '.join(KEEPS)}", yes)
        return remove_company(ws, key)
