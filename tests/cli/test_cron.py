"""The cron contract, byte for byte: the exact line in docs/cron-and-systemd.md, run by a shell
as cron runs it (no terminal, stdin from /dev/null, only PATH, HOME and QBSYNC_HOME, no D-Bus,
no display) against the simulator on a real socket.

Success and a skipped run (exit 75) print nothing at all; a revoked connection (exit 3) and a
failed cycle (exit 1) print exactly one line on stderr, so cron mails only when it matters."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qbsync.sync.lock import company_lock
from tests.fixtures.qbo import ConnectedCompany

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DOC = Path(__file__).resolve().parents[2] / "docs" / "cron-and-systemd.md"
INSTALLED = "/usr/local/bin/qbsync"  # where the docs' line expects the program


def _crontab() -> tuple[str, str]:
    """(QBSYNC_HOME, command) from the docs' crontab block, exactly as written."""
    block = re.search(r"```cron\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block, "docs/cron-and-systemd.md has no ```cron block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2, lines
    home = lines[0].removeprefix("QBSYNC_HOME=")
    assert home != lines[0], lines[0]
    fields = lines[1].split(maxsplit=5)
    assert fields[:5] == ["*/15", "*", "*", "*", "*"], fields
    return home, fields[5]


def _qbsync() -> str:
    program = Path(sys.executable).parent / "qbsync"
    found = str(program) if program.exists() else shutil.which("qbsync")
    assert found, "the qbsync entry point is not installed"
    return found


class Cron:
    """Runs the crontab's command the way cron does, with this test's home and program."""

    def __init__(self, home: Path, tmp: Path) -> None:
        doc_home, command = _crontab()
        assert command.startswith(INSTALLED + " "), command
        self.command = command.replace(INSTALLED, _qbsync(), 1)
        self.bare = self.command.split(" || ")[0]  # the qbsync part alone, for its exit code
        assert doc_home.startswith("/"), doc_home
        cron_home = tmp / "cron-user"
        cron_home.mkdir()
        # What cron gives a job: its own PATH, HOME, the crontab's variables; nothing else.
        self.env = {"PATH": "/usr/bin:/bin", "HOME": str(cron_home), "QBSYNC_HOME": str(home)}

    def run(self, command: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["/bin/sh", "-c", command],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )

    def line(self) -> subprocess.CompletedProcess[bytes]:
        return self.run(self.command)

    def exit_code(self) -> int:
        """The exit status of qbsync itself (the crontab's line turns 75 into 0)."""
        return self.run(self.bare).returncode


def _one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.endswith("\n") and text.count("\n") == 1, repr(text)
    assert text.startswith("error: "), repr(text)
    return text


def test_the_crontab_line_is_silent_on_success_and_on_a_held_lock(
    file_company: ConnectedCompany, qbsync_home: Path, tmp_path: Path
) -> None:
    cron = Cron(qbsync_home, tmp_path)

    done = cron.line()
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert cron.exit_code() == 0

    with company_lock(file_company.key, "a test holding the lock"):
        assert cron.exit_code() == 75
        skipped = cron.line()
    assert (skipped.returncode, skipped.stdout, skipped.stderr) == (0, b"", b"")


def test_the_crontab_line_says_one_line_when_the_connection_is_revoked(
    file_company: ConnectedCompany, qbsync_home: Path, tmp_path: Path
) -> None:
    cron = Cron(qbsync_home, tmp_path)
    assert file_company.control.revoke_all_tokens(file_company.realm_id) >= 1

    mailed = cron.line()
    assert mailed.returncode != 0 and mailed.stdout == b""
    line = _one_line(mailed.stderr)
    assert f"{file_company.key}: cycle" in line and "aborted" in line, line
    assert f"(hint: reconnect: qbsync connect --company {file_company.key})" in line, line
    assert cron.exit_code() == 3


def test_the_crontab_line_says_one_line_when_a_cycle_fails(
    file_company: ConnectedCompany, qbsync_home: Path, tmp_path: Path
) -> None:
    cron = Cron(qbsync_home, tmp_path)
    # QuickBooks refuses the change read (a request error, not retried): the cycle fails.
    file_company.control.inject_fault("*/cdc*", status=400, code="4000")

    mailed = cron.line()
    assert mailed.returncode != 0 and mailed.stdout == b""
    line = _one_line(mailed.stderr)
    assert f"{file_company.key}: cycle" in line and " failed: inbound: " in line, line
    assert "(hint: see qbsync sync status " in line, line
    assert cron.exit_code() == 1
