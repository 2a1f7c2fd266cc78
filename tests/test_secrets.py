from __future__ import annotations

import json
import os
import stat

import keyring
import keyring.backends.fail
import pytest

from qbsync import paths
from qbsync.errors import SecretsUnavailable
from qbsync.secrets import FileStore, KeyringStore, open_secrets
from tests.support import MemoryKeyring, run


def test_keyring_store_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = open_secrets("keyring")
    store.set("acme/tokens", "value-1234567")
    assert store.get("acme/tokens") == "value-1234567"
    assert memory_keyring.items[("qbsync", "acme/tokens")] == "value-1234567"
    store.delete("acme/tokens")
    store.delete("acme/tokens")  # deleting twice is fine
    assert store.get("acme/tokens") is None


def test_fail_backend_gives_the_two_ways_out() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(SecretsUnavailable) as err:
        open_secrets("keyring")
    assert "PYTHON_KEYRING_BACKEND" in (err.value.hint or "")
    assert "secrets file" in (err.value.hint or "")


def test_command_needing_a_secret_exits_1_with_the_fail_backend() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    result = run("doctor", "--json")
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    assert checks["secrets"]["status"] == "fail"
    assert "PYTHON_KEYRING_BACKEND" in checks["secrets"]["fix"]
    assert not paths.secrets_file().exists(), "never a silent fallback to the file"


def test_fail_backend_selected_through_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The way cron hosts end up: keyring picks its fail backend from the environment.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.set_keyring(keyring.core.load_env())  # type: ignore[attr-defined]
    with pytest.raises(SecretsUnavailable):
        KeyringStore()


def test_hanging_keyring_times_out(memory_keyring: MemoryKeyring) -> None:
    import threading

    gate = threading.Event()
    memory_keyring.get_password = lambda s, u: gate.wait(5)  # type: ignore[method-assign,assignment]
    store = KeyringStore(timeout=0.2)
    with pytest.raises(SecretsUnavailable, match=r"did not answer within 0\.2 s"):
        store.get("x")
    gate.set()


def test_file_store_works_with_the_fail_backend_and_is_private(
    capsys: pytest.CaptureFixture[str],
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    result = run("config", "set", "secrets", "file")
    assert result.exit_code == 0
    # Said once where the file store is chosen, and by doctor; not on every run.
    assert f"secrets are stored in the file {paths.secrets_file()}" in result.stdout
    result = run("doctor", "--json")
    assert result.exit_code == 0, result.stdout
    checks = {c["name"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    assert checks["secrets"]["status"] == "warn"
    assert f"secrets are stored in the file {paths.secrets_file()}" in checks["secrets"]["detail"]
    assert result.stderr == ""

    store = FileStore()
    store.set("acme/client_secret", "s3cret-value")
    assert FileStore().get("acme/client_secret") == "s3cret-value"
    assert stat.S_IMODE(os.stat(paths.secrets_file()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.secrets_file().parent).st_mode) == 0o700
    assert capsys.readouterr().err == ""  # using the store says nothing


def test_damaged_secrets_file_is_an_error() -> None:
    paths.ensure_dir(paths.state_dir())
    paths.secrets_file().write_text("{not json")
    with pytest.raises(SecretsUnavailable, match="damaged"):
        FileStore().get("x")
