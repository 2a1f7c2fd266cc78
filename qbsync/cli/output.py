"""The one output path. Commands return data; emit() renders it for people (rich, through
qbsync.cli.render) or as `{"data": ...}`; fail() renders `{"error": {"code", "message",
"hint"}}` or one line, and exits. rich is loaded only when something is rendered for a person:
cron's `--quiet` run and `--json` never pay for it.

Two promises hold here for every command:
- `--quiet`: success prints nothing, a skipped run (exit 75) prints nothing, and every other
  failure prints one line to stderr, `error: WHAT (hint: NEXT STEP)`, for cron's mail. With
  `--json` given as well, stdout carries the JSON asked for and stderr still that one line;
  QBSYNC_FORMAT never overrides `--quiet` (qbsync/cli/runner.py:output_format).
- User data (names, memos, file paths, error text) never reaches rich as markup: table cells
  are rich `Text`, and strings printed with markup are escaped first. Under a pipe a table is
  printed at its natural width, so amounts, ids and dates are never cut.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from qbsync.errors import EXIT_CODES, ErrorCode, ExitCode
from qbsync.redact import redact

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "plain", "csv", "tsv", "json")
FORMAT_ENV = "QBSYNC_FORMAT"
NO_INPUT_ENV = "QBSYNC_NO_INPUT"


@dataclass
class OutputMode:
    json: bool = False
    quiet: bool = False
    format: str = "table"  # table, plain, csv, tsv or json (json also sets `json`)


MODE = OutputMode()


def no_input() -> bool:
    """QBSYNC_NO_INPUT set (not empty, 0 or false): never prompt, as if stdin were no terminal."""
    return os.environ.get(NO_INPUT_ENV, "").strip().lower() not in ("", "0", "false", "no")


def can_prompt() -> bool:
    """Prompts only for a person at a terminal: never under --json, cron, a pipe or
    QBSYNC_NO_INPUT."""
    return not MODE.json and not no_input() and sys.stdin.isatty()


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


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _byte_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def bytes_escaped(text: str) -> str:
    """`text` with each byte that could not be decoded (a file name that is not UTF-8, which
    Python holds as U+DC80..U+DCFF) written \\xHH, as Python's backslashreplace writes it."""
    return _SURROGATE.sub(_byte_escape, text)


def to_json(payload: Any) -> str:
    text = json.dumps(payload, default=json_default, ensure_ascii=False)
    if text.isascii():
        return text
    if _SURROGATE.search(text):
        # A file name that is not UTF-8 keeps its undecodable bytes as lone surrogates: no
        # UTF-8 output can hold them, and JSON's \udcff is read by most parsers as U+FFFD or
        # refused. Each is written as the text \xff instead (backslashreplace's form, escaped
        # once more for JSON): valid for every reader, the bytes still readable from it, and
        # every name that decodes left as it is.
        text = _SURROGATE.sub(lambda m: _byte_escape(m).replace("\\", "\\\\"), text)
    if not holds_any_text(sys.stdout):
        # JSON's own escapes (\u00e9) where stdout lacks characters: every reader turns them
        # back into the same text.
        text = json.dumps(json.loads(text), ensure_ascii=True)
    return text


def holds_any_text(stream: Any) -> bool:
    """Whether the stream's encoding has every character (UTF-8, -16 or -32)."""
    try:
        return codecs.lookup(stream.encoding).name.startswith("utf")
    except (AttributeError, LookupError, TypeError):
        return False


Renderer = Callable[["Console", Any], None]


@dataclass
class Outcome:
    """What a command returns when it must exit non-zero after showing its data
    (doctor with a failed check, a sync cycle that was aborted)."""

    data: Any
    exit_code: int


