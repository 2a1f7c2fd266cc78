"""Logging: one line per event, secrets masked, to the platform log dir; or to stderr for the
daemon under systemd, where journald keeps it.

The log file is shared by every process (cron's runs and the daemon write at once): each record
is written whole under a file lock, and the one process that finds the file full rotates it
under that lock, while the others notice and reopen the new file.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from qbsync import paths
from qbsync.redact import RedactingFilter

LOG_NAME = "qbsync"
_FORMAT = "%(asctime)s %(levelname)s %(name)s pid=%(process)d %(message)s"
_JOURNAL_FORMAT = "%(levelname)s %(name)s %(message)s"  # journald adds the time and the pid
MAX_BYTES = 5_000_000
BACKUPS = 5
_handler: logging.Handler | None = None
_to_stderr = False
# Until a handler is attached (or when none can be), qbsync's records go nowhere: never to
# Python's last-resort handler, which would print them, tracebacks and all, on stderr.
logging.getLogger(LOG_NAME).addHandler(logging.NullHandler())


def log_file():
    return paths.log_dir() / "qbsync.log"


def under_systemd() -> bool:
    """Started by systemd (a service's stderr goes to the journal)."""
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


class SharedFileHandler(logging.FileHandler):
    """A log file that many processes append to and rotate safely."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock_file: Any = None

    @property
    def lock_file(self) -> Any:
        if self._lock_file is None:
            from qbsync.oslock import FileLock

            self._lock_file = FileLock(self.baseFilename + ".lock", mode=0o600)
        return self._lock_file

    def _reopen_if_moved(self) -> TextIO:
        """The open stream of the file now at the path (another process may have rotated)."""
        try:
            current = os.stat(self.baseFilename)
        except FileNotFoundError:
            current = None
        if self.stream is not None and (
            current is None or os.fstat(self.stream.fileno()).st_ino != current.st_ino
        ):
            self.stream.close()
            self.stream = None
        if self.stream is None:
            paths.touch_private(Path(self.baseFilename))
            self.stream = self._open()
        return self.stream

    def _rotate(self) -> None:
        base = self.baseFilename
        for n in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{n}"):
                os.replace(f"{base}.{n}", f"{base}.{n + 1}")
        os.replace(base, f"{base}.1")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            with self.lock_file:
                stream = self._reopen_if_moved()
                size = os.fstat(stream.fileno()).st_size  # others' lines included
                if self.max_bytes and size + len(line.encode()) > self.max_bytes:
                    self._rotate()
                    stream = self._reopen_if_moved()
                stream.write(line)
                stream.flush()
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """A line that cannot be written (the file made read-only, the disk full) is dropped:
        logging's own report, a traceback on stderr, would break --quiet's one line."""
        if os.environ.get("QBSYNC_DEBUG", "") not in ("", "0", "false"):
            super().handleError(record)


def _attach(handler: logging.Handler) -> None:
    global _handler
    logger = logging.getLogger(LOG_NAME)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.propagate = False
    _handler = handler


def setup_logging(level: int = logging.INFO) -> None:
    """Attach the file handler once per log file (tests switch QBSYNC_HOME between runs).
    A log that cannot be created or written is a FilesystemError naming it."""
    if _to_stderr:
        return
    target = log_file()
    if _handler is not None and getattr(_handler, "baseFilename", None) == str(target):
        return
    try:
        paths.touch_private(target)
        handler = SharedFileHandler(target)
    except OSError as exc:
        error = paths.unusable(exc)
        if error is None:
            raise
        raise error from None
    handler.setFormatter(logging.Formatter(_FORMAT))
    _attach(handler)
    logging.getLogger(LOG_NAME).setLevel(level)


def log_to_stderr(level: int = logging.INFO) -> None:
    """Log to stderr from now on, one plain line per event (the daemon under systemd)."""
    global _to_stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_JOURNAL_FORMAT))
    _attach(handler)
    logging.getLogger(LOG_NAME).setLevel(level)
    _to_stderr = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOG_NAME}.{name}")
