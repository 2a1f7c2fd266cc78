"""Domain errors: each carries a closed error code that decides the exit status.

Commands raise these; the CLI layer turns them into one line (or `{"error": ...}`) and exits.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    USAGE = "usage"
    INVALID_INPUT = "invalid_input"
    CONFIG = "config"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    SECRETS_UNAVAILABLE = "secrets_unavailable"
    QBO_ERROR = "qbo_error"
    NETWORK = "network"
    CONFLICT = "conflict"
    INTERNAL = "internal"
    FILESYSTEM = "filesystem"  # qbsync's own files or directories cannot be created or written
    RECONNECT_REQUIRED = "reconnect_required"
    LOCKED = "locked"


class ExitCode:
    OK = 0
    FAILED = 1
    USAGE = 2
    RECONNECT = 3
    TEMPFAIL = 75  # EX_TEMPFAIL: another run holds the lock; cron should simply try later


EXIT_CODES: dict[ErrorCode, int] = {
    ErrorCode.USAGE: ExitCode.USAGE,
    ErrorCode.INVALID_INPUT: ExitCode.USAGE,
    ErrorCode.CONFIG: ExitCode.USAGE,
    ErrorCode.NOT_FOUND: ExitCode.USAGE,
    ErrorCode.FAILED: ExitCode.FAILED,
    ErrorCode.SECRETS_UNAVAILABLE: ExitCode.FAILED,
    ErrorCode.QBO_ERROR: ExitCode.FAILED,
    ErrorCode.NETWORK: ExitCode.FAILED,
    ErrorCode.CONFLICT: ExitCode.FAILED,
    ErrorCode.INTERNAL: ExitCode.FAILED,
    ErrorCode.FILESYSTEM: ExitCode.FAILED,
    ErrorCode.RECONNECT_REQUIRED: ExitCode.RECONNECT,
    ErrorCode.LOCKED: ExitCode.TEMPFAIL,
}


class QbsyncError(Exception):
    """An error the user can act on. `message` is one line; `hint` says what to do next."""

    code: ErrorCode = ErrorCode.FAILED

    def __init__(self, message: str, hint: str | None = None, *, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.code]


class UsageError(QbsyncError):
    code = ErrorCode.USAGE


class InputError(QbsyncError):
    """A file or value that does not validate. The message names the file, line or field."""

    code = ErrorCode.INVALID_INPUT


class ConfigError(QbsyncError):
    code = ErrorCode.CONFIG


class NotFoundError(QbsyncError):
    code = ErrorCode.NOT_FOUND


class FilesystemError(QbsyncError):
    """A file or directory qbsync keeps (its home, log, store, locks) that this user cannot
    create or write: the message names it, the hint says what to do."""

    code = ErrorCode.FILESYSTEM


class SecretsUnavailable(QbsyncError):
    code = ErrorCode.SECRETS_UNAVAILABLE


class ReconnectRequired(QbsyncError):
    code = ErrorCode.RECONNECT_REQUIRED


class LockHeld(QbsyncError):
    code = ErrorCode.LOCKED
