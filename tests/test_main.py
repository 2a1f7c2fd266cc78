"""`python -m qbsync` is the same command line as the `qbsync` script: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qbsync import __version__

# Runs a fresh Python process.
pytestmark = pytest.mark.slow


def qbsync_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qbsync", *args], capture_output=True, text=True, timeout=60
    )


def test_python_dash_m_runs_the_command_line() -> None:
    version = qbsync_module("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"qbsync {__version__}"
    shown = qbsync_module("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["data"]["secrets"] == "keyring"


def test_python_dash_m_keeps_exit_codes_and_program_name() -> None:
    unknown = qbsync_module("companies", "show", "nosuch", "--json")
    assert unknown.returncode == 2
    assert json.loads(unknown.stdout)["error"]["code"] == "not_found"
    usage = qbsync_module("nosuch")
    assert usage.returncode == 2
    assert "Usage: qbsync" in usage.stderr
