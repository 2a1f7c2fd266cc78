"""Regenerate README.md's command reference from every command's --help.

uv run python scripts/gen_command_reference.py          # rewrite README.md
uv run python scripts/gen_command_reference.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from qbsync.cli.reference import is_current, update

README = Path(__file__).resolve().parent.parent / "README.md"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if is_current(README):
            return 0
        print("README.md's command reference is out of date: run scripts/gen_command_reference.py")
        return 1
    changed = update(README)
    print("README.md updated" if changed else "README.md already current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
