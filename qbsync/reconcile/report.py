"""The reconciliation as data for the CLI: `{"summary", "rows"}`, and as CSV (one line per row,
the same columns as the JSON rows, differences joined by ';')."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from qbsync.money import text
from qbsync.reconcile.compare import FIELDS, HOME_FIELDS, Report

COLUMNS = [
    "kind",
    "outcome",
    "ledger_id",
    "number",
    "qbo_id",
    "differences",
    *(f"{side}_{name}" for name in FIELDS for side in ("ledger", "qbo")),
    "note",
    *(f"{side}_{name}" for name in HOME_FIELDS for side in ("ledger", "qbo")),
]


def as_data(report: Report) -> dict[str, Any]:
    return {
        "company": report.company,
        "summary": report.summary(),
        "rows": [row.as_dict() for row in report.rows],
    }


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return text(value)  # exact text, never through float
    return _inert(str(value))


def _inert(value: str) -> str:
    """Text from either side (a DocNumber, a note) that a spreadsheet would run as a formula
    is quoted, so that opening the file runs nothing."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        data = row.as_dict()
        writer.writerow([_csv_cell(data[c]) for c in COLUMNS])
    return out.getvalue()
