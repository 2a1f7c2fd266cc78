"""A company that was never connected (or was disconnected) has no cycle: `sync run` says so in
one line, exit 3, and records nothing (no cycle, no `connection_auth_failed` exception: QuickBooks
refused nothing). With `--all`, the companies that are connected still sync. Real qbsync
processes; the connected company on the simulator over a socket."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import cli_env, qbsync_cmd, store_query

pytestmark = pytest.mark.slow

NOT_CONNECTED = "error: company beta is not connected (hint: qbsync connect --company beta)\n"


def qbsync(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        qbsync_cmd(*args),
        env=cli_env(),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def app_set_beta(sim_url: str = "http://127.0.0.1:9") -> None:
    done = qbsync(
        "app", "set", "-c", "beta", "--client-id", "X", "--env", "sim", "--sim-url", sim_url,
        input="x\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def recorded(company: str) -> tuple[list[dict], list[dict]]:
    cycles = store_query("SELECT id, result FROM sync_cycles WHERE company = ?", [company])
    opened = store_query("SELECT kind FROM sync_exceptions WHERE company = ?", [company])
    return cycles, opened


def test_sync_run_on_a_company_never_connected_records_nothing() -> None:
    run_json("config", "set", "secrets", "file")  # the processes below share the secrets
    app_set_beta()

    quiet = qbsync("sync", "run", "-c", "beta", "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (3, "", NOT_CONNECTED)
    loud = qbsync("sync", "run", "-c", "beta", "--dry-run")
    assert loud.returncode == 3 and "company beta is not connected" in loud.stderr, loud.stderr
    as_json = qbsync("sync", "run", "-c", "beta", "--json")
    assert as_json.returncode == 3
    assert json.loads(as_json.stdout)["error"] == {
        "code": "reconnect_required",
        "message": "company beta is not connected",
        "hint": "qbsync connect --company beta",
    }
    assert recorded("beta") == ([], [])
    listed = json.loads(qbsync("exceptions", "list", "--json").stdout)["data"]
    assert listed == []


@pytest.mark.e2e
def test_sync_run_all_syncs_the_connected_and_records_nothing_for_the_other(
    file_company: ConnectedCompany,
) -> None:
    app_set_beta(file_company.server.url)

    done = qbsync("sync", "run", "--all", "--json")
    assert done.returncode == 0, (done.stdout, done.stderr)
    cycles = json.loads(done.stdout)["data"]["cycles"]
    # beta is named, not synced and not a failure: it was never connected.
    assert [(c["company"], c["result"]) for c in cycles] == [
        ("beta", "skipped"),
        ("acme", "succeeded"),
    ]
    assert cycles[0]["summary"] == (
        "beta: skipped: not connected (connect it: qbsync connect --company beta)"
    )
    assert recorded("beta") == ([], [])
    quiet = qbsync("sync", "run", "--all", "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")

    # Named, it says what to do; acme's next cycle is unaffected.
    alone = qbsync("sync", "run", "-c", "beta", "--quiet")
    assert (alone.returncode, alone.stderr) == (3, NOT_CONNECTED)
    assert recorded("beta") == ([], [])
    assert qbsync("sync", "run", "-c", "acme", "--quiet").returncode == 0


@pytest.mark.e2e
def test_a_disconnected_company_is_not_connected_not_refused(
    file_company: ConnectedCompany,
) -> None:
    assert qbsync("sync", "run", "--quiet").returncode == 0
    assert qbsync("disconnect", "-c", "acme", "-y", "--quiet").returncode == 0
    before = recorded("acme")

    quiet = qbsync("sync", "run", "--quiet")
    assert (quiet.returncode, quiet.stdout) == (3, "")
    assert quiet.stderr == (
        "error: company acme is not connected (hint: qbsync connect --company acme)\n"
    )
    assert recorded("acme") == before
    assert [e for e in before[1] if e["kind"] == "connection_auth_failed"] == []
