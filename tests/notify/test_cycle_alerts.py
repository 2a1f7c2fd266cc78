"""The alert call at the end of a cycle, in-process against the simulator: a cycle stopped by
an unexpected error is told as failed, a dry run tells nothing, and a failing target leaves the
cycle's result and exit code as the sync decided."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qbsync.sync import cycle as cycle_module
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.notify.helpers import write_notify
from tests.support import run, run_json
from tests.sync.helpers import map_demo


def catcher(path: Path) -> dict[str, Any]:
    """A command target that appends each event it gets to `path`, one JSON per line."""
    script = f"tr -d '\\n' >> {path}; echo >> {path}"
    return {"name": "catcher", "type": "command", "command": ["sh", "-c", script]}


def received(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_crashed_cycle_is_told_as_failed_and_a_dry_run_tells_nothing(
    connected_company: ConnectedCompany,
    sample_ledger: SampleLedger,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    map_demo(connected_company.key)
    got = tmp_path / "events.jsonl"
    write_notify([catcher(got)])
    ctl = connected_company.control
    ctl.inject_fault("/v3/company/*/cdc*", method="GET", status=503)
    dry = run_json("sync", "run", "--dry-run", code=1)["data"]["cycles"][0]
    assert dry["result"] == "failed" and received(got) == []
    ctl.clear_faults()

    def broken(ctx: object) -> int:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(cycle_module, "close_voided_in_ledger", broken)
    assert run("sync", "run").exit_code == 1
    [told] = received(got)
    assert told["event"] == "cycle_failed" and told["events"] == ["cycle_failed"]
    assert "RuntimeError: the store went away" in told["cycle"]["error"]
    assert told["cycle"]["cycle_id"] == run_json("sync", "status")["data"]["id"]


def test_a_failing_target_leaves_the_result_and_exit_code_alone(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    map_demo(connected_company.key)
    write_notify([{"name": "broken", "type": "command", "command": ["sh", "-c", "exit 7"]}])
    connected_company.control.inject_fault("/v3/company/*/batch", method="POST", status=400)
    quiet = run("sync", "run", "--quiet")  # exceptions opened: the digest's target fails
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    [cycle] = run_json("sync", "run")["data"]["cycles"]
    assert cycle["result"] == "succeeded" and cycle["exit_code"] == 0
