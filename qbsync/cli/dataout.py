"""Data for another program written to stdout as it is: csv and tsv listings, `ledger export`,
`reconcile --format csv`.

Never escaped: a billing system or a spreadsheet would take an escape such as \\u0141 for data.
So when stdout's encoding cannot hold a character of it (a Latin-1 locale,
PYTHONIOENCODING=ascii), nothing is written and the command fails like any other (a QbsyncError,
exit 1), naming the character, where it is, and the fix. Text for people is escaped instead
(qbsync/cli/render.py `shown`), and JSON uses its own escapes (qbsync/cli/output.py `to_json`).
"""

from __future__ import annotations

import sys

from qbsync.errors import QbsyncError

UTF8_FIX = "set a UTF-8 locale or PYTHONIOENCODING=utf-8"


def write_data(text: str, form: str, to_file: str | None = None) -> None:
    """Write `text` (csv, tsv, json or yaml) whole, or raise naming what stdout cannot hold.
    `to_file` is how this command writes a file instead (`-o FILE`), when it can."""
    try:
        # A text stream encodes the whole string before it writes any of it: when this fails,
        # nothing has reached stdout.
        sys.stdout.write(text)
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start]
        where = _where(text, char, form)
        fix = f"write it with {to_file} (always UTF-8), or {UTF8_FIX}" if to_file else UTF8_FIX
        raise QbsyncError(
            f"stdout ({exc.encoding}) cannot hold {_character(char)} in {where}; "
            "nothing was written",
            fix,
        ) from None
    sys.stdout.flush()


def _character(char: str) -> str:
    """`U+0141 (LATIN CAPITAL LETTER L WITH STROKE)`: readable whatever stderr can hold."""
    import unicodedata

    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _where(text: str, char: str, form: str) -> str:
    """The row and column of the first cell holding `char` (the first that failed: any earlier
    one would have failed first), else its line."""
    if form in ("csv", "tsv"):
        import csv
        import io

        lines = (
            csv.reader(io.StringIO(text))
            if form == "csv"
            else (line.split("\t") for line in text.split("\n"))
        )
        header = next(lines, [])
        for number, cells in enumerate(lines, 1):
            for column, cell in zip(header, cells, strict=False):
                if char in cell:
                    return f"row {number}, column {column}"
    line = text.count("\n", 0, max(text.find(char), 0)) + 1
    return f"line {line}"
