"""Confirming a destructive command: asked at a terminal, skipped with --yes, and refused (exit 2,
one line naming --yes) where nobody can answer: no terminal, --json, or QBSYNC_NO_INPUT set."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qbsync.cli.output import MODE, no_input
from qbsync.errors import QbsyncError, UsageError

YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do it without asking (scripts, cron).")
]


def _at_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(question: str) -> bool:
    return bool(typer.confirm(question, default=False, err=True))


def confirm(what: str, yes: bool) -> None:
    """Go on with `what` ("void invoice INV-7") only when confirmed: `--yes`, or a person
    answering y at a terminal. Otherwise nothing is done."""
    if yes:
        return
    if MODE.json or no_input() or not _at_terminal():
        raise UsageError(f"{what}: not confirmed; pass --yes to do it without a prompt")
    if not _ask(f"{what}?"):
        raise QbsyncError(f"{what}: cancelled; nothing was changed")
