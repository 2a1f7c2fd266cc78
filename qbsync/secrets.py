"""Secrets: the Intuit app's client secret, and each company's access and refresh tokens
(named by qbsync.companies).

They live in the OS keyring, or (only when chosen with `secrets: file` in config) in a 0600 JSON
file for headless hosts. The file store is announced where it is chosen (`config set secrets
file`) and by `doctor`, not on every run: a healthy cron job prints nothing. When no keyring
backend works, the error names both ways out: there is never a silent fallback.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from qbsync import paths
from qbsync.errors import SecretsUnavailable
from qbsync.oslock import FileLock
from qbsync.redact import register_secret

if TYPE_CHECKING:
    import keyring.backend

SERVICE = "qbsync"
T = TypeVar("T")

KEYRINGS_ALT_INSTALL = "uv tool install --force '.[keyrings-alt]'"
NO_BACKEND_HINT = (
    "choose one of two ways out: a keyring backend that needs no desktop session (in the "
    f"qbsync checkout: {KEYRINGS_ALT_INSTALL}, or pipx install --force '.[keyrings-alt]'; "
    "then PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring), or store secrets in a "
    "0600 file with `qbsync config set secrets file`"
)


class SecretStore(Protocol):
    backend_name: str

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    # keyring's fail backend (and any chainer with nothing in it) has priority 0 or below.
    try:
        return float(backend.priority) > 0
    except Exception:
        return False


def _keyring() -> ModuleType:
    """The keyring package, loaded by the keyring store alone (a `secrets: file` host, and a
    command that reads no secret, never pays its 15-20 ms)."""
    import keyring
    import keyring.backend
    import keyring.errors

    return keyring


class KeyringStore:
    """The OS keyring through the keyring API, each call bounded by a timeout (D-Bus can hang)."""

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout
        self._keyring: Any = _keyring()
        self._backend = self._keyring.get_keyring()
        self.backend_name = (
            f"keyring ({type(self._backend).__module__}.{type(self._backend).__name__})"
        )
        if not _usable(self._backend):
            raise SecretsUnavailable("no usable keyring backend for secrets", NO_BACKEND_HINT)

    def _call(self, fn: Callable[[], T]) -> T:
        box: dict[str, object] = {}

        def run() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed back to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=run, name="keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise SecretsUnavailable(
                f"the keyring did not answer within {self.timeout:g} s", NO_BACKEND_HINT
            )
        error = box.get("error")
        errors = self._keyring.errors
        if isinstance(error, errors.NoKeyringError | errors.InitError):
            raise SecretsUnavailable("no usable keyring backend for secrets", NO_BACKEND_HINT)
        if isinstance(error, errors.KeyringError):
            raise SecretsUnavailable(
                f"the keyring refused: {type(error).__name__}", NO_BACKEND_HINT
            )
        if isinstance(error, BaseException):
            raise error
        return box.get("value")  # type: ignore[return-value]

    def get(self, name: str) -> str | None:
        value = self._call(lambda: self._keyring.get_password(SERVICE, name))
        register_secret(value)
        return value

    def set(self, name: str, value: str) -> None:
        register_secret(value)
        self._call(lambda: self._keyring.set_password(SERVICE, name, value))

    def delete(self, name: str) -> None:
        def remove() -> None:
            with contextlib.suppress(self._keyring.errors.PasswordDeleteError):  # already gone
                self._keyring.delete_password(SERVICE, name)

        self._call(remove)


class FileStore:
    """A 0600 JSON file in a 0700 directory, for hosts without a keyring. Chosen explicitly."""

    def __init__(self, path: Path | None = None):
        self.path = path or paths.secrets_file()
        self.backend_name = f"file ({self.path})"
        self._lock = FileLock(str(self.path) + ".lock", mode=0o600)

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError:
            raise SecretsUnavailable(
                f"the secrets file {self.path} is damaged",
                "restore it from a backup, or delete it and reconnect",
            ) from None
        for value in data.values():
            register_secret(value)
        return data

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        register_secret(value)
        paths.ensure_dir(self.path.parent)
        with self._lock:
            data = self._read()
            data[name] = value
            paths.write_private(self.path, json.dumps(data, indent=1, sort_keys=True))

    def delete(self, name: str) -> None:
        paths.ensure_dir(self.path.parent)
        with self._lock:
            data = self._read()
            if data.pop(name, None) is not None:
                paths.write_private(self.path, json.dumps(data, indent=1, sort_keys=True))


def file_store_warning(path: Path | None = None) -> str:
    """What choosing the file store means, said when it is chosen and by doctor."""
    return (
        f"secrets are stored in the file {path or paths.secrets_file()} (secrets: file in "
        "config); prefer the OS keyring where one is available"
    )


def open_secrets(kind: str, timeout: float = 10.0) -> SecretStore:
    if kind == "file":
        return FileStore()
    return KeyringStore(timeout=timeout)
