from __future__ import annotations

import json
import logging

import typer

from qbsync import __version__
from qbsync.cli.command import command, group
from qbsync.cli.output import MODE, Outcome
from qbsync.errors import InputError, LockHeld, ReconnectRequired
from qbsync.logs import get_logger, log_file, setup_logging
from qbsync.redact import MASK, redact, register_secret
from tests.support import run

demo = group("test group")


@command(demo, "ok")
def ok_command(name: str = typer.Option("x")) -> dict[str, object]:
    return {"name": name, "amount": __import__("decimal").Decimal("10.10")}


@command(demo, "bad-input")
def bad_input() -> None:
    raise InputError("ledger.yaml:3: invoices[0].amount: not a number", "fix the file")


@command(demo, "locked")
def locked() -> None:
    raise LockHeld("acme is being synced by pid 42")


@command(demo, "reconnect")
def reconnect() -> None:
    raise ReconnectRequired("acme needs reconnecting")


@command(demo, "crash")
def crash() -> None:
    raise RuntimeError("refresh_token=abcdefghijklmnop went missing")


@command(demo, "partial")
def partial() -> Outcome:
    return Outcome({"done": 1}, 1)


def invoke(*args: str):
    from typer.testing import CliRunner

    return CliRunner().invoke(demo, list(args), catch_exceptions=False)


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"qbsync {__version__}"
    result = run("--help")
    assert result.exit_code == 0 and "config" in result.stdout and "doctor" in result.stdout
    bare = run("config")  # a bare group shows its help (click reports it as usage, exit 2)
    assert bare.exit_code == 2
    assert "show" in bare.stderr and "set" in bare.stderr


def test_json_data_shape_and_exact_money() -> None:
    result = invoke("ok", "--json", "--name", "acme")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"data": {"name": "acme", "amount": "10.10"}}


def test_quiet_prints_nothing() -> None:
    result = invoke("ok", "--quiet")
    assert result.exit_code == 0 and result.stdout == ""


def test_error_shapes_and_exit_codes() -> None:
    cases = {
        "bad-input": (2, "invalid_input"),
        "locked": (75, "locked"),
        "reconnect": (3, "reconnect_required"),
        "crash": (1, "internal"),
    }
    for name, (code, error_code) in cases.items():
        result = invoke(name, "--json")
        assert result.exit_code == code, name
        error = json.loads(result.stdout)["error"]
        assert error["code"] == error_code
        assert set(error) == {"code", "message", "hint"}
    assert invoke("partial", "--json").exit_code == 1
    assert json.loads(invoke("partial", "--json").stdout) == {"data": {"done": 1}}


def test_internal_error_is_one_redacted_line_without_traceback() -> None:
    result = invoke("crash")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "abcdefghijklmnop" not in result.stderr
    assert result.stderr.startswith("error: RuntimeError:")


def test_debug_shows_traceback(monkeypatch) -> None:
    monkeypatch.setenv("QBSYNC_DEBUG", "1")
    result = invoke("bad-input")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_wrong_flag_is_usage_exit_2() -> None:
    assert run("config", "show", "--no-such-flag").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_mode_is_reset_per_command() -> None:
    invoke("ok", "--json")
    assert MODE.json
    invoke("ok")
    assert not MODE.json


def test_redaction_patterns() -> None:
    samples = {
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abcdefghijk": "eyJzdWIi",
        '{"access_token": "AB11xyzabc123", "expires_in": 3600}': "AB11xyzabc123",
        "grant_type=refresh_token&refresh_token=RT1-secret-value&x=1": "RT1-secret-value",
        "code=AUTHCODE123&state=STATE456&realmId=9130": "AUTHCODE123",
        "client_secret: hunter2hunter2": "hunter2hunter2",
        "Basic Y2xpZW50OnNlY3JldA==": "Y2xpZW50OnNlY3JldA==",
    }
    for text, secret in samples.items():
        out = redact(text)
        assert secret not in out, out
        assert MASK in out
    assert "realmId=9130" in redact("code=AUTHCODE123&state=STATE456&realmId=9130")
    assert (
        redact('{"code": "6240", "Message": "Duplicate Name"}')
        == '{"code": "6240", "Message": "Duplicate Name"}'
    )


def test_log_lines_are_redacted_and_single_line() -> None:
    setup_logging()
    register_secret("a-known-secret-value")
    log = get_logger("test")
    log.info("token a-known-secret-value\nsecond line refresh_token=zzzzzzzzzz")
    try:
        raise ValueError("Bearer abcdefghijklmnopqrstuvwxyz")
    except ValueError:
        log.exception("failed")
    for handler in logging.getLogger("qbsync").handlers:
        handler.flush()
    text = log_file().read_text()
    assert "a-known-secret-value" not in text
    assert "zzzzzzzzzz" not in text
    assert "abcdefghijklmnopqrstuvwxyz" not in text
    lines = [line for line in text.splitlines() if "qbsync.test" in line]
    assert len(lines) == 2, lines


def test_an_unknown_command_is_a_usage_error() -> None:
    from typer.testing import CliRunner

    from qbsync.cli.app import build

    unknown = CliRunner().invoke(build(), ["nosuch"])
    assert unknown.exit_code == 2 and "No such command 'nosuch'" in unknown.stderr
