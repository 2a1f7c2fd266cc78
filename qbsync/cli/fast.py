"""cron's `qbsync sync run`, read without building the command line.

Typer and the command tree cost 15-20 ms of an idle cycle's 0.2 s, and cron starts one every
15 minutes per company. `sync run` takes a handful of plain options, so a command line made of
them alone is read here and run through the same code as the registered command
(qbsync/cli/runner.py, qbsync/cli/sync_run.py). Anything else (help, a mistake, an option not
listed here, an option given twice, a company key that breaks the rule) is left to Typer, which
parses it as always, errors and help included. tests/cli/test_fast.py holds both readings to
the same values.
"""

from __future__ import annotations

import os
import re

FLAGS = {
    "--all": "all_",
    "--full": "full",
    "--dry-run": "dry_run",
    "--json": "json_output",
    "--quiet": "quiet",
    "-q": "quiet",
}
COMPANY = ("--company", "-c")


def read_sync_run(args: list[str]) -> dict[str, object] | None:
    """The values `sync run ARGS` gives its function, or None when Typer should read them."""
    values: dict[str, object] = {name: False for name in FLAGS.values()}
    company: str | None = None
    seen: set[str] = set()
    rest = iter(args)
    for arg in rest:
        if arg in FLAGS:
            name = FLAGS[arg]
            value: object = True
        elif arg in COMPANY:
            name, value = "company", next(rest, None)
            if value is None:
                return None
        elif arg.startswith("--company="):
            name, value = "company", arg.removeprefix("--company=")
        else:
            return None
        if name in seen:
            return None
        seen.add(name)
        if name == "company":
            company = str(value)
        else:
            values[name] = value
    if company is None:
        from qbsync.cli.runner import COMPANY_ENV

        company = os.environ.get(COMPANY_ENV) or None  # unset or empty: the default company
    if company is not None:
        from qbsync.config import COMPANY_KEY_PATTERN

        if not re.match(COMPANY_KEY_PATTERN, company):
            return None  # Typer names the rule, exit 2
    values["company"] = company
    return values


def sync_run(args: list[str]) -> bool:
    """Run `qbsync sync run ARGS` when every argument is one read here; False leaves it to
    Typer. Exits as the command does."""
    if os.environ.get("_QBSYNC_COMPLETE"):  # completion is Typer's
        return False
    values = read_sync_run(args)
    if values is None:
        return False
    from qbsync.cli.runner import run_command, set_mode
    from qbsync.cli.sync_run import render_run, run_cycles

    set_mode(bool(values.pop("json_output")), bool(values.pop("quiet")), None, False)
    try:
        run_command(run_cycles, render_run, **values)
    except BrokenPipeError:  # stdout closed early (`| head`): as Click ends it
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        raise SystemExit(1) from None
    return True
