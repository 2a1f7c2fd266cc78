"""A cycle stopped by an unexpected error ends `failed` with the error, not `running`."""

from __future__ import annotations

import pytest

from qbsync.sync import cycle as cycle_module
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import map_demo


def test_an_unexpected_error_ends_the_cycle_failed_and_the_next_one_runs(
    connected_company: ConnectedCompany,
    sample_ledger: SampleLedger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    map_demo(connected_company.key)

    def broken(ctx: object) -> int:
        raise RuntimeError("the store went away")

    with monkeypatch.context() as patched:
        patched.setattr(cycle_module, "close_voided_in_ledger", broken)
        result = run("sync", "run", "--json")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    last = run_json("sync", "status")["data"]
    assert last["result"] == "failed", last
    assert "RuntimeError: the store went away" in (last.get("error") or "")
    [company] = run_json("status", code=1)["data"]["companies"]
    assert (company["running_cycle"], company["interrupted_cycle"]) == (None, None)

    [again] = run_json("sync", "run")["data"]["cycles"]
    assert again["result"] == "succeeded", again
