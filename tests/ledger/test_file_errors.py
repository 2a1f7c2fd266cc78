"""Ledger files that cannot be read as meant: not UTF-8, not YAML or JSON. Each is exit 2
naming the file and the line, with the next step, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from qbsync.store.database import Database
from tests.ledger.util import fingerprint
from tests.support import run

IMPORT_AGAIN = "and import again; nothing was written"


def _error(*paths: Path) -> dict[str, str]:
    result = run("ledger", "import", *map(str, paths), "--company", "acme", "--json")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    error: dict[str, str] = json.loads(result.stdout)["error"]
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
