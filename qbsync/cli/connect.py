"""`qbsync connect` and `qbsync disconnect`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command
from qbsync.cli.confirm import YesOption, confirm
from qbsync.cli.output import can_prompt
from qbsync.companies import connection
from qbsync.companies.config_entry import resolve_key
from qbsync.errors import UsageError
from qbsync.qbo.authorize import DEFAULT_TIMEOUT
from qbsync.workspace import Workspace


def _print_only(url: str) -> None:
    """--no-browser: the URL is already printed by the flow."""


def _notify(message: str) -> None:
    # Always, on plain stderr and never wrapped: without the authorize URL (under --json or
    # --quiet too) the flow cannot finish, and it must survive copy and paste.
    typer.echo(message, err=True)


def _prompt(label: str) -> str:
    return str(typer.prompt(label))


def register(root: typer.Typer) -> None:
    @command(root, "connect")
    def connect(
        company: CompanyOption = None,
        env: Annotated[
            str | None,
            typer.Option("--env", help="production, sandbox or sim (default: as configured)."),
        ] = None,
        sim_url: Annotated[
            str | None, typer.Option("--sim-url", help="The simulator's URL, with --env sim.")
        ] = None,
        no_browser: Annotated[
            bool, typer.Option("--no-browser", help="Print the URL instead of opening it.")
        ] = False,
        port: Annotated[
            int, typer.Option("--port", help="Listener port on 127.0.0.1 (0: any free port).")
        ] = 0,
        redirect_uri: Annotated[
            str | None,
            typer.Option(
                "--redirect-uri",
                help="Your app's registered HTTPS redirect URI (production keys): paste the "
                "URL the browser lands on.",
            ),
        ] = None,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds to wait for the browser.")
        ] = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Connect (or reconnect) a QuickBooks company through Intuit's consent page.

        Needs the app's credentials first: `qbsync app set --company KEY --client-id ID`.
        A listener on 127.0.0.1 receives the answer; production keys, which cannot redirect to
        localhost, use --redirect-uri and a paste-back.
        """
        if env is not None and env not in ("production", "sandbox", "sim"):
            raise UsageError(f"unknown environment {env!r}", "use production, sandbox or sim")
        if not 0 <= port <= 65535:
            raise UsageError(f"--port {port} is not a port number")
        with Workspace() as ws:
            key = resolve_key(ws, company)
            return connection.connect_company(
                ws,
                key,
                env,
                sim_url,
                port=port,
                timeout=timeout,
                redirect_uri=redirect_uri,
                open_url=_print_only if no_browser else None,
                notify=_notify,
                read_pasted=_prompt if can_prompt() else None,
            )

    @command(root, "disconnect")
    def disconnect(company: CompanyOption = None, yes: YesOption = False) -> dict[str, Any]:
        """Revoke and delete a company's tokens. App credentials, mappings and history stay."""
        with Workspace() as ws:
            key, _ = ws.company(company)
            confirm(f"disconnect {key} (revoke its QuickBooks grant, delete its tokens)", yes)
            return connection.disconnect_company(ws, key)
