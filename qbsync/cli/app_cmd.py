"""`qbsync app set|show|forget`: the Intuit app (client id and secret) a company connects with."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.confirm import YesOption, confirm
from qbsync.cli.output import can_prompt
from qbsync.companies import credentials, records
from qbsync.companies.config_entry import resolve_key
from qbsync.errors import UsageError
from qbsync.workspace import Workspace

app = group("The Intuit app's client id and secret, per company (the secret goes to the keyring).")

EnvOption = Annotated[
    str | None,
    typer.Option("--env", help="production, sandbox or sim (kept in config for connect)."),
]


def _read_secret() -> str:
    if sys.stdin.isatty():
        if not can_prompt():
            raise UsageError("the client secret is read from stdin; pipe it in")
        return str(typer.prompt("Client secret", hide_input=True))
    return sys.stdin.readline().strip()


@command(app, "set")
def set_(
    client_id: Annotated[str, typer.Option("--client-id", help="The app's client id.")],
    company: CompanyOption = None,
    env: EnvOption = None,
    sim_url: Annotated[
        str | None, typer.Option("--sim-url", help="The simulator's URL (with --env sim).")
    ] = None,
) -> dict[str, Any]:
    """Store the app's credentials for a company. The secret is read from stdin (or a hidden
    prompt at a terminal), never from an argument."""
    if env is not None and env not in ("production", "sandbox", "sim"):
        raise UsageError(f"unknown environment {env!r}", "use production, sandbox or sim")
    with Workspace() as ws:
        key = resolve_key(ws, company)
        secret = _read_secret()
        if not secret:
            raise UsageError("no client secret on stdin", "pipe it in: ... | qbsync app set ...")
        credentials.set_app_credentials(ws, key, client_id, secret, env, sim_url)
        return {"company": key, "client_id": client_id.strip(), "client_secret": "stored"}


@command(app, "show")
def show(company: CompanyOption = None) -> dict[str, Any]:
    """Show the app's client id, and whether a secret is stored (never the secret)."""
    with Workspace() as ws:
        key, settings = ws.company(company)
        row = records.get_row(ws.store, key) or {}
        has_secret = credentials.has_client_secret(ws, key)
        return {
            "company": key,
            "environment": settings.environment,
            "client_id": row.get("client_id"),
            "client_secret": "stored" if has_secret else "missing",
        }


@command(app, "forget")
def forget(company: CompanyOption = None, yes: YesOption = False) -> dict[str, Any]:
    """Delete the app's credentials for a company (the connection's tokens stay until
    `qbsync disconnect`, but cannot be refreshed without them)."""
    with Workspace() as ws:
        key, _ = ws.company(company)
        confirm(f"forget the Intuit app credentials of {key}", yes)
        had = credentials.forget_app_credentials(ws, key)
        return {"company": key, "forgotten": had}
