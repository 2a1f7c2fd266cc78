"""Broken ledger files, generated: every one must exit 2, name the place (file, line or row,
and the field), and leave the database exactly as it was."""

from __future__ import annotations

import copy
import csv
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbsync.ledger.csvfiles import CSV_COLUMNS
from qbsync.store.database import Database
from tests.fixtures.ledger import SampleLedger
from tests.ledger.util import fingerprint
from tests.support import run_json

EXAMPLES = 100

# A valid import on top of the sample ledger (checked by test_the_base_document_is_valid).
BASE: dict[str, Any] = {
    "version": 1,
    "clients": [{"id": "FZ-C1", "name": "Fuzz Client", "email": "a@b.example", "currency": "USD"}],
    "services": [{"id": "FZ-S1", "name": "Fuzz service"}],
    "tax_regions": [{"id": "FZ-T1", "name": "Fuzz region"}],
    "terms": [{"id": "FZ-N1", "name": "Net 7", "due_days": "7"}],
    "invoices": [
        {
            "id": "FZ-I1",
            "number": "F1",
            "client": "FZ-C1",
            "date": "2026-10-01",
            "due_date": "2026-10-08",
            "terms": "FZ-N1",
            "status": "finalized",
            "currency": "USD",
            "lines": [
                {"service": "FZ-S1", "quantity": "2", "unit_price": "10.50", "tax_region": "FZ-T1"},
                {"service": "S-MSP", "quantity": "1.5", "unit_price": "150.00"},
            ],
        },
        {
            "id": "FZ-CN1",
            "number": "FCN1",
            "type": "credit_note",
            "client": "FZ-C1",
            "date": "2026-10-02",
            "status": "finalized",
            "lines": [{"service": "FZ-S1", "quantity": "1", "unit_price": "5.00"}],
        },
    ],
    "payments": [{"id": "FZ-P1", "invoice": "FZ-I1", "amount": "5.00", "date": "2026-10-03"}],
    "credit_applications": [
        {
            "id": "FZ-A1",
            "credit_note": "FZ-CN1",
            "invoice": "FZ-I1",
            "amount": "1.00",
            "date": "2026-10-03",
        }
    ],
}

BAD_MONEY = ["abc", "1.005", "NaN", "Infinity", "1e400", "12,50", "-5.00", "0", "1_000", "$5"]
BAD_RATE = ["abc", "1.00001", "NaN", "--1", "1e999", "½"]
BAD_DATE = ["2026-13-01", "yesterday", "20261001", "2026-02-30", "01/10/2026", "2026-10-01T10:00"]
UNKNOWN_REF = ["NOPE", "FZ-C9", "INV-404", "s-msp"]

# (kind, record index, path in the record, the values that must be refused)
TARGETS: list[tuple[str, int, tuple[str | int, ...], list[str]]] = [
    ("clients", 0, ("email",), ["not-an-email", "a@b"]),
    ("clients", 0, ("currency",), ["usd", "DOLLARS", "US"]),
    ("clients", 0, ("name",), ["", "tab\tin name"]),
    ("terms", 0, ("due_days",), ["7.5", "-1", "x", "99999"]),
    ("invoices", 0, ("date",), BAD_DATE),
    ("invoices", 0, ("due_date",), [*BAD_DATE, "2026-09-30"]),
    ("invoices", 0, ("status",), ["sent", "Finalized", "paid"]),
    ("invoices", 1, ("type",), ["debit", "credit"]),
    ("invoices", 0, ("currency",), ["EUR", "usd"]),
    ("invoices", 0, ("number",), ["N" * 22]),
    ("invoices", 0, ("memo",), ["m" * 1001]),
    ("invoices", 0, ("client",), UNKNOWN_REF),
    ("invoices", 0, ("terms",), UNKNOWN_REF),
    ("invoices", 0, ("lines", 0, "service"), UNKNOWN_REF),
    ("invoices", 0, ("lines", 0, "tax_region"), UNKNOWN_REF),
    ("invoices", 0, ("lines", 0, "quantity"), [*BAD_RATE, "0", "-2"]),
    ("invoices", 0, ("lines", 1, "unit_price"), BAD_RATE),
    ("invoices", 0, ("lines", 1, "service_date"), BAD_DATE),
    ("payments", 0, ("amount",), BAD_MONEY),
    ("payments", 0, ("date",), BAD_DATE),
    ("payments", 0, ("invoice",), [*UNKNOWN_REF, "FZ-CN1"]),
    ("payments", 0, ("reference",), ["R" * 22]),
    ("credit_applications", 0, ("amount",), BAD_MONEY),
    ("credit_applications", 0, ("credit_note",), [*UNKNOWN_REF, "FZ-I1"]),
    ("credit_applications", 0, ("invoice",), [*UNKNOWN_REF, "FZ-CN1"]),
]
REQUIRED: list[tuple[str, int, tuple[str | int, ...]]] = [
    ("clients", 0, ("id",)),
    ("clients", 0, ("name",)),
    ("services", 0, ("name",)),
    ("terms", 0, ("due_days",)),
    ("invoices", 0, ("number",)),
    ("invoices", 0, ("client",)),
    ("invoices", 0, ("date",)),
    ("invoices", 0, ("status",)),
    ("invoices", 0, ("lines", 0, "quantity")),
    ("invoices", 0, ("lines", 1, "unit_price")),
    ("payments", 0, ("amount",)),
    ("payments", 0, ("invoice",)),
    ("credit_applications", 0, ("date",)),
]
STRUCTURED = [["1", "2"], {"a": "b"}]  # YAML and JSON only: CSV cells are text


