"""Flags on the command line beat the environment, and --json and --quiet hold for every
failure, mistyped command lines included. Real processes, as cron and scripts run qbsync:

- QBSYNC_FORMAT=json never overrides --quiet: success prints nothing, a failure one line on
  stderr (and nothing on stdout);
- --json and --quiet together: the JSON asked for on stdout, and --quiet's one line on stderr
  for a failure;
- a usage error (an unknown option or command, a bad value, a missing argument) is
  `{"error": {"code": "usage", ...}}` on stdout under --json (or QBSYNC_FORMAT=json), one line
  on stderr under --quiet, exit 2 either way."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.sync.helpers import cli_env, qbsync_cmd

pytestmark = pytest.mark.slow


def qbsync(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        qbsync_cmd(*args),
        env={**cli_env(), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert " (hint: " in done.stderr, done.stderr
    return done.stderr


def _json_error(done: subprocess.CompletedProcess[str], code: int) -> dict[str, str]:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    error: dict[str, str] = json.loads(done.stdout)["error"]
    assert set(error) == {"code", "message", "hint"}, error
    return error


def test_qbsync_format_json_does_not_break_quiet_on_a_failure() -> None:
    # No company is set up: exit 2, one line on stderr, nothing on stdout.
    for args in (["sync", "run", "--quiet"], ["status", "--quiet"], ["invoices", "list", "-q"]):
        line = _one_line(qbsync(*args, QBSYNC_FORMAT="json"), 2)
        assert "no QuickBooks company is set up yet" in line, line
    # Without --quiet the environment's json applies, errors included.
    error = _json_error(qbsync("sync", "run", QBSYNC_FORMAT="json"), 2)
    assert error["code"] == "not_found"


@pytest.mark.e2e
def test_qbsync_format_json_does_not_break_quiet_on_success(
    file_company: ConnectedCompany,
) -> None:
    for args in (["sync", "run", "--quiet"], ["config", "show", "--quiet"]):
        done = qbsync(*args, QBSYNC_FORMAT="json")
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), args
    # --json given as well asks for the data: it is printed.
    shown = qbsync("config", "show", "--quiet", "--json", QBSYNC_FORMAT="table")
    assert shown.returncode == 0 and "data" in json.loads(shown.stdout), shown.stdout


def test_json_and_quiet_together_give_json_and_one_line() -> None:
    done = qbsync("sync", "run", "--json", "--quiet")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["error"]["code"] == "not_found"
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: no QuickBooks")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sync", "run", "--json", "--bogus"], "No such option: --bogus"),
        (["status", "--json", "--bogus"], "No such option: --bogus"),
        (["sync", "cancel", "abc", "--json"], "'abc' is not a valid int"),
        (["sync", "cancel", "--json"], "Missing argument 'CYCLE'"),
        (["sync", "bogus", "--json"], "No such command 'bogus'"),
        (["bogus", "--json"], "No such command 'bogus'"),
        (["sync", "--bogus", "--json"], "No such option: --bogus"),
        (["invoices", "list", "--format", "json", "-n", "x"], "'x' is not a valid int"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_usage_error_under_json_is_json(args: list[str], said: str) -> None:
    error = _json_error(qbsync(*args), 2)
    assert error["code"] == "usage", error
    assert said in error["message"], error
    assert error["hint"].startswith("see qbsync") and error["hint"].endswith(" --help"), error


def test_a_usage_error_under_qbsync_format_json_is_json_unless_quiet() -> None:
    error = _json_error(qbsync("sync", "cancel", "abc", QBSYNC_FORMAT="json"), 2)
    assert error["code"] == "usage"
    line = _one_line(qbsync("sync", "cancel", "abc", "--quiet", QBSYNC_FORMAT="json"), 2)
    assert "'abc' is not a valid int" in line and "(hint: see qbsync sync cancel --help)" in line


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "bogus", "--quiet"],
        ["bogus", "-q"],
        ["sync", "run", "--quiet", "--bogus"],
        ["sync", "cancel", "abc", "--quiet"],
        ["sync", "--bogus", "--quiet"],
    ],
    ids=" ".join,
)
def test_a_usage_error_under_quiet_is_one_line(args: list[str]) -> None:
    line = _one_line(qbsync(*args), 2)
    assert "Usage:" not in line and "Try " not in line, line


def test_a_usage_error_under_json_and_quiet_is_both() -> None:
    done = qbsync("sync", "bogus", "--json", "--quiet")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["code"] == "usage"
    assert done.stderr == "error: No such command 'bogus'. (hint: see qbsync sync --help)\n"


def test_a_person_still_gets_clicks_usage() -> None:
    done = qbsync("sync", "bogus")
    assert done.returncode == 2 and done.stdout == ""
    assert "Usage: " in done.stderr and "No such command 'bogus'" in done.stderr
