"""The one output path. Commands return data; emit() renders it for people (rich) or as
`{"data": ...}`; fail() renders `{"error": {"code", "message", "hint"}}` or one line, and exits.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from qbsync.errors import EXIT_CODES, ErrorCode
from qbsync.redact import redact


@dataclass
class OutputMode:
    json: bool = False
    quiet: bool = False


MODE = OutputMode()


def console(stderr: bool = False) -> Console:
    # Built per call: tests swap stdout, and NO_COLOR / terminal detection must be re-read.
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def can_prompt() -> bool:
    """Prompts only for a person at a terminal: never under --json, cron or a pipe."""
    return not MODE.json and sys.stdin.isatty()


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: money never passes through float
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def to_json(payload: Any) -> str:
    return json.dumps(payload, default=json_default, ensure_ascii=False)


Renderer = Callable[[Console, Any], None]


@dataclass
class Outcome:
    """What a command returns when it must exit non-zero after showing its data
    (doctor with a failed check, a sync cycle that was aborted)."""

    data: Any
    exit_code: int


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping | list):
        return to_json(value)
    return str(value)


def key_value_table(data: Mapping[str, Any], title: str | None = None) -> Table:
    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(str(key), _cell(value))
    return table


def rows_table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> Table:
    table = Table(title=title)
    columns = list(rows[0].keys()) if rows else []
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


def default_render(out: Console, data: Any) -> None:
    if isinstance(data, str):
        out.print(data, markup=False)
    elif isinstance(data, Mapping):
        out.print(key_value_table(data))
    elif isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        if data:
            out.print(rows_table(data))
        else:
            out.print("nothing to show")
    else:
        out.print(_cell(data), markup=False)


def emit(data: Any, render: Renderer | None = None) -> None:
    if MODE.json:
        typer.echo(to_json({"data": data}))
    elif not MODE.quiet:
        (render or default_render)(console(), data)


def fail(code: ErrorCode, message: str, hint: str | None = None) -> NoReturn:
    message = redact(message)
    hint = redact(hint) if hint else None
    if MODE.json:
        typer.echo(to_json({"error": {"code": code.value, "message": message, "hint": hint}}))
    else:
        err = console(stderr=True)
        err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
        if hint:
            err.print(f"[dim]hint:[/] {hint}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_CODES[code])


def note(message: str) -> None:
    """A human progress line on stderr; silent with --quiet or --json."""
    if not MODE.quiet and not MODE.json:
        console(stderr=True).print(message, markup=False, highlight=False)
