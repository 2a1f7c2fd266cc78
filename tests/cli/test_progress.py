"""Progress bars at a terminal show done/total, rate, elapsed time and time left, and stay on
screen when done; under --quiet, --json or a pipe there are none."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import time

import pytest
from rich.console import Console

from qbsync.cli import output, render
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run
from tests.sync.helpers import cli_env, map_demo, qbsync_cmd


def test_bars_show_rate_elapsed_and_eta_and_stay_on_screen() -> None:
    bars = render.progress_bars()
    assert bars.live.transient is False
    screen = io.StringIO()
    bars.live.console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    with bars:
        task = bars.add_task("outbound", total=40)
        for done in range(0, 41, 10):
            bars.update(task, completed=done)
            time.sleep(0.05)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue()).replace("\r", "\n")
    last = [line for line in plain.splitlines() if "outbound" in line][-1]
    assert re.search(r"outbound .* 40/40 +\d+(\.\d)?/s +0:00:0\d +eta +0:00:00", last), last


def test_no_bars_under_quiet_json_or_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
    connected_company: ConnectedCompany,
    sample_ledger: SampleLedger,
) -> None:
    map_demo(connected_company.key)
    result = run("sync", "run")  # in a pipe
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "" and "eta" not in result.stdout

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(output.sys, "stderr", Tty())
    monkeypatch.setattr(output.MODE, "quiet", False)
    monkeypatch.setattr(output.MODE, "json", False)
    assert output.show_progress()
    monkeypatch.setattr(output.MODE, "quiet", True)
    assert not output.show_progress()
    monkeypatch.setattr(output.MODE, "quiet", False)
    monkeypatch.setattr(output.MODE, "json", True)
    assert not output.show_progress()
    monkeypatch.setattr(output.MODE, "json", False)
    monkeypatch.setattr(output.sys, "stderr", io.StringIO())  # a pipe
    assert not output.show_progress()


def _at_a_terminal(*args: str) -> tuple[int, str]:
    """Run qbsync with stderr on a pseudo-terminal; (exit code, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        qbsync_cmd(*args),
        env={**cli_env(), "COLUMNS": "120", "TERM": "xterm"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=30), shown.decode(errors="replace")


@pytest.mark.slow
@pytest.mark.e2e
def test_at_a_terminal_the_bars_stay_and_under_quiet_nothing_shows(
    file_company: ConnectedCompany, sample_ledger: SampleLedger
) -> None:
    map_demo(file_company.key)
    code, shown = _at_a_terminal("sync", "run", "--quiet")
    assert (code, shown) == (0, ""), shown
    file_company.control.set_latency(per_request_ms=50, per_batch_item_ms=50)
    from tests.support import run_json

    run_json("sync", "run", "--full")  # whatever is left
    code, shown = _at_a_terminal("sync", "run", "--full")
    assert code == 0, shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r", "\n")
    finals = [line for line in plain.splitlines() if "eta" in line]
    assert finals, plain
    assert re.search(r"/s +\d:\d\d:\d\d +eta", finals[-1]), finals[-1]
