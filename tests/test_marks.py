"""The guards that keep `slow` and `e2e` true (tests/fixtures/guards.py) catch what they must
and let the rest through."""

from __future__ import annotations

import socket
import sys
from typing import Any

import pytest

from tests.fixtures import guards


class Item:
    """Enough of a collected test for the collection check."""

    def __init__(self, *marks: str, fixtures: tuple[str, ...] = ()) -> None:
        self.marks = {name: getattr(pytest.mark, name).mark for name in marks}
        self.fixturenames = list(fixtures)

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.marks.get(name)


def mismatch(item: Item) -> str | None:
    return guards._mismatch(item)  # type: ignore[arg-type]


def test_collection_wants_socket_fixtures_marked_e2e_and_e2e_marked_slow() -> None:
    assert mismatch(Item()) is None
    assert mismatch(Item(fixtures=("connected_company",))) is None  # in-process
    assert mismatch(Item("slow", "e2e", fixtures=("served_company",))) is None
    for fixture in guards.SOCKET_FIXTURES:
        assert mismatch(Item("slow", fixtures=(fixture,))) == (
            "serves the simulator on a socket but is not marked e2e"
        )
    assert mismatch(Item("e2e")) == "marked e2e but not slow"


def test_network_sockets_are_refused_and_local_pipes_let_through() -> None:
    seen: list[str] = []
    connect = guards._no_network(lambda sock, *args: "connected", seen)
    left, right = socket.socketpair()
    with left, right:
        assert connect(left, "ignored") == "connected"
    assert seen == []
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        pytest.raises(AssertionError, match="marked e2e and slow"),
    ):
        connect(tcp, ("127.0.0.1", 9))
    assert len(seen) == 1 and "network socket" in seen[0]


def test_python_processes_are_refused_and_other_programs_let_through() -> None:
    seen: list[str] = []
    start: Any = guards._no_python(lambda proc, *args, **kwargs: "started", seen)
    assert start(None, ["/sbin/ldconfig", "-p"]) == "started"
    assert seen == []
    with pytest.raises(AssertionError, match="marked slow"):
        start(None, [sys.executable, "-c", "pass"])
    with pytest.raises(AssertionError, match="marked slow"):
        start(None, args=["qbsync", "sync", "run"])
    assert len(seen) == 2
