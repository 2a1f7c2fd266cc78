"""`qbsync mappings list|set|delete|import|export|check`: ledger ids to QuickBooks ids."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.confirm import YesOption, confirm
from qbsync.cli.dataout import write_data
from qbsync.cli.output import MODE, Outcome, Page, holds_any_text
from qbsync.errors import ExitCode, NotFoundError, UsageError
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

app = group(
    "Map services, tax regions, terms, clients, payment methods, the deposit and discount "
    "accounts and the default class and department to QuickBooks."
)

KindArg = Annotated[
    str,
    typer.Argument(
        help="items, tax_codes, terms, customers, payment_methods, accounts or defaults."
    ),
]
SHOWN = 20


def _source(ws: Workspace, company: str) -> Any:
    from qbsync.mappings import live

    return live.open_source(ws, company)


def _render_list(out: Console, data: list[dict[str, Any]]) -> None:
    from qbsync.cli.render import rows_table

    if not data:
        out.print("no mappings yet (qbsync mappings set, or mappings import FILE)")
        return
    out.print(rows_table(data))


@command(app, "list", render=_render_list)
def list_(
    kind: Annotated[str | None, typer.Argument(help="Only this kind.")] = None,
    company: CompanyOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 1000,
) -> Page:
    """List the mappings (of one kind)."""
    from qbsync.mappings.kinds import kind as check_kind
    from qbsync.mappings.store import list_mappings

    if kind is not None:
        check_kind(kind)
    with Workspace() as ws:
        key, _ = ws.company(company)
        return Page.of([m.as_dict() for m in list_mappings(ws.store, key, kind)], limit)


def _render_diff(out: Console, data: dict[str, Any]) -> None:
    sections = (("added", "+"), ("changed", "~"), ("removed", "-"))
    for name, mark in sections:
        items = data[name]
        for item in items[:SHOWN]:
            target = f"{item['qbo_id']}" + (f" ({item['qbo_name']})" if item["qbo_name"] else "")
            before = (
                f"{item['old_qbo_id']} -> " if name == "changed" and "old_qbo_id" in item else ""
            )
            out.print(f"{mark} {item['kind']} {item['local_id']}: {before}{target}", markup=False)
        if len(items) > SHOWN:
            out.print(f"  ... and {len(items) - SHOWN} more {name}", markup=False)
    counts = ", ".join(f"{len(data[n])} {n}" for n, _ in sections)
    if not (data["added"] or data["changed"] or data["removed"]):
        out.print(f"no changes: already up to date ({data['unchanged']} unchanged)", markup=False)
    elif data["dry_run"]:
        out.print(f"dry run, nothing written: {counts}, {data['unchanged']} unchanged")
    else:
        out.print(f"{data['company']}: {counts}, {data['unchanged']} unchanged", markup=False)


@command(app, "set", render=_render_diff)
def set_(
    kind: KindArg,
    local: Annotated[
        str, typer.Argument(help="The ledger id (or deposit, discount, class, department).")
    ],
    qbo: Annotated[str, typer.Argument(help="A QuickBooks id, or a name to look up.")],
    company: CompanyOption = None,
    by_name: Annotated[
        bool, typer.Option("--name", help="QBO is a name, even if it looks like an id.")
    ] = False,
    by_id: Annotated[bool, typer.Option("--id", help="QBO is an id: no lookup.")] = False,
) -> dict[str, Any]:
    """Map one local id to a QuickBooks record.

    QBO is taken as an id when it is all digits (or TAX/NON for tax_codes), otherwise as a
    name resolved against the company's QuickBooks list (needs a connection). An unknown or
    ambiguous name is an error listing the closest candidates.
    """
    from qbsync.mappings.ops import set_mapping

    if by_name and by_id:
        raise UsageError("--name and --id exclude each other")
    with Workspace() as ws:
        key, _ = ws.company(company)
        by: Literal["auto", "id", "name"] = "name" if by_name else "id" if by_id else "auto"
        return set_mapping(ws.store, key, kind, local, qbo, _source(ws, key), by=by)


@command(app, "delete")
def delete(
    kind: KindArg,
    local: Annotated[
        str, typer.Argument(help="The ledger id (or deposit, discount, class, department).")
    ],
    company: CompanyOption = None,
    yes: YesOption = False,
) -> dict[str, Any]:
    """Remove one mapping."""
    from qbsync.mappings.kinds import kind as check_kind
    from qbsync.mappings.store import delete_mapping

    check_kind(kind)
    with Workspace() as ws:
        key, _ = ws.company(company)
        confirm(f"delete the {kind} mapping of {local} in {key}", yes)
        old = delete_mapping(ws.store, key, kind, local)
    if old is None:
        raise NotFoundError(f"no {kind} mapping for {local!r} in {key}")
    return {"company": key, "removed": old.as_dict()}


@command(app, "import", render=_render_diff)
def import_(
    file: Annotated[Path, typer.Argument(help="A mappings YAML file.")],
    company: CompanyOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff; write nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Remove mappings of the kinds in the file that the file leaves out."
        ),
    ] = False,
) -> dict[str, Any]:
    """Import mappings from YAML: validated and resolved in full, then written in one go.

    Shows what is added, changed and (with --prune) removed; a second import of the same file
    changes nothing. --company wins over the file's company:.
    """
    from qbsync.mappings import yamlio
    from qbsync.mappings.ops import import_mappings

    mfile = yamlio.read(file)
    with Workspace() as ws:
        key, _ = ws.company(company or mfile.company)
        out = import_mappings(ws.store, key, mfile, _source(ws, key), prune=prune, dry_run=dry_run)
    return {"file": str(file), **out}


@command(app, "export")
def export(
    file: Annotated[Path | None, typer.Argument(help="Write here (default: stdout).")] = None,
    company: CompanyOption = None,
) -> Any:
    """Write the mappings as YAML that `mappings import` reads back unchanged."""
    from qbsync.mappings import yamlio
    from qbsync.mappings.store import list_mappings

    with Workspace() as ws:
        key, _ = ws.company(company)
        mappings = list_mappings(ws.store, key)
    if file is not None:
        text = yamlio.dump(key, mappings)
        try:
            file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{file}: cannot write: {exc.strerror}") from None
        return {"company": key, "file": str(file), "count": len(mappings)}
    if MODE.json:
        return {"company": key, "yaml": yamlio.dump(key, mappings), "count": len(mappings)}
    # YAML, like JSON, can say any character in ASCII: an output that cannot hold UTF-8 gets
    # its escapes, which `mappings import` reads back as the same text.
    write_data(yamlio.dump(key, mappings, ascii_only=not holds_any_text(sys.stdout)), "yaml")
    return None


def _render_check(out: Console, data: dict[str, Any]) -> None:
    from qbsync.cli.render import rows_table

    for note in data.get("notes", []):
        shown = ", ".join(note["invoices"][:5]) + (" ..." if len(note["invoices"]) > 5 else "")
        out.print(f"note: {note['note']} (invoices {shown})", markup=False)
    if not data["missing"]:
        out.print(
            f"{data['company']}: every invoice waiting for export is fully mapped", markup=False
        )
        return
    rows = [
        {
            "kind": m["kind"],
            "local_id": m["local_id"],
            "name": m["name"],
            "invoices": ", ".join(m["invoices"][:5]) + (" ..." if len(m["invoices"]) > 5 else ""),
        }
        for m in data["missing"]
    ]
    out.print(rows_table(rows, title=f"{data['company']}: missing mappings"))
    out.print("map them with `qbsync mappings set KIND LOCAL QBO` (or mappings import)")


@command(app, "check", render=_render_check)
def check(company: CompanyOption = None) -> Outcome:
    """List the services, tax regions, terms and clients that finalized, not yet exported
    invoices use and that have no mapping. Exits 1 when any are missing.

    Notes (which fail nothing) say where a default is used, such as QuickBooks' default
    discount account when no discount account is mapped."""
    from qbsync.views.mappings_check import mapping_notes, missing_mappings

    with Workspace() as ws:
        key, _ = ws.company(company)
        missing = missing_mappings(ws.store, key)
        notes = mapping_notes(ws.store, key)
    code = ExitCode.FAILED if missing else ExitCode.OK
    return Outcome({"company": key, "missing": missing, "notes": notes}, code)
