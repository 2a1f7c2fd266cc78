"""Destructive commands confirm: asked at a terminal, skipped with --yes or -y, refused (exit 2,
one line naming --yes, nothing done) without a terminal, under --json or with QBSYNC_NO_INPUT."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from qbsync.cli import confirm
from qbsync.companies.credentials import client_secret_name
from tests.support import MemoryKeyring, run, run_json

DESTRUCTIVE = [
    ("invoices", "void", "INV-1", "--reason", "issued twice"),
    ("disconnect",),
    ("app", "forget"),
    ("mappings", "delete", "customers", "CL-1"),
    ("companies", "remove", "acme"),
]


@pytest.fixture
def acme(memory_keyring: MemoryKeyring) -> MemoryKeyring:
    run_json("app", "set", "-c", "acme", "--client-id", "ID", "--env", "sandbox", input="s3\n")
    return memory_keyring


@pytest.mark.parametrize("args", DESTRUCTIVE, ids=lambda a: " ".join(a[:2]))
def test_without_a_terminal_they_refuse_naming_yes(acme: MemoryKeyring, args: tuple) -> None:
    result = run(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "pass --yes" in result.stderr, result.stderr
    assert ("qbsync", client_secret_name("acme")) in acme.items  # nothing was done
    refused = run_json(*args, code=2)["error"]
    assert "pass --yes" in refused["message"]


def test_yes_and_y_skip_the_question(acme: MemoryKeyring) -> None:
    assert run_json("app", "forget", "-y")["data"] == {"company": "acme", "forgotten": True}
    assert ("qbsync", client_secret_name("acme")) not in acme.items
    assert run_json("app", "forget", "--yes")["data"]["forgotten"] is False


def test_at_a_terminal_it_asks_and_no_changes_nothing(
    acme: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confirm, "_at_terminal", lambda: True)
    declined = run("app", "forget", input="n\n")
    assert declined.exit_code == 1
    assert "forget the Intuit app credentials of acme? [y/N]" in declined.stderr
    assert "cancelled; nothing was changed" in declined.stderr
    assert ("qbsync", client_secret_name("acme")) in acme.items

    agreed = run("app", "forget", input="y\n")
    assert agreed.exit_code == 0, agreed.stderr
    assert ("qbsync", client_secret_name("acme")) not in acme.items


def test_no_input_refuses_even_at_a_terminal(
    acme: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confirm, "_at_terminal", lambda: True)
    monkeypatch.setenv("QBSYNC_NO_INPUT", "1")
    result = run("app", "forget", input="y\n")
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert ("qbsync", client_secret_name("acme")) in acme.items


@pytest.mark.slow
def test_a_real_terminal_is_asked(memory_keyring: MemoryKeyring) -> None:
    run_json("config", "set", "secrets", "file")
    run_json("app", "set", "-c", "acme", "--client-id", "ID", "--env", "sandbox", input="s3\n")
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1"}
    env.pop("QBSYNC_NO_INPUT", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qbsync.cli.app import main; main()", "app", "forget"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    end = time.monotonic() + 30
    while b"[y/N]" not in seen and time.monotonic() < end:
        if select.select([master], [], [], 0.2)[0]:
            seen += os.read(master, 4096)
    assert b"forget the Intuit app credentials of acme? [y/N]" in seen, seen
    os.write(master, b"y\n")
    assert proc.wait(timeout=30) == 0
    os.close(master)
    assert run_json("app", "show")["data"]["client_secret"] == "missing"
