"""Helpers shared by tests: run the real CLI in-process and read its JSON."""

from __future__ import annotations

import json
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
