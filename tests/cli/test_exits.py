"""Exit codes with a next step: `status` exits 0 green (or yellow), 1 red, 3 when a connection
needs reconnecting, saying why in one line under --quiet; a company key that breaks the key rule
is exit 2 naming the rule, never a raw validation error."""

from __future__ import annotations

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import map_demo


@pytest.fixture
def healthy(connected_company: ConnectedCompany, sample_ledger: SampleLedger) -> ConnectedCompany:
    map_demo(connected_company.key)
    assert run_json("sync", "run")["data"]["cycles"][0]["result"] == "succeeded"
    return connected_company


def test_status_exits_0_when_green_and_1_when_red_with_one_line_under_quiet(
    healthy: ConnectedCompany,
) -> None:
    [company] = run_json("status")["data"]["companies"]
    assert company["level"] == "green"
    quiet = run("status", "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")

    run_json("disconnect", "-c", healthy.key, "-y")
    [company] = run_json("status", code=1)["data"]["companies"]
    assert company["level"] == "red"
    assert run("status").exit_code == 1
    quiet = run("status", "--quiet")
    assert (quiet.exit_code, quiet.stdout) == (1, "")
    assert quiet.stderr.count("\n") == 1, quiet.stderr
    assert quiet.stderr.startswith("error: acme: not connected to QuickBooks"), quiet.stderr
    assert "(hint: qbsync connect --company acme)" in quiet.stderr, quiet.stderr


def test_status_exits_3_when_the_connection_needs_reconnecting(healthy: ConnectedCompany) -> None:
    healthy.control.revoke_all_tokens(healthy.realm_id)
    run_json("token", "--refresh", code=3)
    [company] = run_json("status", code=3)["data"]["companies"]
    assert company["needs_reconnect"] is True
    quiet = run("status", "--all", "--quiet")
    assert (quiet.exit_code, quiet.stdout) == (3, "")
    assert quiet.stderr == (
        "error: acme: the QuickBooks connection needs reconnecting "
        "(hint: reconnect: qbsync connect --company acme)\n"
    ), quiet.stderr
    # For a person: no token times, and no next cycle, while none of it works.
    shown = " ".join(run("status").stdout.split())
    assert "Tokens refused: reconnect" in shown, shown
    assert "no cycle runs until it is reconnected" in shown, shown
    assert "access in" not in shown and "next cycle" not in shown, shown


@pytest.mark.parametrize(
    "args",
    [
        ["app", "set", "-c", "bad key!", "--client-id", "X"],
        ["invoices", "list", "-c", "bad key!"],
        ["sync", "run", "--company", "Acme"],
    ],
    ids=["app set", "invoices list", "sync run"],
)
def test_an_invalid_company_key_is_exit_2_with_the_rule(args: list[str]) -> None:
    result = run(*args, input="secret\n")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "a company key is 1 to 40 lowercase letters, digits, '-' or '_'" in result.stderr
    assert "validation error" not in result.stderr.lower() and "internal" not in result.stderr
    quiet = run(*args, "--quiet", input="secret\n")
    assert quiet.exit_code == 2 and quiet.stderr.count("\n") == 1, quiet.stderr
    assert "starting with a letter or digit" in quiet.stderr


def test_an_invalid_company_key_in_the_environment_is_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QBSYNC_COMPANY", "bad key!")
    result = run("invoices", "list")
    assert result.exit_code == 2
    assert "a company key is 1 to 40 lowercase letters" in result.stderr
