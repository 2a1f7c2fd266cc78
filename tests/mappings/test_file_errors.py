"""A mappings file that cannot be read as meant: not UTF-8, or not YAML. Each is exit 2 naming the file (and the line), with the next step, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run


def _error(*args: str) -> dict[str, str]:
    result = run("mappings", "import", *args, "--json")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    error: dict[str, str] = json.loads(result.stdout)["error"]
    return error


def test_a_mappings_file_that_is_not_utf8_names_the_byte_and_line(
    ledger_company: str, tmp_path: Path
) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_bytes("version: 1\nitems:\n  S-MSP: {qbo_name: Geb\u00fchren}\n".encode("latin-1"))
    error = _error(str(path))
    assert error["message"] == f"{path}: not UTF-8 text (byte 0xfc at line 3)"
    assert error["hint"] and "UTF-8" in error["hint"]


def test_a_yaml_syntax_error_in_mappings_says_what_to_do_next(
    ledger_company: str, tmp_path: Path
) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("version: 1\nitems: {S-MSP: {qbo: '12'}\n", encoding="utf-8")
    error = _error(str(path))
    assert error["message"].startswith(f"{path}:3: not valid YAML")
    assert error["hint"] == "fix the YAML at that line and import again; nothing was written"
    dupe = tmp_path / "dupe.yaml"
    dupe.write_text("items: {}\nitems: {}\n", encoding="utf-8")
    error = _error(str(dupe))
    assert error["message"] == f"{dupe}:2: items: duplicate key (also on line 1)"
    assert error["hint"] == "fix the YAML at that line and import again; nothing was written"
