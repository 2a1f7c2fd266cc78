"""`qbsync exceptions list|show|resolve`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.output import Page
from qbsync.errors import NotFoundError, UsageError
from qbsync.sync import exceptions as exc_mod
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

app = group("What the sync could not reconcile on its own, and its resolution.")


def _render_list(out: Console, rows: list[dict[str, Any]]) -> None:
    from qbsync.cli.render import cells, styled

    if not rows:
        out.print("no exceptions")
        return
    from rich.table import Table

    table = Table(title="exceptions")
    for column in ("id", "status", "kind", "subject", "message"):
        table.add_column(column, overflow="fold")
    for r in rows:
        color = {"open": "red", "resolved": "green", "dismissed": "dim"}[r["status"]]
        table.add_row(
            *cells(
                r["id"],
                styled(r["status"], color),
                r["title"],
                r["subject_label"] or f"{r['subject_type']} {r['subject_id']}",
                r["message"],
            )
        )
    out.print(table)


@command(app, "list", render=_render_list)
def list_(
    company: CompanyOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open ones.")] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind (e.g. drift_changed).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")
    ] = 100,
) -> Page:
    """List exceptions, newest first."""
    if kind and kind not in exc_mod.Kind._value2member_map_:
        raise UsageError(
            f"unknown kind {kind!r}", "kinds: " + ", ".join(k.value for k in exc_mod.Kind)
        )
    with Workspace() as ws:
        key = ws.company(company)[0] if company or ws.config.companies else None
        status = "open" if open_only else None
        rows = exc_mod.list_exceptions(ws.store, key, status=status, kind=kind, limit=limit)
        return Page(rows, exc_mod.count_exceptions(ws.store, key, status=status, kind=kind))


def _render_show(out: Console, data: dict[str, Any]) -> None:
    from qbsync.cli.render import key_value_table

    out.print(key_value_table(data, title=f"exception {data['id']}"))


@command(app, "show", render=_render_show)
def show(exception_id: Annotated[int, typer.Argument(metavar="ID")]) -> dict[str, Any]:
    """Everything about one exception: subject, QuickBooks id, what happened, how to resolve."""
    with Workspace() as ws:
        item = exc_mod.get(ws.store, exception_id)
        if item is None:
            raise NotFoundError(f"no exception {exception_id}", "list them: qbsync exceptions list")
        item["resolutions"] = [*exc_mod.RESOLUTIONS.get(exc_mod.Kind(item["kind"]), ()), "dismiss"]
        return item


@command(app, "resolve")
def resolve(
    exception_id: Annotated[int, typer.Argument(metavar="ID")],
    accept: Annotated[
        bool,
        typer.Option("--accept", help="Drift: keep QuickBooks' version (what is owed unchanged)."),
    ] = False,
    reexport: Annotated[
        bool, typer.Option("--reexport", help="Drift: send the ledger's version again now.")
    ] = False,
    retry: Annotated[bool, typer.Option("--retry", help="Queue the failed work again.")] = False,
    dismiss: Annotated[bool, typer.Option("--dismiss", help="Close it without action.")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Why, for the record.")] = None,
) -> dict[str, Any]:
    """Resolve an exception with one of --accept, --reexport, --retry or --dismiss."""
    chosen = [
        name
        for name, on in (
            ("accept", accept),
            ("reexport", reexport),
            ("retry", retry),
            ("dismiss", dismiss),
        )
        if on
    ]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --accept, --reexport, --retry, --dismiss")
    # The sync engine (and asyncio) only for a resolution: `list` and `show` read the store.
    from qbsync.sync.actions import resolve as resolve_exception

    with Workspace() as ws:
        return resolve_exception(ws, exception_id, chosen[0], note)
