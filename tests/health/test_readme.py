"""README.md's quick start, and docs/commands.md: the reference matches every command's --help."""

from __future__ import annotations

from pathlib import Path

from qbsync.cli.reference import START, render

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
COMMANDS_PAGE = ROOT / "docs" / "commands.md"


def test_command_reference_is_current() -> None:
    text = COMMANDS_PAGE.read_text(encoding="utf-8")
    assert START in text
    assert render() in text, "docs/commands.md is out of date: run scripts/gen_command_reference.py"


def test_reference_covers_every_command() -> None:
    from qbsync.cli.app import GROUPS, TOP_LEVEL

    reference = render()
    for name, _ in GROUPS:
        assert f"### `qbsync {name}`" in reference
    for command in ("status", "demo", "doctor", "daemon"):
        assert f"### `qbsync {command}`" in reference
    assert len(TOP_LEVEL) >= 4
    assert "### `qbsync invoices export`" in reference and "--csv FILE" in reference


def test_quick_start_leads_with_the_demo() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start") :]
    block = quick[quick.index("```sh") : quick.index("```", quick.index("```sh") + 5)]
    assert block.splitlines()[1].startswith("uv run qbsync demo")
    assert "uv run pytest" in block
