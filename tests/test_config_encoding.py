"""A config.yaml that is not UTF-8, or not YAML: exit 2, one line naming the file and the line,
with the next step, from every command (cron's `sync run --quiet` among them)."""

from __future__ import annotations

import json

import pytest

from qbsync import config, paths
from qbsync.errors import ConfigError
from tests.support import run

LATIN1 = "companies:\n  acme: {environment: sim}\n# für die Buchhaltung\n".encode("latin-1")


def _write(data: bytes) -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_bytes(data)


def test_a_config_that_is_not_utf8_names_the_file_the_byte_and_the_line() -> None:
    _write(LATIN1)
    with pytest.raises(ConfigError) as err:
        config.load()
    assert err.value.message == f"{paths.config_file()}: not UTF-8 text (byte 0xfc at line 3)"
    assert err.value.hint and "UTF-8" in err.value.hint
    assert err.value.exit_code == 2


def test_cron_gets_one_line_and_exit_2_for_a_config_that_is_not_utf8() -> None:
    _write(LATIN1)
    result = run("sync", "run", "--quiet")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {paths.config_file()}: not UTF-8 text (byte 0xfc at line 3)")
    assert "(hint: " in line
    assert "UnicodeDecodeError" not in line


def test_config_set_refuses_a_file_that_is_not_utf8_and_leaves_it_alone() -> None:
    _write(LATIN1)
    result = run("config", "set", "sync.interval", "10m", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["message"].endswith("not UTF-8 text (byte 0xfc at line 3)")
    assert paths.config_file().read_bytes() == LATIN1


def test_a_yaml_syntax_error_in_config_says_what_to_do_next() -> None:
    _write(b"sync:\n  interval: [15m\n")
    result = run("config", "show", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert f"{paths.config_file()}:3: not valid YAML" in error["message"]
    assert error["hint"] and "fix the YAML at that line" in error["hint"]
    quiet = run("sync", "run", "--quiet")
    assert quiet.exit_code == 2 and quiet.stdout == ""
    [line] = quiet.stderr.splitlines()
    assert "not valid YAML" in line and "(hint: fix the YAML at that line" in line
