"""cron's `sync run` read without Typer (qbsync/cli/fast.py) gives the command the very values
Typer's parse gives it, and leaves every other command line to Typer."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from qbsync.cli import fast, sync_cmd, sync_run
from qbsync.cli.app import app
from qbsync.cli.output import MODE, Outcome
from tests.support import run

READ_HERE = [
    [],
    ["--quiet"],
    ["-q"],
    ["--json"],
    ["--all"],
    ["--full", "--dry-run"],
    ["--company", "acme"],
    ["-c", "acme"],
    ["--company=acme"],
    ["-q", "--json", "--full", "--dry-run", "-c", "acme"],
    ["--all", "--company", "acme"],  # refused by the command itself, alike
    ["--dry-run", "--all", "-q"],
]


def _recorder(calls: list[dict[str, Any]]) -> Any:
    def run_cycles(company: str | None, all_: bool, full: bool, dry_run: bool) -> Outcome:
        calls.append(
            {
                "company": company,
                "all_": all_,
                "full": full,
                "dry_run": dry_run,
                "mode": (MODE.json, MODE.quiet, MODE.format),
            }
        )
        return Outcome({"cycles": []}, 0)

    return run_cycles


def _both(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[Any, Any]:
    by_typer: list[dict[str, Any]] = []
    by_fast: list[dict[str, Any]] = []
    with monkeypatch.context() as patch:
        patch.setattr(sync_cmd, "run_cycles", _recorder(by_typer))
        result = run("sync", "run", *args)
        assert result.exit_code == 0, result.output
    with monkeypatch.context() as patch:
        patch.setattr(sync_run, "run_cycles", _recorder(by_fast))
        assert fast.sync_run(args) is True
    return by_typer, by_fast


@pytest.mark.parametrize("args", READ_HERE, ids=lambda a: " ".join(a) or "bare")
def test_both_readings_give_the_command_the_same_values(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_typer, by_fast = _both(monkeypatch, args)
    assert len(by_typer) == 1 and by_fast == by_typer


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"QBSYNC_COMPANY": "acme"}, []),
        ({"QBSYNC_COMPANY": "acme"}, ["-c", "other"]),
        ({"QBSYNC_COMPANY": ""}, ["-q"]),
        ({"QBSYNC_FORMAT": "json"}, ["-q"]),
        ({"QBSYNC_FORMAT": "csv"}, []),
    ],
)
def test_the_environment_is_read_alike(
    env: dict[str, str], args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    by_typer, by_fast = _both(monkeypatch, args)
    assert len(by_typer) == 1 and by_fast == by_typer


@pytest.mark.parametrize(
    "args",
    [
        ["-h"],
        ["--help"],
        ["--bogus"],
        ["-c"],
        ["--company"],
        ["-q", "-q"],
        ["--quiet", "-q"],
        ["-c", "Bad!"],
        ["--company="],
        ["--format", "json"],
        ["extra"],
        ["--"],
        ["-qc", "acme"],
        ["--company=acme", "-c", "acme"],
    ],
    ids=lambda a: " ".join(a),
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert fast.read_sync_run(args) is None


def test_a_company_from_the_environment_that_breaks_the_rule_is_left_to_typer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QBSYNC_COMPANY", "Not A Key")
    assert fast.read_sync_run(["-q"]) is None


def test_it_knows_every_option_sync_run_has() -> None:
    # A new option on `sync run` fails this until fast.py reads it (or the test says why not).
    group = typer.main.get_command(app).get_command(None, "sync")  # type: ignore[attr-defined]
    command = group.get_command(None, "run")
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    assert options - {"-h", "--help"} == set(fast.FLAGS) | set(fast.COMPANY)
