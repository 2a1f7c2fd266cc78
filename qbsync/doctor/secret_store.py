"""The secrets store (OS keyring or the 0600 file): a value written can be read back."""

from __future__ import annotations

import secrets as pysecrets

from qbsync.config import secrets_backend
from qbsync.doctor.check import Check
from qbsync.secrets import file_store_warning
from qbsync.workspace import Workspace


def check_secrets(ws: Workspace, company: str | None) -> list[Check]:
    store = ws.secrets
    probe_name = "doctor/probe"
    probe = pysecrets.token_hex(8)
    store.set(probe_name, probe)
    try:
        readback = store.get(probe_name)
    finally:
        store.delete(probe_name)
    if readback != probe:
        return [
            Check(
                "secrets",
                "fail",
                f"{store.backend_name}: a value written could not be read back",
                "choose another keyring backend, or `qbsync config set secrets file`",
            )
        ]
    if secrets_backend(ws.config) == "file":
        detail = f"{store.backend_name} works; {file_store_warning()}"
        fix = "with a keyring backend in this session: qbsync config set secrets keyring"
        return [Check("secrets", "warn", detail, fix)]
    return [Check("secrets", "ok", f"{store.backend_name} works")]
