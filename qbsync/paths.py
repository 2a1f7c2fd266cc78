"""Where qbsync keeps its files.

`QBSYNC_HOME` puts everything under one directory (tests, the demo, portable installs);
otherwise the platform's config, state and log directories are used. Directories are created
0700; the database and any secret file are 0600.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from qbsync.errors import FilesystemError

APP_NAME = "qbsync"
HOME_ENV = "QBSYNC_HOME"
CONFIG_ENV = "QBSYNC_CONFIG"  # the config file itself, wherever QBSYNC_HOME or the platform says


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else None


def _platform_dir(kind: Literal["config", "state", "log"]) -> Path:
    # platformdirs (with tempfile and random, 3-5 ms) loads only without QBSYNC_HOME: cron lines
    # set it, as docs/cron-and-systemd.md shows.
    import platformdirs

    where: dict[str, Callable[..., str]] = {
        "config": platformdirs.user_config_dir,
        "state": platformdirs.user_state_dir,
        "log": platformdirs.user_log_dir,
    }
    return Path(where[kind](APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home()
    return home if home else _platform_dir("config")


def state_dir() -> Path:
    home = _home()
    return home / "state" if home else _platform_dir("state")


def log_dir() -> Path:
    home = _home()
    return home / "logs" if home else _platform_dir("log")


def config_file() -> Path:
    chosen = os.environ.get(CONFIG_ENV)
    return Path(chosen).expanduser() if chosen else config_dir() / "config.yaml"


def database_file() -> Path:
    return state_dir() / "qbsync.db"


def secrets_file() -> Path:
    return state_dir() / "secrets.json"


def locks_dir() -> Path:
    return state_dir() / "locks"


def ensure_dir(path: Path) -> Path:
    """Create `path` (and parents) private to the user."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def touch_private(path: Path) -> Path:
    """Create `path` as an empty 0600 file if missing; tighten it if it exists."""
    ensure_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def create_private(path: Path) -> Path:
    """Create `path` as an empty 0600 file if missing; tighten it if it exists, without
    opening it. For a SQLite file: closing any descriptor of it drops every POSIX lock this
    process holds on it, those of a connection already open included."""
    ensure_dir(path.parent)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        os.chmod(path, 0o600)
    return path


def write_private(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, 0600 from the first byte."""
    ensure_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# The errors that say a place cannot be used by this user (as opposed to a bug): each becomes one
# line naming the place, never a traceback.
_UNUSABLE = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EEXIST,
}
UNUSABLE_HINT = (
    "run qbsync as the user who owns its files, or give this user write access to them; "
    f"{HOME_ENV} chooses where qbsync keeps them"
)


def _file_in_the_way(path: Path) -> Path | None:
    """The first part of `path` that exists and is not a directory (a file where a directory
    should be)."""
    for part in reversed(path.parents):
        if part.exists() and not part.is_dir():
            return part
    return None


def unusable(exc: OSError) -> FilesystemError | None:
    """The error to show for `exc` when it says that a file or directory cannot be created or
    written by this user (permissions, a read-only disk, a file in the way, a full disk), naming
    the place; None for any other error, and for one that names no file."""
    if exc.errno not in _UNUSABLE or not exc.filename:
        return None
    where = os.fsdecode(exc.filename)
    if exc.errno in (errno.EACCES, errno.EPERM):
        if not os.path.lexists(where):  # a directory on the way refused it
            refused = next((p for p in Path(where).parents if p.is_dir()), Path(where).parent)
            return FilesystemError(
                f"cannot create {where}: {refused} is not writable by this user", UNUSABLE_HINT
            )
        return FilesystemError(f"{where} is not writable by this user", UNUSABLE_HINT)
    if exc.errno == errno.EROFS:
        return FilesystemError(f"{where} is on a read-only file system", UNUSABLE_HINT)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return FilesystemError(
            f"no space left to write {where}", "free some space on its disk and run again"
        )
    if exc.errno == errno.ENOTDIR:
        in_the_way = _file_in_the_way(Path(where))
        what = f"{in_the_way} is a file" if in_the_way else "a part of it is a file"
        return FilesystemError(
            f"cannot create {where}: {what}, not a directory",
            f"move that file away, or point {HOME_ENV} at a directory",
        )
    if exc.errno == errno.EEXIST:
        if os.path.isdir(where):
            return None
        return FilesystemError(
            f"{where} is a file where qbsync needs a directory",
            f"move that file away, or point {HOME_ENV} at a directory",
        )
    if exc.errno == errno.EISDIR:
        return FilesystemError(f"{where} is a directory, not a file", UNUSABLE_HINT)
    return FilesystemError(f"{where}: {exc.strerror or 'cannot be used'}", UNUSABLE_HINT)
