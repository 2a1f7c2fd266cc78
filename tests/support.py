"""Helpers shared by tests: run the real CLI in-process and read its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring.backend
from click.testing import Result
from typer.testing import CliRunner

from qbsync.cli.app import app


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend, registered through keyring.set_keyring() in tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError(username)
        del self.items[(service, username)]


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def run_json(*args: str, input: str | None = None, code: int = 0) -> Any:
    """Run with --json, check the exit code, return the parsed stdout."""
    result = run(*args, "--json", input=input)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


# Whether another process could take the byte range SQLite's SHARED lock sits on: an open
# connection in WAL mode holds it for as long as it is open.
_LOCK_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002)
    print("free")
except OSError:
    print("held")
"""


def shared_lock_held(path: Path) -> bool:
    """Whether some process holds SQLite's shared lock on the database file `path`."""
    import subprocess
    import sys

    probe = subprocess.run(
        [sys.executable, "-c", _LOCK_PROBE, str(path)], capture_output=True, text=True, check=True
    )
    return probe.stdout.strip() == "held"