@dataclass
class Page:
    """A paged listing (a command with -n/--limit): the rows shown and how many there are in
    all, said as "showing N of M" (the table's caption, stderr for the other formats, the
    `meta` of --json), never inside the data."""

    rows: list[Any]
    total: int

    @property
    def note(self) -> str:
        return f"showing {len(self.rows)} of {self.total}"

    @classmethod
    def of(cls, rows: Sequence[Any], limit: int) -> Page:
        """The first `limit` of every row."""
        return cls(list(rows[:limit]), len(rows))


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 invoice`, `2 invoices` (`many` for irregular plurals)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def _raw(value: Any) -> str:
    """A csv/tsv cell: the value as JSON gives it (money as its decimal text, ids and dates
    whole), empty for none, nested data as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return to_json(value)
    encoded = json_default(value) if not isinstance(value, str | int | float) else value
    return str(encoded)


_TSV_SAFE = str.maketrans("\t\r\n", "   ")


def delimited(rows: Sequence[Any], delimiter: str) -> str:
    """Rows as csv (or tsv): a header row of every field, in first-seen order, then one line per
    row. A tab or line break inside a tsv value becomes a space, so that each row stays a line."""
    import csv
    import io

    records = [r if isinstance(r, Mapping) else {"value": r} for r in rows]
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(str(k) for k in record))
    buffer = io.StringIO()
    if delimiter == "\t":
        if records:
            lines = [[*columns], *([_raw(r.get(c)) for c in columns] for r in records)]
            for line in lines:
                buffer.write("\t".join(v.translate(_TSV_SAFE) for v in line) + "\n")
        return buffer.getvalue()
    writer = csv.writer(buffer, lineterminator="\n")
    if records:
        writer.writerow(list(columns))
    for record in records:
        writer.writerow([_raw(record.get(c)) for c in columns])
    return buffer.getvalue()


def _print_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def emit(data: Any, render: Renderer | None = None) -> None:
    page = data if isinstance(data, Page) else None
    if page is not None:
        data = page.rows
    if MODE.json:
        payload: dict[str, Any] = {"data": data}
        if page is not None:
            payload["meta"] = {"shown": len(page.rows), "total": page.total}
        _print_line(to_json(payload))
        return
    if MODE.quiet:
        return
    if MODE.format in ("csv", "tsv") and isinstance(data, list):
        from qbsync.cli.dataout import write_data

        write_data(delimited(data, "," if MODE.format == "csv" else "\t"), MODE.format)
    elif MODE.format == "plain":
        import io

        from qbsync.cli.render import console, default_render

        out = console(plain=True)
        out.file = buffer = io.StringIO()
        (render or default_render)(out, data)
        sys.stdout.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
        sys.stdout.flush()
    else:
        from qbsync.cli.render import console, default_render

        out = console()
        if page is not None:
            out.caption = page.note  # type: ignore[attr-defined]
        (render or default_render)(out, data)
        if page is not None and page.rows and getattr(out, "caption", None):
            out.print(page.note, markup=False, highlight=False)  # the renderer drew no table
    if page is not None and MODE.format != "table":
        sys.stderr.write(page.note + "\n")


def one_line(message: str, hint: str | None = None) -> str:
    """A failure as cron mails it: `error: WHAT (hint: NEXT STEP)`, on one line."""
    text = f"error: {message}" + (f" (hint: {hint})" if hint else "")
    return " ".join(text.split())


def say_failure(message: str, hint: str | None = None) -> None:
    """One plain line on stderr: no markup, no wrapping, whatever the message holds."""
    sys.stderr.write(one_line(redact(message), redact(hint) if hint else None) + "\n")
    sys.stderr.flush()


def fail(code: ErrorCode, message: str, hint: str | None = None) -> NoReturn:
    message = redact(message)
    hint = redact(hint) if hint else None
    exit_code = EXIT_CODES[code]
    if MODE.json:
        _print_line(to_json({"error": {"code": code.value, "message": message, "hint": hint}}))
    if MODE.quiet:  # with --json too: the JSON on stdout, and cron's one line on stderr
        if exit_code != ExitCode.TEMPFAIL:  # a skipped run is success for cron: no mail
            say_failure(message, hint)
    elif not MODE.json:
        from qbsync.cli.render import console, safe

        err = console(stderr=True)
        err.print(f"[bold red]error:[/] {safe(message)}", highlight=False, soft_wrap=True)
        if hint:
            err.print(f"[dim]hint:[/] {safe(hint)}", highlight=False, soft_wrap=True)
    raise SystemExit(exit_code)


INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def interrupted() -> NoReturn:
    """Ctrl-C: one line on stderr (or `{"error": ...}` under --json), exit 130."""
    if MODE.json:
        error = {"code": "interrupted", "message": "interrupted", "hint": None}
        _print_line(to_json({"error": error}))
    if MODE.quiet or not MODE.json:
        say_failure("interrupted (Ctrl-C)")
    raise SystemExit(INTERRUPTED)


def _health_failure(item: Mapping[str, Any]) -> tuple[str, str]:
    company = item.get("company")
    if item.get("needs_reconnect"):
        return f"{company}: the QuickBooks connection needs reconnecting", (
            f"reconnect: qbsync connect --company {company}"
        )
    problems = "; ".join(str(p) for p in item.get("problems") or []) or "needs attention"
    step = (item.get("next") or {}).get("command") or f"qbsync status -c {company}"
    return f"{company}: {problems}", step


def _cycle_failure(cycle: Mapping[str, Any]) -> tuple[str, str]:
    company, result = cycle.get("company"), cycle.get("result")
    what = f"{company}: cycle {cycle.get('cycle_id')} {result}"
    what += f": {cycle['error']}" if cycle.get("error") else ""
    if cycle.get("exit_code") == ExitCode.RECONNECT:
        return what, f"reconnect: qbsync connect --company {company}"
    return what, f"see qbsync sync status {cycle.get('cycle_id')} and qbsync status -c {company}"


def _delivery_failure(failed: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """`notify test`'s failed targets, each named with its error, together on one line."""
    said = "; ".join(f"{d.get('target')}: {d.get('error') or 'not delivered'}" for d in failed)
    if len(failed) == 1:
        name = failed[0].get("target")
        return f"alert target {said}", (
            f"fix it in config.yaml's notify: section, then: qbsync notify test --target {name}"
        )
    return f"{len(failed)} alert targets failed: {said}", (
        "fix them in config.yaml's notify: section, then: qbsync notify test"
    )


def failure_lines(data: Any, exit_code: int) -> list[tuple[str, str]]:
    """(what, next step) for a command that showed its data and exits non-zero: one for each
    company whose cycle failed, one for doctor's or the mapping check's findings or for the alert
    targets `notify test` could not reach, else one."""
    if isinstance(data, Mapping) and isinstance(data.get("cycles"), list):
        lines = [
            _cycle_failure(c)
            for c in data["cycles"]
            if isinstance(c, Mapping) and c.get("exit_code") not in (ExitCode.OK, ExitCode.TEMPFAIL)
        ]
        if lines:
            return lines
    if isinstance(data, Mapping) and isinstance(data.get("companies"), list):
        lines = [
            _health_failure(c)
            for c in data["companies"]
            if isinstance(c, Mapping) and (c.get("needs_reconnect") or c.get("level") == "red")
        ]
        if lines:
            return lines
    if isinstance(data, Mapping) and isinstance(data.get("checks"), list):
        failed = [c["name"] for c in data["checks"] if c.get("status") == "fail"]
        if failed:
            return [(f"doctor: failed: {', '.join(failed)}", "run qbsync doctor for the fixes")]
    if isinstance(data, Mapping) and isinstance(data.get("missing"), list) and data["missing"]:
        count = len(data["missing"])
        return [
            (
                f"{data.get('company')}: {count} mapping{'s' if count != 1 else ''} missing",
                "qbsync mappings check lists them",
            )
        ]
    if isinstance(data, Mapping) and isinstance(data.get("deliveries"), list):
        failed = [d for d in data["deliveries"] if isinstance(d, Mapping) and not d.get("ok")]
        if failed:
            return [_delivery_failure(failed)]
    if isinstance(data, Mapping) and data.get("errors"):
        errors = [str(e) for e in data["errors"]]
        return [("; ".join(errors), "qbsync status --all says what to do next")]
    return [(f"exit {exit_code}", "run the command again without --quiet to see why")]


def report_failure(data: Any, exit_code: int) -> None:
    """Under --quiet, a command that exits non-zero after its data still says why on stderr,
    --json or not (nothing for exit 75: a skipped run is success for cron)."""
    if MODE.quiet and exit_code not in (ExitCode.OK, ExitCode.TEMPFAIL):
        for what, hint in failure_lines(data, exit_code):
            say_failure(what, hint)


def show_progress() -> bool:
    """Progress bars only for a person at a terminal: never under --json, --quiet or a pipe."""
    return sys.stderr.isatty() and not MODE.json and not MODE.quiet


def note(message: str) -> None:
    """A human progress line on stderr; silent with --quiet or --json."""
    if not MODE.quiet and not MODE.json:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
