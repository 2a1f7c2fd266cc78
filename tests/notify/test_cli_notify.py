"""`qbsync notify list|test|secret`: targets listed with their secrets masked, a sample sent
(exit 1 naming a target that failed), secrets stored from stdin."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from qbsync.notify.dispatch import secret_name
from qbsync.workspace import Workspace
from tests.notify.helpers import write_notify
from tests.support import run, run_json
from tests.sync.helpers import cli_env, qbsync_cmd


def test_list_masks_every_secret() -> None:
    write_notify(
        [
            {"name": "hook", "type": "webhook", "url": "https://hooks.example.com/in?team=books"},
            {"name": "chat", "type": "apprise", "url_secret": "chat-url"},
            {
                "name": "mail",
                "type": "email",
                "smtp_host": "smtp.example.com",
                "username": "q@example.com",
                "password_secret": "smtp",
                "sender": "q@example.com",
                "to": ["books@example.com"],
            },
        ]
    )
    write_notify([{"name": "beta-pager", "type": "command", "command": ["page"]}], "beta")
    run_json("notify", "secret", "smtp", input="hunter2-smtp-password\n")
    data = run_json("notify", "list")["data"]
    by_name = {t["name"]: t for t in data}
    assert list(by_name) == ["hook", "chat", "mail", "beta-pager"]
    assert by_name["hook"]["destination"] == "https://hooks.example.com/in?[REDACTED]"
    assert by_name["chat"]["secret"] == "chat-url (missing)"
    assert by_name["mail"]["secret"] == "smtp (stored)"
    assert by_name["beta-pager"]["scope"] == "company beta"
    table = run("notify", "list")
    assert table.exit_code == 0 and "hunter2" not in table.stdout + json.dumps(data)
    with Workspace() as ws:
        assert ws.secrets.get(secret_name("smtp")) == "hunter2-smtp-password"


def test_notify_test_sends_a_sample_and_names_a_failed_target(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    write_notify(
        [
            {"name": "file", "type": "command", "command": ["sh", "-c", f"cat > {out}"]},
            {"name": "broken", "type": "command", "command": ["sh", "-c", "exit 9"]},
        ]
    )
    one = run_json("notify", "test", "--target", "file")["data"]
    assert [(d["target"], d["ok"]) for d in one["deliveries"]] == [("file", True)]
    assert json.loads(out.read_text())["event"] == "test"
    both = run_json("notify", "test", code=1)["data"]["deliveries"]
    assert [(d["target"], d["ok"], d["error"]) for d in both] == [
        ("file", True, None),
        ("broken", False, "sh exited 9"),
    ]
    quiet = run("notify", "test", "--quiet")
    assert quiet.exit_code == 1 and quiet.stdout == ""
    unknown = run("notify", "test", "--target", "nope")
    assert unknown.exit_code == 2 and "known: file, broken" in unknown.stderr


def test_notify_test_without_targets_says_where_to_add_them() -> None:
    result = run("notify", "test")
    assert result.exit_code == 2 and "no alert targets" in result.stderr
    assert "docs/alerts.md" in result.stderr


def test_a_url_holding_a_secret_is_refused_in_words_the_masking_leaves_whole() -> None:
    from qbsync import paths

    target = "  - {name: ops, type: webhook, url: 'https://h.example.com/?token=abc'}\n"
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text("notify:\n  targets:\n" + target)
    result = run("notify", "list")
    assert result.exit_code == 2
    assert "abc" not in result.stderr
    assert (
        "notify.targets[0]: this url carries a secret; keep it in the secrets store and name it "
        "in url_secret (qbsync notify secret NAME)" in result.stderr
    ), result.stderr


def _notify_test_quiet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        qbsync_cmd("notify", "test", "--quiet", *args),
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_notify_test_under_quiet_names_each_failed_target_and_its_error_in_one_line(
    tmp_path: Path,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the webhook's connection is refused
    write_notify(
        [
            {"name": "fine", "type": "command", "command": ["sh", "-c", "cat > /dev/null"]},
            {"name": "broken", "type": "command", "command": ["sh", "-c", "exit 9"]},
            {
                "name": "hook",
                "type": "webhook",
                "url": f"http://127.0.0.1:{port}/alerts",
                "retries": 0,
                "timeout": "2s",
            },
        ]
    )
    one = _notify_test_quiet("--target", "hook")
    assert (one.returncode, one.stdout) == (1, ""), one.stderr
    assert one.stderr.count("\n") == 1, one.stderr
    assert one.stderr.startswith("error: alert target hook: "), one.stderr
    hint = "(hint: fix it in config.yaml's notify: section, then: qbsync notify test --target hook)"
    assert one.stderr.endswith(hint + "\n"), one.stderr
    assert "exit 1" not in one.stderr and "without --quiet" not in one.stderr, one.stderr

    both = _notify_test_quiet()
    assert (both.returncode, both.stdout) == (1, ""), both.stderr
    assert both.stderr.count("\n") == 1, both.stderr
    assert both.stderr.startswith("error: 2 alert targets failed: broken: sh exited 9; hook: ")
    assert "fine" not in both.stderr, both.stderr

    fine = _notify_test_quiet("--target", "fine")
    assert (fine.returncode, fine.stdout, fine.stderr) == (0, "", "")
