"""--quiet in-process: one stderr line for a failure (with its next step), nothing for exit 75,
and the two-line error with a hint for a person otherwise."""

from __future__ import annotations

from qbsync.sync.lock import company_lock
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run


def test_a_failure_under_quiet_is_one_line_with_its_hint() -> None:
    result = run("sync", "status", "--company", "nope", "--quiet")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "nope" in result.stderr and " (hint: " in result.stderr, result.stderr

    loud = run("sync", "status", "--company", "nope")
    assert loud.exit_code == 2
    assert loud.stderr.splitlines()[0].startswith("error: ") and "nope" in loud.stderr
    assert loud.stderr.splitlines()[1].startswith("hint: "), loud.stderr


def test_a_held_lock_under_quiet_prints_nothing(connected_company: ConnectedCompany) -> None:
    with company_lock(connected_company.key, "a test holding the lock"):
        result = run("sync", "run", "--quiet")
        loud = run("sync", "run")
    assert (result.exit_code, result.stdout, result.stderr) == (75, "", "")
    assert loud.exit_code == 75 and "being synced by" in loud.stderr


def test_a_cycle_that_fails_under_quiet_says_one_line(
    connected_company: ConnectedCompany,
) -> None:
    connected_company.control.inject_fault("*/cdc*", status=400, code="4000")
    result = run("sync", "run", "--all", "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: acme: cycle "), result.stderr
    assert " failed: inbound: QuickBooks error 4000" in result.stderr, result.stderr


def test_a_mistyped_command_line_under_quiet_is_one_line() -> None:
    for args in (["--limit", "0"], ["--bogus"]):
        result = run("sync", "history", *args, "--quiet")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("error: "), result.stderr
        assert result.stderr.endswith("(hint: see qbsync sync history --help)\n"), result.stderr

    loud = run("sync", "history", "--bogus")
    assert loud.exit_code == 2 and "Usage: " in loud.stderr  # a person gets the usage


def test_a_finding_that_fails_a_command_under_quiet_is_one_line(
    sample_ledger: SampleLedger,
) -> None:
    result = run("mappings", "check", "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {sample_ledger.company}: "), result.stderr
    assert " mappings missing (hint: qbsync mappings check lists them)\n" in result.stderr
