"""Rendering for people: the rich console, tables and cells (see qbsync.cli.output for the
promises they keep). Imported only when something is shown in a terminal or a pipe as a table
or plain text."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from qbsync.cli.output import bytes_escaped, holds_any_text, to_json

__all__ = ["Console", "Text"]

_NO_LIMIT = 100_000  # columns: measure a table as if the line had no end


class _Console(Console):
    """A console that, when its output is not a terminal, prints each table at its natural
    width: a pipe has no width to fit, and a folded or ellipsized amount would be a lie.

    `plain` prints tables without box, title or colour, always at their natural width; a
    `caption` (a paged list's "showing N of M") goes under the first table printed."""

    plain = False
    caption: str | None = None

    def print(self, *objects: Any, **kwargs: Any) -> None:
        tables = [o for o in objects if isinstance(o, Table)]
        for table in tables:
            if self.caption and not self.plain and table.caption is None:
                table.caption, self.caption = Text(self.caption), None
            if self.plain:
                table.box, table.title, table.caption = None, None, None
                table.show_edge, table.pad_edge = False, False
        if (self.is_terminal and not self.plain) or not tables:
            super().print(*objects, **kwargs)
            return
        unbounded = self.options.update_width(_NO_LIMIT)
        natural = max(Measurement.get(self, unbounded, t).maximum for t in tables)
        width = self.width
        self.width = max(width, natural)  # print() never goes wider than the console
        try:
            super().print(*objects, **kwargs)
        finally:
            self.width = width


def console(stderr: bool = False, plain: bool = False) -> Console:
    # Built per call: tests swap stdout, and NO_COLOR / terminal detection must be re-read.
    # emoji=False: a name or memo that says `:warning:` is printed as written.
    if plain:
        out = _Console(stderr=stderr, color_system=None, highlight=False, emoji=False)
        out.plain = True
        return out
    return _Console(
        stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, emoji=False
    )


def safe(value: Any) -> str:
    """`value` as text escaped for rich markup: for user data inside an f-string with markup."""
    return escape(shown(str(value)))


def shown(text: str) -> str:
    """Text a person's output can hold: under an encoding that is not UTF-8 (a Latin-1 locale,
    PYTHONIOENCODING=ascii), what it lacks becomes an escape (\\u0141) before rich measures
    the cell, so the command neither fails nor misaligns its table. A byte of a file name that
    is not UTF-8 is shown \\xff, as in JSON, whatever the encoding."""
    if not text.isascii():
        text = bytes_escaped(text)
    if holds_any_text(sys.stdout):
        return text
    encoding = sys.stdout.encoding
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping | list):
        return to_json(value)
    return shown(str(value))


def _cell(value: Any) -> RenderableType:
    """A table cell: plain `Text`, so brackets in user data are shown, never read as markup."""
    if isinstance(value, Text):
        return value
    return Text(_text(value))


def cells(*values: Any, style: str = "") -> list[RenderableType]:
    """A table row of plain `Text` cells (`None` as "-"), for renderers that build their own."""
    return [
        value if isinstance(value, Text) else Text(_text(value), style=style) for value in values
    ]


def styled(value: Any, style: str) -> Text:
    """One cell or line of user data in a style, never read as markup."""
    return Text(_text(value), style=style)


def key_value_table(data: Mapping[str, Any], title: str | None = None) -> Table:
    table = Table(title=Text(title) if title else None, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, value in data.items():
        table.add_row(Text(str(key)), _cell(value))
    return table


def rows_table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> Table:
    table = Table(title=Text(title) if title else None)
    columns = list(rows[0].keys()) if rows else []
    for column in columns:
        table.add_column(Text(str(column)))
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
        out.print(_text(data), markup=False)


def progress_bars(indent: str = "") -> Any:
    """Rich progress bars on stderr that show done/total, rate, elapsed time and time left, and
    stay on screen when done (a record of what the run did)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-/s" if speed is None else f"{speed:.1f}/s", style="dim")

    return Progress(
        TextColumn(indent + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=False,
    )
