"""The environment: QBSYNC_COMPANY, QBSYNC_CONFIG, QBSYNC_SECRETS, QBSYNC_FORMAT and
QBSYNC_NO_INPUT, a flag winning over the environment and the environment over config.yaml; the
root help lists them all. (QBSYNC_FORMAT's own checks are in test_formats.py.)"""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from qbsync import paths
from tests.fixtures.ledger import ensure_company
from tests.support import MemoryKeyring, run, run_json
from tests.sync.helpers import cli_env, qbsync_cmd

NAMES = ("QBSYNC_COMPANY", "QBSYNC_CONFIG", "QBSYNC_SECRETS", "QBSYNC_FORMAT", "QBSYNC_NO_INPUT")


@pytest.fixture
def two_companies() -> None:
    ensure_company("acme")
    ensure_company("other")
    run_json("companies", "use", "acme")


def test_root_help_lists_every_variable() -> None:
    result = run("--help")
    assert result.exit_code == 0
    epilog = result.stdout.split("Environment")[1]
    for name in NAMES:
        assert name in epilog, name


def test_qbsync_company_picks_the_company_a_flag_overrides(
    two_companies: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_json("app", "show")["data"]["company"] == "acme"  # the file's default
    monkeypatch.setenv("QBSYNC_COMPANY", "other")
    assert run_json("app", "show")["data"]["company"] == "other"  # env over file
    assert run_json("app", "show", "-c", "acme")["data"]["company"] == "acme"  # flag over env
    monkeypatch.setenv("QBSYNC_COMPANY", "nope")
    missing = run_json("app", "show", code=2)["error"]
    assert "unknown company 'nope'" in missing["message"]


def test_qbsync_config_is_the_file_read_and_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "elsewhere" / "qbsync.yaml"
    chosen.parent.mkdir()
    chosen.write_text("sync:\n  interval: 5m\n", encoding="utf-8")
    monkeypatch.setenv("QBSYNC_CONFIG", str(chosen))
    assert run("config", "path").stdout.strip() == str(chosen)
    assert run_json("config", "show")["data"]["sync"]["interval"] == "5m"
    run_json("config", "set", "log_level", "debug")
    assert "log_level: debug" in chosen.read_text(encoding="utf-8")
    monkeypatch.delenv("QBSYNC_CONFIG")
    assert not paths.config_file().exists()  # the home's config.yaml was never written
    assert run_json("config", "show")["data"]["log_level"] == "info"


def test_qbsync_secrets_picks_the_store_over_the_config(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_company("acme", "sandbox")
    monkeypatch.setenv("QBSYNC_SECRETS", "file")
    run_json("app", "set", "-c", "acme", "--client-id", "ID1", input="s3cret\n")
    assert memory_keyring.items == {}
    assert "s3cret" in paths.secrets_file().read_text(encoding="utf-8")
    assert run_json("app", "show")["data"]["client_secret"] == "stored"
    # The config says file; the environment says keyring: the keyring is used.
    run_json("config", "set", "secrets", "file")
    monkeypatch.setenv("QBSYNC_SECRETS", "keyring")
    assert run_json("app", "show")["data"]["client_secret"] == "missing"
    monkeypatch.setenv("QBSYNC_SECRETS", "vault")
    error = run_json("app", "show", code=2)["error"]
    assert error["message"] == "QBSYNC_SECRETS='vault': expected keyring or file"


def test_qbsync_no_input_means_no_prompt_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from qbsync.cli import output

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(output.sys, "stdin", Tty())
    assert output.can_prompt()
    monkeypatch.setenv("QBSYNC_NO_INPUT", "1")
    assert not output.can_prompt()
    monkeypatch.setenv("QBSYNC_NO_INPUT", "0")
    assert output.can_prompt()


@pytest.mark.slow
def test_qbsync_no_input_at_a_real_terminal_refuses_to_prompt(tmp_path: Path) -> None:
    """`app set` at a terminal asks for the secret; with QBSYNC_NO_INPUT=1 it never prompts and
    says where the secret comes from instead (exit 2)."""
    ensure_company("acme", "sandbox")

    def app_set(extra_env: dict[str, str], timeout: float) -> tuple[int | None, str]:
        master, slave = pty.openpty()
        try:
            done = subprocess.run(
                qbsync_cmd("app", "set", "-c", "acme", "--client-id", "ID1"),
                env={**cli_env(), "QBSYNC_SECRETS": "file", **extra_env},
                stdin=slave,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            return done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as waiting:  # still at the prompt
            said = (waiting.stdout or b"") + (waiting.stderr or b"")
            return None, said.decode() if isinstance(said, bytes) else said
        finally:
            os.close(slave)
            os.close(master)

    code, said = app_set({"QBSYNC_NO_INPUT": "1"}, timeout=60)
    assert code == 2, said
    assert "Client secret" not in said
    assert "the client secret is read from stdin; pipe it in" in said
    code, said = app_set({}, timeout=10)  # the same terminal without it: a prompt, waiting
    assert code is None and "Client secret" in said, (code, said)
