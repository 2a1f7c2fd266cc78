"""`qbsync qbo accounts|items|...`: live QuickBooks reference lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.output import Page
from qbsync.cli.render import Console, rows_table
from qbsync.companies.session import open_client, run
from qbsync.qbo.lists import LIST_KINDS, fetch_list
from qbsync.workspace import Workspace

app = group("Live QuickBooks reference lists (active records unless --all).")

AllFlag = Annotated[bool, typer.Option("--all", help="Include inactive records.")]
LimitOption = Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")]


def _row(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record.get("Id"),
        "name": record.get("FullyQualifiedName") or record.get("Name") or record.get("DisplayName"),
        "type": record.get("AccountType") or record.get("Type"),
        "active": record.get("Active", True),
    }


def _render(out: Console, data: list[dict[str, Any]]) -> None:
    if not data:
        out.print("nothing to show")
        return
    out.print(rows_table([_row(r) for r in data]))


def _fetch(company: str | None, entity: str, include_inactive: bool) -> list[dict[str, Any]]:
    with Workspace() as ws:

        async def go() -> list[dict[str, Any]]:
            async with open_client(ws, company) as client:
                return await fetch_list(client, entity, include_inactive)

        return run(go())


def _make(name: str, entity: str) -> Callable[..., Page]:
    def list_command(
        company: CompanyOption = None, all_: AllFlag = False, limit: LimitOption = 1000
    ) -> Page:
        return Page.of(_fetch(company, entity, all_), limit)

    list_command.__name__ = f"qbo_{name.replace('-', '_')}"
    list_command.__doc__ = (
        f"List the company's {name.replace('-', ' ')} ({entity}); --json gives QBO's objects."
    )
    return list_command


for _name, _entity in LIST_KINDS.items():
    command(app, _name, render=_render)(_make(_name, _entity))
