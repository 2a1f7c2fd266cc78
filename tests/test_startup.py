"""Start-up: `--help`, `--version`, completion and `status` import only what they use.

The root help comes from a static table (qbsync/cli/root_help.py) without importing Typer or
any command; these tests hold it to the real command line, word for word, at several widths.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import typer
from typer.testing import CliRunner

from qbsync.cli.app import build, command_names
from qbsync.cli.root_help import SUMMARIES, help_width, render
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json

# Runs main() with argv, then prints which of the watched modules were imported.
PROBE = """
import contextlib, io, sys
sys.argv = ["qbsync", *sys.argv[1:]]
from qbsync.cli.app import main
code = 0
try:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main()
except SystemExit as exit:
    code = exit.code
loaded = [m for m, mod in sys.modules.items() if mod is not None]  # None: an import refused
print(",".join(sorted(m for m in loaded if m.split(".")[0] in WATCH or m in WATCH)))
print(code)
"""
HEAVY = {"httpx", "keyring", "qbsync.sim", "sqlite_utils.cli", "ruamel", "starlette", "uvicorn"}
NOTHING_BUT_QBSYNC = {"typer", "click", "rich", "pydantic", "yaml", "sqlite_utils", *HEAVY}


def _imported(*args: str, watch: set[str]) -> set[str]:
    return _probe(*args, watch=watch)[0]


def _probe(*args: str, watch: set[str]) -> tuple[set[str], int | str | None]:
    """The watched modules `qbsync ARGS` imported, and the code it exited with."""
    code = f"WATCH = {sorted(watch)!r}\n{PROBE}"
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    modules, exit_code = proc.stdout.rstrip("\n").split("\n")
    return {m for m in modules.split(",") if m}, int(
        exit_code
    ) if exit_code.isdigit() else exit_code


@pytest.mark.parametrize("width", [50, 62, 78])
def test_static_root_help_is_the_command_lines_help(width: int) -> None:
    real = CliRunner().invoke(build(), ["--help"], prog_name="qbsync", terminal_width=width)
    assert real.exit_code == 0
    assert render(width) == real.stdout


@pytest.mark.parametrize("columns", ["30", "52", "64", "80", "200"])
def test_help_width_follows_clicks_rule(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.core import _click

    monkeypatch.setenv("COLUMNS", columns)
    assert help_width() == _click.HelpFormatter().width


def test_every_summary_is_its_commands_help() -> None:
    root = typer.main.get_command(build())
    ctx = root.make_context("qbsync", ["status"])
    real = {}
    for name in root.list_commands(ctx):  # type: ignore[attr-defined]
        cmd = root.get_command(ctx, name)  # type: ignore[attr-defined]
        real[name] = " ".join((cmd.help or "").split("\n\n")[0].split())
    assert [name for name, _ in SUMMARIES] == command_names() == list(real)
    assert dict(SUMMARIES) == real


def test_root_help_is_the_static_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qbsync.cli import app

    for argv in (["--help"], ["-h"]):
        monkeypatch.setattr(sys, "argv", ["qbsync", *argv])
        app.main()
        assert capsys.readouterr().out == render()
    monkeypatch.setattr(sys, "argv", ["qbsync"])
    with pytest.raises(SystemExit) as bare:
        app.main()
    assert bare.value.code == 2 and capsys.readouterr().err == render()


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"], []])
def test_help_and_version_import_no_library(argv: list[str]) -> None:
    assert _imported(*argv, watch=NOTHING_BUT_QBSYNC) == set()


@pytest.mark.slow
def test_status_imports_neither_http_nor_the_simulator(sample_ledger: SampleLedger) -> None:
    # Nor pydantic (60 ms): the config is checked by qbsync.records, and Typer is kept below
    # 0.29, which converts every option through pydantic.
    watch = HEAVY | {"typer", "pydantic", "pydantic_core"}
    imported = _imported("status", "--company", sample_ledger.company, watch=watch)
    assert imported & {"typer"}  # it did run the command line
    assert not imported & (watch - {"typer"}), imported


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "history", "--json"],
        ["sync", "history", "-q"],
        ["sync", "status", "--json"],
        ["status", "--json"],
        ["status", "-q"],
        ["exceptions", "list", "--json"],
        ["invoices", "list", "--json"],
        ["mappings", "list", "--json"],
        ["reconcile", "--json"],
    ],
)
def test_json_and_quiet_load_no_renderer(sample_ledger: SampleLedger, argv: list[str]) -> None:
    # rich is for people: cron's `sync run --quiet` or `status --quiet` and a script's --json
    # never load it.
    imported = _imported(*argv, "--company", sample_ledger.company, watch={"rich", "typer"})
    assert imported & {"typer"}  # it did run the command line
    assert not imported & {"rich"}, imported


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--json"],
        ["exceptions", "list", "--json"],
        ["invoices", "list", "--json"],
        ["mappings", "list", "--json"],
    ],
)
def test_listings_load_no_sync_engine(sample_ledger: SampleLedger, argv: list[str]) -> None:
    # A listing reads the store: the sync engine, asyncio and httpx are for commands that act.
    watch = {"asyncio", "httpx", "qbsync.sync.context", "qbsync.sync.outbound", "typer"}
    imported = _imported(*argv, "--company", sample_ledger.company, watch=watch)
    assert imported & {"typer"}  # it did run the command line
    assert not {m for m in imported if m.split(".")[0] != "typer"}, imported


@pytest.mark.slow
def test_a_migrated_store_opens_without_sqlite_utils(sample_ledger: SampleLedger) -> None:
    # sqlite-utils (with click, pluggy and dateutil) is loaded only to apply schema steps.
    watch = {"sqlite_utils", "click", "pluggy", "dateutil"}
    assert _imported("status", "--company", sample_ledger.company, watch=watch) == set()


# Counts the looks at every installed package's metadata (plugin discovery) during a command.
SCANS = """
import contextlib, importlib.metadata as md, io, sys
seen = []
for name in ("distributions", "entry_points"):
    real = getattr(md, name)
    setattr(md, name, lambda *a, _real=real, _name=name, **k: seen.append(_name) or _real(*a, **k))
