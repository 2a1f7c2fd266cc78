"""The operators' pages, true by test: the systemd units in docs/cron-and-systemd.md run as
written (ExecStart, ExecReload, the environment, the paths), and every command of the
configuration page's example block runs as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from qbsync.sync.lock import company_lock
from tests.cli.test_cron import INSTALLED, _qbsync
from tests.fixtures.qbo import ConnectedCompany
from tests.sync.helpers import store_query

pytestmark = [pytest.mark.slow]

DOCS = Path(__file__).resolve().parents[2] / "docs"
SYSTEMD_PAGE = DOCS / "cron-and-systemd.md"
CONFIG_PAGE = DOCS / "configuration.md"
DOC_HOME = "/var/lib/qbsync"


def _units() -> dict[str, str]:
    """The page's unit files by name, as written: the name is the path the text gives."""
    text = SYSTEMD_PAGE.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for match in re.finditer(r"```ini\n(.*?)```", text, re.S):
        before = text[: match.start()]
        named = re.findall(r"/etc/systemd/system/([\w.-]+\.(?:service|timer))", before)
        assert named, "a unit block without its path before it"
        found[named[-1]] = match.group(1)
    assert set(found) == {"qbsync.service", "qbsync-sync.service", "qbsync-sync.timer"}, found
    return found


def _keys(unit: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            name, value = line.split("=", 1)
            keys[name] = value
    return keys


def _env(home: Path) -> dict[str, str]:
    """What systemd gives the service: the unit's Environment= (its QBSYNC_HOME made this test's
    home), a PATH, and INVOCATION_ID."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home.parent),
        "QBSYNC_HOME": str(home),
        "INVOCATION_ID": "5c1d2a1e8c0b4f1e9d3a7b6c5d4e3f2a",
    }


def _command(keys: dict[str, str], key: str) -> list[str]:
    line = keys[key]
    assert line.startswith(INSTALLED + " "), line
    return [_qbsync(), *shlex.split(line.removeprefix(INSTALLED + " "))]


def _paths_and_environment(keys: dict[str, str]) -> None:
    assert keys["Environment"] == f"QBSYNC_HOME={DOC_HOME}"
    if "ReadWritePaths" in keys:
        assert keys["ReadWritePaths"] == DOC_HOME  # the home is the only place it writes


def _verify(tmp_path: Path, units: dict[str, str]) -> None:
    """systemd's own check of the units, the program path made this test's."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the keys were checked above; systemd itself is not on this machine
    for name, text in units.items():
        (tmp_path / name).write_text(text.replace(INSTALLED, _qbsync()))
    done = subprocess.run(
        [analyze, "verify", *(str(tmp_path / n) for n in units)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [line for line in done.stderr.splitlines() if any(n in line for n in units)]
    assert done.returncode == 0 and problems == [], done.stderr


@pytest.mark.e2e
def test_the_daemon_unit_runs_as_written(
    file_company: ConnectedCompany, qbsync_home: Path, tmp_path: Path
) -> None:
    units = _units()
    keys = _keys(units["qbsync.service"])
    _paths_and_environment(keys)
    assert keys["Restart"] == "on-failure" and "RestartPreventExitStatus" not in keys
    assert keys["KillSignal"] == "SIGTERM"
    _verify(tmp_path, units)

    proc = subprocess.Popen(
        _command(keys, "ExecStart"),
        env=_env(qbsync_home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        end = time.monotonic() + 60
        while not store_query("SELECT id FROM sync_cycles WHERE result = 'succeeded'"):
            assert proc.poll() is None and time.monotonic() < end, "no cycle"
            time.sleep(0.1)
        reload = keys["ExecReload"].replace("$MAINPID", str(proc.pid))
        assert subprocess.run(shlex.split(reload), timeout=30).returncode == 0
        time.sleep(1)
    finally:
        proc.send_signal(getattr(signal, keys["KillSignal"]))
        out, err = proc.communicate(timeout=float(keys["TimeoutStopSec"]))
    assert proc.returncode == 0 and out == b"", err
    text = err.decode()
    assert "acme: succeeded in" in text and "reload requested" in text, text


def test_the_daemon_unit_without_a_company_fails_for_restart(
    qbsync_home: Path, tmp_path: Path
) -> None:
    keys = _keys(_units()["qbsync.service"])
    done = subprocess.run(
        _command(keys, "ExecStart"),
        env=_env(qbsync_home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 78 and done.stdout == b""  # a failure: Restart=on-failure
    assert done.stderr.count(b"\n") == 1 and done.stderr.startswith(b"error: no company to sync")
    assert str(done.returncode) not in keys.get("SuccessExitStatus", "")


@pytest.mark.e2e
def test_the_timer_service_runs_as_written(
    file_company: ConnectedCompany, qbsync_home: Path, tmp_path: Path
) -> None:
    units = _units()
    keys = _keys(units["qbsync-sync.service"])
    _paths_and_environment(keys)
    timer = _keys(units["qbsync-sync.timer"])
    assert timer["OnUnitActiveSec"] == "15min" and "every 15 minutes" in timer["Description"]

    def run() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            _command(keys, "ExecStart"),
            env=_env(qbsync_home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )

    done = run()
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    with company_lock(file_company.key, "a test holding the lock"):
        held = run()
    assert (held.returncode, held.stdout, held.stderr) == (75, b"", b"")
    assert keys["SuccessExitStatus"] == "75"  # systemd counts the skipped run as a success


def _config_commands() -> list[str]:
    text = CONFIG_PAGE.read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "docs/configuration.md has no sh block"
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def test_the_configuration_page_commands_run_as_written(qbsync_home: Path) -> None:
    commands = _config_commands()
    assert "qbsync config set sync.interval 10m" in commands
    env = {**os.environ, "QBSYNC_HOME": str(qbsync_home)}
    for line in commands:
        words = shlex.split(line)
        assert words[0] == "qbsync", line
        done = subprocess.run(
            [_qbsync(), *words[1:]], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, (line, done.stderr)
        if words[1:3] == ["config", "get"]:
            assert done.stdout == "15m\n"  # run before the set below: the default, with its unit
    final = (qbsync_home / "config.yaml").read_text()
    assert final == "sync:\n  interval: 10m\ncompanies:\n  acme:\n    go_live: 2026-01-01\n"
