from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from qbsync.cli.output import MODE
from tests.support import MemoryKeyring

# Fixtures shared across areas: the simulator (in-process or on a socket), connected companies,
# seeded ledgers, the checks that keep the slow and e2e marks true, and work done once a run.
pytest_plugins = [
    "tests.fixtures.once",
    "tests.fixtures.sim",
    "tests.fixtures.qbo",
    "tests.fixtures.ledger",
    "tests.fixtures.guards",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Re-recording against a real sandbox is a tool, not a check: it is collected only when
    asked for (QBSYNC_RECORD_SANDBOX=1 with sandbox credentials), never skipped in a run."""
    if os.environ.get("QBSYNC_RECORD_SANDBOX") == "1":
        return
    chosen = [item for item in items if item.get_closest_marker("sandbox") is None]
    dropped = [item for item in items if item.get_closest_marker("sandbox") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen


@pytest.fixture(autouse=True)
def qbsync_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own workspace; nothing touches the real user's files."""
    home = tmp_path / "qbsync-home"
    monkeypatch.setenv("QBSYNC_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("DEBUG", "COMPANY", "CONFIG", "SECRETS", "FORMAT", "NO_INPUT"):
        monkeypatch.delenv(f"QBSYNC_{name}", raising=False)  # a developer's own settings
    MODE.json = MODE.quiet = False
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
