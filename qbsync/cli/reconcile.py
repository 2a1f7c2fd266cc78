"""`qbsync reconcile`: the ledger held against QuickBooks, to the cent (reads only)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from qbsync.cli.command import CompanyOption, command
from qbsync.cli.dataout import write_data
from qbsync.cli.output import MODE, Outcome
from qbsync.errors import ExitCode
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from rich.text import Text

    from qbsync.cli.render import Console

_SHOWN = ("number", "ledger_id", "qbo_id", "differences")
_MONEY_ONLY = ("payment", "credit_application")  # compared on amount, customer, currency
_STYLE = {"differs": "yellow", "not_linked": "yellow"}


def _text(value: Any) -> Text:
    """A cell: user data is shown as written (Text, so no markup in it is ever run)."""
    from rich.text import Text

    if value is None:
        return Text("-")
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value) or "-")
    return Text(str(value))


def _receivables(summary: dict[str, Any]) -> list[tuple[str, bool]]:
    """A line per currency the receivables are in, and one in the home currency when there
    are several (each document at its own rate); with whether the two sides agree."""

    def figure(value: Any) -> str:
        return "unknown" if value is None else str(value)

    per = summary.get("receivables") or {}
    home = summary.get("home_currency")
    lines = [
        (
            f"receivables in {code}: ledger {figure(r['ledger'])}, QuickBooks "
            f"{figure(r['quickbooks'])} (difference {figure(r['difference'])})",
            r["difference"] is not None and Decimal(str(r["difference"])) == 0,
        )
        for code, r in per.items()
    ]
    if set(per) - {home} or not per:
        mine, theirs = summary["ar_ledger"], summary["ar_quickbooks"]
        agree = mine is None or theirs is None or Decimal(str(mine)) == Decimal(str(theirs))
        lines.append(
            (
                f"receivables in {home} (home currency, each document at its rate): ledger "
                f"{figure(mine)}, QuickBooks {figure(theirs)} (difference "
                f"{figure(summary['ar_difference'])})",
                agree,
            )
        )
    return lines


def _render(out: Console, data: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    summary = data["summary"]
    out.print(
        Text(
            f"{data['company']}: {summary['compared']} compared, {summary['tied']} tied, "
            f"{summary['differing']} differing, {summary['missing_in_quickbooks']} missing in "
            f"QuickBooks, {summary['missing_in_ledger']} missing in the ledger"
        )
    )
    for line, agree in _receivables(summary):
        out.print(Text(line, style="" if agree else "yellow"))
    rows = [r for r in data["rows"] if r["outcome"] != "tied"]
    if not rows:
        if summary["ties"]:
            out.print(Text("everything ties", style="green"))
        else:
            out.print(Text("every document ties, but the receivables do not", style="red"))
        return
    table = Table()
    for column in ("kind", "outcome", *_SHOWN, "ledger", "QuickBooks", "note"):
        table.add_column(column)
    for row in rows:
        fields = row["differences"] or (
            ["total"] if row["kind"] in _MONEY_ONLY else ["total", "balance", "status"]
        )
        ledger = "\n".join(f"{f} {_text(row[f'ledger_{f}'])}" for f in fields)
        quickbooks = "\n".join(f"{f} {_text(row[f'qbo_{f}'])}" for f in fields)
        table.add_row(
            _text(row["kind"]),
            Text(row["outcome"], style=_STYLE.get(row["outcome"], "red")),
            *(_text(row[c]) for c in _SHOWN),
            Text(ledger),
            Text(quickbooks),
            _text(row["note"]),
        )
    out.print(table)


def register(root: typer.Typer) -> None:
    @command(root, "reconcile", render=_render)
    def reconcile(
        company: CompanyOption = None,
        fmt: Annotated[
            Literal["table", "csv"],
            typer.Option("--format", help="table (for people) or csv (one line per document)."),
        ] = "table",
    ) -> Outcome | None:
        """Hold every linked invoice, credit memo and payment against QuickBooks, to the cent.

        Compares total, tax, balance, status, customer and currency; lists QuickBooks documents
        qbsync does not know and ledger documents QuickBooks lost, and the receivables on both
        sides. Reads only. Exits 0 when everything ties, 1 when anything differs (for cron),
        2 on bad usage, 3 when the company needs reconnecting.
        """
        from qbsync.reconcile.report import as_csv, as_data
        from qbsync.reconcile.run import reconcile as run_reconcile

        with Workspace() as ws:
            report = run_reconcile(ws, company)
        code = ExitCode.OK if report.ties else ExitCode.FAILED
        if fmt == "csv" and not MODE.json:
            if not MODE.quiet:
                write_data(as_csv(report), "csv")
            if code:
                raise typer.Exit(code)
            return None
        return Outcome(as_data(report), code)
