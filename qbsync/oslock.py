"""Exclusive locks on files, across processes: flock on Unix, a locked byte on Windows.

The kernel drops a lock when its holder dies, so a killed run never leaves one behind. Each
FileLock opens its own descriptor, so two FileLocks on one path exclude each other even inside
one process (coroutines refreshing tokens rely on it). A FileLock is reentrant in the thread
that holds it: acquiring it again there only counts, and it is freed at the matching release;
another thread waits for it like another process.

Our own, a few lines over the OS calls, because a cron run takes a lock and writes a log line
on every start: the filelock package cost 6-10 ms to import, a twentieth of an idle cycle.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from types import TracebackType


class LockTimeout(Exception):
    """The lock stayed held by someone else for the whole wait."""


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    _wait_lock = None
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            # Held elsewhere: EWOULDBLOCK, or EACCES where flock is emulated (network mounts).
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _wait_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)


class FileLock:
    def __init__(self, path: str | os.PathLike[str], *, mode: int = 0o600) -> None:
        self.path = os.fspath(path)
        self.mode = mode
        self._fd: int | None = None
        self._depth = 0
        self._owner: int | None = None  # the thread holding it

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float = -1, poll: float = 0.05) -> None:
        """Take the lock: wait for it without end when `timeout` is negative, else raise
        LockTimeout after `timeout` seconds (0: one try)."""
        me = threading.get_ident()
        if self._fd is not None and self._owner == me:
            self._depth += 1
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
        try:
            if timeout < 0 and _wait_lock is not None:
                _wait_lock(fd)
            else:
                deadline = time.monotonic() + max(timeout, 0) if timeout >= 0 else None
                while not _try_lock(fd):
                    if deadline is not None and time.monotonic() >= deadline:
                        # Another process, or another FileLock (or thread) in this one.
                        raise LockTimeout(f"{self.path} is already locked")
                    time.sleep(poll)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth, self._owner = fd, 1, me

    def release(self) -> None:
        if self._fd is None:
            return
        if self._owner != threading.get_ident():
            raise RuntimeError(f"{self.path} is held by another thread: it releases it")
        self._depth -= 1
        if self._depth:
            return
        fd, self._fd, self._owner = self._fd, None, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
