"""`qbsync notify list|test|secret`: targets listed with their secrets masked, a sample sent
(exit 1 naming a target that failed), secrets stored from stdin."""

from __future__ import annotations

import json
from pathlib import Path

from qbsync.notify.dispatch import secret_name
from qbsync.workspace import Workspace
from tests.notify.helpers import write_notify
from tests.support import run, run_json


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
