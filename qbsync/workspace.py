"""What a command works on: the config, the store and the secrets, opened lazily, closed at exit."""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from qbsync import config as config_mod
from qbsync.config import CompanySettings, Config
from qbsync.logs import setup_logging
from qbsync.store import open_store
from qbsync.store.database import Database

if TYPE_CHECKING:
    from qbsync.secrets import SecretStore


class Workspace:
    def __init__(self) -> None:
        setup_logging()

    @cached_property
    def config(self) -> Config:
        return config_mod.load()

    @cached_property
    def store(self) -> Database:
        return open_store()

    @cached_property
    def secrets(self) -> SecretStore:
        # Imported here: keyring costs a noticeable part of start-up, and most commands
        # (status, invoices, sync history) never read a secret.
        from qbsync.secrets import open_secrets

        return open_secrets(config_mod.secrets_backend(self.config), self.config.keyring_timeout)

    def company(self, key: str | None) -> tuple[str, CompanySettings]:
        return self.config.company(key)

    def save_config(self, new: Config) -> None:
        config_mod.save(new)
        self.__dict__["config"] = new

    def close(self) -> None:
        store = self.__dict__.pop("store", None)
        if store is not None:
            store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