sys.argv = ["qbsync", *sys.argv[1:]]
from qbsync.cli.app import main
try:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main()
except SystemExit:
    pass
print(len(seen))
"""


@pytest.mark.slow
def test_status_looks_for_no_plugins(sample_ledger: SampleLedger) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    proc = subprocess.run(
        [sys.executable, "-c", SCANS, "status", "--company", sample_ledger.company],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert proc.stdout.strip() == "0"


@pytest.mark.slow
def test_completion_loads_only_the_group_it_completes() -> None:
    watch = {"qbsync.cli.sync_cmd", "qbsync.cli.sim", "qbsync.cli.wizard", "qbsync.cli.status"}
    env = {**os.environ, "_QBSYNC_COMPLETE": "complete_bash", "COMP_CWORD": "1"}
    code = f"WATCH = {sorted(watch)!r}\n{PROBE}"
    root_tab = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "COMP_WORDS": "qbsync s"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert root_tab.stdout.splitlines()[0] == ""
    sub_tab = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "COMP_WORDS": "qbsync sync r", "COMP_CWORD": "2"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert sub_tab.stdout.splitlines()[0] == "qbsync.cli.sync_cmd"


def test_root_completion_lists_commands_from_the_table() -> None:
    root = typer.main.get_command(build())
    assert type(root).__name__ == "LazyRoot"
    ctx = root.make_context("qbsync", [], resilient_parsing=True)
    names = [item.value for item in root.shell_complete(ctx, "s")]
    assert names == ["status", "sync", "sim"]


@pytest.mark.slow
def test_httpx_and_the_secrets_module_load_nothing_they_do_not_use() -> None:
    # httpx's own command line (click, pygments) is never used; keyring only by the keyring
    # store, which a `secrets: file` host never opens.
    code = (
        "import sys, qbsync, httpx, qbsync.secrets\n"
        "httpx.AsyncClient()\n"
        "print(sorted(m for m in ('click', 'pygments', 'keyring') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_sync_cycle_loads_no_pydantic() -> None:
    # pydantic is for the ledger's import models; a cycle reads stored rows, and cron runs
    # one 96 times a day per company.
    code = (
        "import sys, qbsync.sync.cycle, qbsync.cli.sync_cmd\n"
        "print(sorted(m for m in ('pydantic', 'qbsync.ledger.models') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.e2e
def test_an_idle_cycle_loads_only_what_it_uses(file_company: ConnectedCompany) -> None:
    # httpx's async transport loads anyio's asyncio backend (about 20 ms), its blocking one
    # httpcore and h11 (about 40 ms); the cycle's requests go through http.client on threads
    # (qbsync/qbo/transport.py) instead. With
    # nothing to send, the export modules stay unloaded; with QBSYNC_HOME set, platformdirs.
    # cron's command line is read without Typer (qbsync/cli/fast.py).
    # With no `notify:` targets, the delivery code stays unloaded too; with no change read,
    # the appliers and the ledger's writers; with no client changed, the customer updates.
    exports = {
        "qbsync.sync.outbound.exports",
        "qbsync.sync.outbound.numbers",
        "qbsync.notify.dispatch",
        "qbsync.sync.inbound.drift",
        "qbsync.sync.inbound.payments",
        "qbsync.sync.inbound.customers",
        "qbsync.sync.outbound.customers",
        "qbsync.sync.payloads",
        "qbsync.mappings.store",
        "qbsync.ledger.store",
        "qbsync.qbo.batch",
    }
    watch = {"anyio", "filelock", "platformdirs", "typer", "httpcore", "h11", "uuid"}
    watch |= {"qbsync.qbo.transport", *exports}
    # A first cycle reads what the simulator held at the connection. The overlap the next one
    # reads again is a second (QuickBooks' times are whole seconds), and nothing changes in
    # QuickBooks in between: that one reads an empty window.
    run_json("config", "set", "sync.overlap", "1s")
    time.sleep(2.5)
    run_json("sync", "run", "--company", file_company.key)
    time.sleep(1.1)
    imported, code = _probe("sync", "run", "--quiet", "--company", file_company.key, watch=watch)
    # The cycle ran, and well: it read its secrets (a file: the test's keyring is in-process
    # only) and made its calls.
    cycle = max(run_json("sync", "history")["data"], key=lambda c: c["id"])
    assert code == 0 and cycle["result"] == "succeeded", cycle
    assert cycle["ops_processed"] == 0 and cycle["api_calls"] > 0, cycle
    assert cycle["inbound_changes"] == 0, cycle
    assert "qbsync.qbo.transport" in imported  # the cycle did make its request
    unused_packages = ("anyio._backends", "filelock", "platformdirs", "typer", "httpcore", "h11")
    unused_packages += ("uuid",)  # with `platform`: requestids come from os.urandom
    unused = {m for m in imported if m.startswith(unused_packages)}
    assert not unused | (imported & exports), imported
