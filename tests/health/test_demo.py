"""`qbsync demo`: the whole story on the simulator, run through the real CLI."""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import pytest

from tests.support import run, run_json


@pytest.mark.slow
@pytest.mark.e2e
def test_demo_runs_the_story_and_leaves_nothing_behind(qbsync_home: Path) -> None:
    started = time.monotonic()
    data = run_json("demo")["data"]
    elapsed = time.monotonic() - started
    assert elapsed < 60
    home = Path(data["home"])
    assert not home.exists(), "the temporary home must be removed"
    assert not data["kept"]
    assert os.environ["QBSYNC_HOME"] == str(qbsync_home)  # the caller's home is restored
    assert not qbsync_home.exists() or not any(qbsync_home.iterdir())

    steps = {s["name"]: s for s in data["steps"]}
    assert steps["connect through OAuth"]["data"]["realm_id"]
    assert len(steps["match customers"]["data"]["accepted"]) == 4  # the wizard matched them
    assert "customers" not in {m["kind"] for m in steps["import the mappings"]["data"]["added"]}
    first = steps["first sync cycle"]["data"]
    assert first["result"] == "succeeded" and first["stats"]["exported"] == 4
    agree = steps["totals agree to the cent"]["data"]
    assert agree["total_mismatch"] == 0
    taxed = {d["number"]: d for d in agree["documents"] if d["ledger_tax"] != "0.00"}
    assert taxed["1002"] == {
        "number": "1002",
        "ledger_total": "1040.34",  # 937.50 + 95.00 + 7.84 tax (95.00 at 8.25 %)
        "ledger_tax": "7.84",
        "quickbooks_total": "1040.34",
        "quickbooks_tax": "7.84",
    }
    assert len(agree["documents"]) == 4 and "1001" in taxed
    second = steps["second sync cycle"]["data"]["stats"]
    assert second["payments_applied"] == 1 and second["drift_found"] == 1
    paid = steps["the payment reached the ledger"]["data"]
    assert sorted(p["source"] for p in paid["payments"]) == ["local", "quickbooks"]
    assert "qty: 4 -> 5" in steps["the edit is drift"]["detail"]
    assert steps["resolve it"]["data"]["action"] == "reexport"
    assert steps["a last, idle cycle"]["data"]["stats"]["drift_found"] == 0
    assert data["health"]["level"] == "green"
    assert data["health"]["open_exceptions"] == 0
    assert any("qbsync status" in line for line in data["explore"])


@pytest.mark.slow
@pytest.mark.e2e
def test_demo_home_is_kept_and_explorable(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    out = run("demo", "--home", str(kept))
    assert out.exit_code == 0, out.output
    assert "✓ connect through OAuth" in out.stdout
    assert f"QBSYNC_HOME={kept} qbsync status" in out.stdout
    assert (kept / "config.yaml").exists()
    os.environ["QBSYNC_HOME"] = str(kept)  # restored by the autouse fixture's monkeypatch
    [company] = run_json("status")["data"]["companies"]
    assert company["level"] == "green" and company["last_cycle"]["result"] == "succeeded"
    invoices = run_json("invoices", "list")["data"]
    assert {r["id"]: r["sync_state"] for r in invoices}["INV-1002"] == "synced"


def test_demo_refuses_a_home_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    err = run_json("demo", "--home", str(tmp_path), code=2)["error"]
    assert "not empty" in err["message"]


def test_the_story_does_not_import_the_cli() -> None:
    """The CLI sits above the demo: the story gets a callable that runs a command instead."""
    import qbsync.demo

    for source in Path(qbsync.demo.__path__[0]).rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imported = [
            name
            for node in ast.walk(tree)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        ]
        assert not [n for n in imported if n.startswith("qbsync.cli")], source
