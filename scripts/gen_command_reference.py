"""Regenerate docs/commands.md, the command reference, from every command's --help.

uv run python scripts/gen_command_reference.py          # rewrite docs/commands.md
uv run python scripts/gen_command_reference.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from qbsync.cli.reference import is_current, update

COMMANDS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "commands.md"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if is_current(COMMANDS_PAGE):
            return 0
        print("docs/commands.md is out of date: run scripts/gen_command_reference.py")
        return 1
    changed = update(COMMANDS_PAGE)
    print("docs/commands.md updated" if changed else "docs/commands.md already current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
