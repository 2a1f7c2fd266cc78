"""`qbsync token`: print a valid access token, for scripts and other tools."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command
from qbsync.cli.render import Console
from qbsync.companies import records
from qbsync.companies.session import run
from qbsync.companies.tokens import CompanyTokens
from qbsync.workspace import Workspace


def _render(out: Console, data: dict[str, Any]) -> None:
    # Bare, unwrapped, on stdout: `$(qbsync token)` must give exactly the token.
    typer.echo(data["access_token"])


def register(root: typer.Typer) -> None:
    @command(root, "token", render=_render)
    def token(
        company: CompanyOption = None,
        refresh: Annotated[
            bool, typer.Option("--refresh", help="Refresh now, even if not near expiry.")
        ] = False,
    ) -> dict[str, Any]:
        """Print a valid access token, refreshed first when it expires within 5 minutes.

        --json adds the company, realm id, expiries, last refresh and environment.
        """
        with Workspace() as ws:
            key, settings = ws.company(company)
            records.require_connected(ws.store, key)
            tokens = CompanyTokens(ws, key)
            if refresh:
                current = run(tokens.refresh(force=True))
            else:
                run(tokens.access_token())
                current = tokens.current()
            row = records.get_row(ws.store, key) or {}
            return {
                "company": key,
                "name": row.get("name"),
                "realm_id": current.realm_id,
                "environment": settings.environment,
                "access_token": current.access_token,
                "access_expires_at": current.access_expires_at,
                "refresh_expires_at": current.refresh_expires_at,
                "refresh_hard_expires_at": current.refresh_hard_expires_at,
                "last_refresh_at": row.get("last_refresh_at"),
            }