def _node(doc: dict[str, Any], kind: str, index: int, path: tuple[str | int, ...]) -> Any:
    node: Any = doc[kind][index]
    for part in path[:-1]:
        node = node[part]
    return node


def _field_name(kind: str, index: int, path: tuple[str | int, ...], fmt: str) -> str:
    """How the message must name the field: a dotted path in YAML/JSON, the column in CSV."""
    if fmt == "csv":
        return str(path[-1])
    out = f"{kind}[{index}]"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def write(doc: dict[str, Any], fmt: str, folder: Path) -> Path:
    if fmt == "yaml":
        path = folder / "ledger.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        return path
    if fmt == "json":
        path = folder / "ledger.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
        return path
    out = folder / "csv"
    out.mkdir()
    tables: dict[str, list[dict[str, Any]]] = {"invoice_lines": []}
    for kind, items in doc.items():
        if kind == "version":
            continue
        tables[kind] = []
        for item in items:
            tables[kind].append({k: v for k, v in item.items() if k != "lines"})
            if kind == "invoices":
                for line in item.get("lines", []):
                    tables["invoice_lines"].append({"invoice": item.get("id", ""), **line})
    for kind, rows in tables.items():
        columns = list(CSV_COLUMNS[kind])
        extra = [k for row in rows for k in row if k not in columns]
        with open(out / f"{kind}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns + sorted(set(extra)))
            writer.writeheader()
            writer.writerows(rows)
    return out


@st.composite
def broken(draw: st.DrawFn) -> tuple[str, dict[str, Any] | None, str, str | None]:
    """(format, document or None, what must be named, syntax-breaking edit or None)."""
    fmt = draw(st.sampled_from(["yaml", "json", "csv"]))
    doc = copy.deepcopy(BASE)
    mutation = draw(st.sampled_from(["value", "missing", "unknown_field", "syntax"]))
    if mutation == "value":
        kind, index, path, values = draw(st.sampled_from(TARGETS))
        pool: list[Any] = list(values) + ([] if fmt == "csv" else STRUCTURED)
        _node(doc, kind, index, path)[path[-1]] = draw(st.sampled_from(pool))
        return fmt, doc, _field_name(kind, index, path, fmt), None
    if mutation == "missing":
        kind, index, path = draw(st.sampled_from(REQUIRED))
        del _node(doc, kind, index, path)[path[-1]]
        return fmt, doc, _field_name(kind, index, path, fmt), None
    if mutation == "unknown_field":
        kind = draw(st.sampled_from([k for k in BASE if k != "version"]))
        name = draw(st.sampled_from(["colour", "amount_cents", "Name"]))
        doc[kind][0][name] = "x"
        return fmt, doc, _field_name(kind, 0, (name,), fmt) if fmt != "csv" else name, None
    edit = draw(st.sampled_from(["truncate", "garbage"]))
    return fmt, doc, "", edit


def _break_syntax(path: Path, fmt: str, edit: str) -> Path:
    if fmt == "csv":
        target = path / "payments.csv"
        text = target.read_text()
        # An opened quote that never closes.
        target.write_text(text.rstrip("\n") + '\nFZ-P9,FZ-I1,"5.00,2026-10-03\n')
        return target
    text = path.read_text()
    if edit == "truncate":
        broken_text = text[: int(len(text) * 0.6)] + ("\n  - {" if fmt == "yaml" else "")
    else:
        lines = text.splitlines()
        middle = len(lines) // 2
        lines.insert(middle, "  ]: {{ '" if fmt == "yaml" else ',,"x":')
        broken_text = "\n".join(lines)
    path.write_text(broken_text)
    return path


def test_the_base_document_is_valid(sample_ledger: SampleLedger, tmp_path: Path) -> None:
    for fmt in ("yaml", "json", "csv"):
        folder = tmp_path / fmt
        folder.mkdir()
        out = run_json("ledger", "import", str(write(BASE, fmt, folder)), "--dry-run")["data"]
        assert out["counts"]["invoices"]["added"] == 2, fmt
        assert out["ops"]["apply_credit"] == 1


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=broken())
def test_broken_files_exit_2_name_the_place_and_change_nothing(
    sample_ledger: SampleLedger, ledger_db: Database, case: tuple[str, Any, str, str | None]
) -> None:
    fmt, doc, field, edit = case
    before = fingerprint(ledger_db)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(doc, fmt, Path(tmp))
        named = _break_syntax(path, fmt, edit) if edit else path
        out = run_json("ledger", "import", str(path), "--company", "acme", code=2)
    error = out["error"]
    assert error["code"] == "invalid_input"
    message = error["message"]
    file_prefix = str(named) if edit or fmt != "csv" else str(path)
    assert re.search(re.escape(file_prefix) + r"[^:]*:\d+", message), message
    if field:
        assert field in message, (field, message)
    assert fingerprint(ledger_db) == before
