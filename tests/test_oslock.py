"""qbsync.oslock: exclusive file locks across processes, freed by the kernel when a holder dies."""

from __future__ import annotations

import errno
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qbsync.oslock import FileLock, LockTimeout

HOLD = """
import sys, time
from qbsync.oslock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_two_locks_on_one_path_exclude_each_other_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first, second = FileLock(path), FileLock(path)
    first.acquire(timeout=0)
    with pytest.raises(LockTimeout):
        second.acquire(timeout=0)
    first.release()
    second.acquire(timeout=0)
    assert second.is_locked and not first.is_locked
    second.release()


def test_reacquiring_counts_and_the_last_release_frees(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    lock, other = FileLock(path), FileLock(path)
    with lock, lock:
        pass
    other.acquire(timeout=0)  # both releases ran
    other.release()
    lock.acquire()
    lock.acquire()
    lock.release()
    with pytest.raises(LockTimeout):
        other.acquire(timeout=0)
    lock.release()
    other.acquire(timeout=0)
    other.release()


def test_a_timeout_waits_that_long_then_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with FileLock(path):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match=r"x\.lock"):
            FileLock(path).acquire(timeout=0.3, poll=0.02)
        assert time.monotonic() - started >= 0.3


def test_a_waiting_acquire_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder, held = FileLock(path), threading.Event()

    def hold() -> None:
        with holder:
            held.set()
            time.sleep(0.2)

    threading.Thread(target=hold).start()
    held.wait()
    waiter = FileLock(path)
    started = time.monotonic()
    waiter.acquire()  # no timeout: waits for the release
    assert time.monotonic() - started >= 0.15
    waiter.release()


@pytest.mark.slow
def test_another_process_holds_it_until_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"held"
        with pytest.raises(LockTimeout):
            FileLock(path).acquire(timeout=0)
    finally:
        proc.kill()
        proc.communicate()
    with FileLock(path) as lock:  # freed by the kernel, no stale file to clear
        assert lock.is_locked


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with FileLock(path):
        pass
    assert path.stat().st_mode & 0o077 == 0


def test_another_thread_waits_for_a_lock_this_one_holds(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "x.lock")  # one object, shared by two threads
    lock.acquire()
    outcome: list[str] = []

    def other() -> None:
        try:
            lock.acquire(timeout=0.2, poll=0.02)
        except LockTimeout:
            outcome.append("waited")
            return
        outcome.append("took it")
        lock.release()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert outcome == ["waited"]
    refused: list[str] = []

    def release_it() -> None:
        try:
            lock.release()
        except RuntimeError as err:
            refused.append(str(err))

    thread = threading.Thread(target=release_it)
    thread.start()
    thread.join()
    assert len(refused) == 1 and "another thread" in refused[0] and lock.is_locked
    lock.release()
    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert outcome == ["waited", "took it"]
    assert not lock.is_locked


def test_a_lock_refused_with_eacces_is_held_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fcntl = pytest.importorskip("fcntl")  # flock: Unix; Windows locks a byte instead

    def refuse(fd: int, operation: int) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")  # as some network mounts do

    monkeypatch.setattr(fcntl, "flock", refuse)
    with pytest.raises(LockTimeout):
        FileLock(tmp_path / "x.lock").acquire(timeout=0)
