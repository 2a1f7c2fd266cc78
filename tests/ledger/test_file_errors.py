"""Ledger files that cannot be read as meant: not UTF-8, not YAML or JSON, or holding nothing.
Each is exit 2 naming the file (and the line), with the next step, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbsync.store.database import Database
from tests.ledger.util import fingerprint
from tests.support import run_json

IMPORT_AGAIN = "and import again; nothing was written"


def _error(*args: Path | str) -> dict[str, str]:
    error: dict[str, str] = run_json(
        "ledger", "import", *map(str, args), "--company", "acme", code=2
    )["error"]
    return error


def test_a_yaml_file_that_is_not_utf8_names_the_byte_and_line(
    ledger_company: str, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.yaml"
    path.write_bytes(
        "version: 1\nclients:\n  - {id: CL-1, name: M\u00fcller GmbH}\n".encode("latin-1")
    )
    error = _error(path)
    assert error["message"] == f"{path}: not UTF-8 text (byte 0xfc at line 3)"
    assert error["hint"] and "UTF-8" in error["hint"]


def test_a_csv_file_that_is_not_utf8_names_the_byte_and_line(
    ledger_company: str, tmp_path: Path, ledger_db: Database
) -> None:
    before = fingerprint(ledger_db)
    path = tmp_path / "clients.csv"
    rows = ["id,name"] + [f"CL-{n},Client {n}" for n in range(1, 5000)] + ["CL-X,M\u00fcller"]
    path.write_bytes("\n".join(rows).encode("latin-1"))
    error = _error(path)
    assert error["message"] == f"{path}: not UTF-8 text (byte 0xfc at line 5001)"
    assert fingerprint(ledger_db) == before


def test_syntax_errors_say_what_to_do_next(ledger_company: str, tmp_path: Path) -> None:
    yaml_file = tmp_path / "ledger.yaml"
    yaml_file.write_text("version: 1\nclients: [{id: CL-1\n", encoding="utf-8")
    error = _error(yaml_file)
    assert error["message"].startswith(f"{yaml_file}:3: not valid YAML")
    assert error["hint"] == f"fix the YAML at that line {IMPORT_AGAIN}"
    json_file = tmp_path / "ledger.json"
    json_file.write_text('{"version": 1,\n "clients": [}\n', encoding="utf-8")
    error = _error(json_file)
    assert error["message"].startswith(f"{json_file}:2: not valid JSON")
    assert error["hint"] == f"fix the JSON at that line {IMPORT_AGAIN}"


# Files that hold nothing: an export cut short is not "already up to date" -------------------

NO_RECORDS = "was the export cut short? export it again and import it; nothing was written"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("ledger.yaml", "", "empty file: holds no records"),
        ("ledger.yaml", "  \n\n", "empty file: holds no records"),
        ("ledger.yaml", "# exported 2026-10-01\n---\n", "holds no records (only comments)"),
        ("ledger.json", "", "empty file: holds no records"),
        ("ledger.json", "{}", "holds no records"),
        ("ledger.yaml", "version: 1\ninvoices: []\npayments:\n", "holds no records"),
        ("payments.csv", "id,invoice,amount,date\n", "holds no records"),
    ],
)
def test_a_file_that_holds_no_records_is_an_error_naming_it(
    ledger_company: str, tmp_path: Path, ledger_db: Database, name: str, text: str, message: str
) -> None:
    before = fingerprint(ledger_db)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    error = _error(path)
    assert error["message"] == f"{path}: {message}"
    assert error["hint"] == NO_RECORDS
    assert fingerprint(ledger_db) == before
    dry = _error(path, "--dry-run")
    assert dry["message"] == f"{path}: {message}"


def test_an_empty_file_among_others_is_named(
    ledger_company: str, tmp_path: Path, ledger_db: Database
) -> None:
    before = fingerprint(ledger_db)
    (tmp_path / "clients.csv").write_text("id,name\nCL-1,Acme Dental\n", encoding="utf-8")
    (tmp_path / "ledger.yaml").write_text("# nothing yet\n", encoding="utf-8")
    error = _error(tmp_path)
    assert error["message"] == f"{tmp_path / 'ledger.yaml'}: holds no records (only comments)"
    assert fingerprint(ledger_db) == before


def test_files_none_of_which_holds_a_record_are_an_error(
    ledger_company: str, tmp_path: Path, ledger_db: Database
) -> None:
    (tmp_path / "invoices.csv").write_text("id,number,client,date,status\n", encoding="utf-8")
    (tmp_path / "payments.csv").write_text("id,invoice,amount,date\n", encoding="utf-8")
    error = _error(tmp_path)
    assert error["message"] == (
        f"none of the 2 files holds a record ({tmp_path / 'invoices.csv'}, "
        f"{tmp_path / 'payments.csv'})"
    )


def test_a_csv_kind_with_only_its_header_among_files_with_records_is_normal(
    ledger_company: str, tmp_path: Path, ledger_db: Database
) -> None:
    (tmp_path / "clients.csv").write_text("id,name\nCL-1,Acme Dental\n", encoding="utf-8")
    (tmp_path / "payments.csv").write_text("id,invoice,amount,date\n", encoding="utf-8")
    out = run_json("ledger", "import", str(tmp_path), "--company", "acme")["data"]
    assert out["counts"]["clients"]["added"] == 1
    again = run_json("ledger", "import", str(tmp_path), "--company", "acme")["data"]
    assert not again["changed"] and again["counts"]["clients"]["unchanged"] == 1
