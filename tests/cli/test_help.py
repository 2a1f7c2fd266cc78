"""Every command's help, walked: `-h` is `--help`; metavars are plain words (no `<str>`, no
`{paths}...`); each ends with an example; `-c` wherever a company applies and `-n` on every
listing; plurals written out, and no internal words ("op", "ops")."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from qbsync.cli.app import build
from qbsync.cli.reference import _walk
from tests.fixtures.ledger import SampleLedger
from tests.support import run, run_json


def _commands() -> list[tuple[list[str], Any]]:
    root = typer.main.get_command(build())
    return list(_walk(root, []))


COMMANDS = _commands()
TYPED_METAVAR = re.compile(r"<[a-z_\[\]|, ]+>")
BRACED = re.compile(r"\{[A-Za-z_]+\}")
INTERNAL = re.compile(r"\bops?\b")
GUESSED_PLURAL = re.compile(r"\w\((s|es)\)")


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "qbsync")
def test_help_reads_well(path: list[str]) -> None:
    long = run(*path, "--help")
    short = run(*path, "-h")
    assert long.exit_code == 0, long.stderr
    assert (short.exit_code, short.stdout) == (0, long.stdout)
    text = long.stdout
    assert not TYPED_METAVAR.findall(text), TYPED_METAVAR.findall(text)
    assert not BRACED.findall(text), BRACED.findall(text)
    assert "-h, --help" in text
    example = text.split("\nExample:\n", 1)
    assert len(example) == 2, f"{' '.join(path)}: no example"
    assert example[1].strip().splitlines()[0].lstrip().startswith(("qbsync ", "printf ", "curl "))
    assert "qbsync" in example[1]
    assert not INTERNAL.findall(text), INTERNAL.findall(text)
    assert not GUESSED_PLURAL.findall(text), GUESSED_PLURAL.findall(text)


def _options(cmd: Any) -> dict[str, list[str]]:
    return {p.name: [*p.opts, *p.secondary_opts] for p in cmd.params if hasattr(p, "opts")}


def test_a_company_is_always_c_and_every_listing_takes_n() -> None:
    with_company, listings = 0, 0
    for path, cmd in COMMANDS:
        for name, opts in _options(cmd).items():
            if "--company" in opts:
                with_company += 1
                assert "-c" in opts, (path, opts)
            if name == "format_choice":
                listings += 1
                limits = [o for ps in _options(cmd).values() if "--limit" in ps for o in ps]
                assert "-n" in limits, (path, "no -n")
    assert with_company >= 40 and listings >= 14, (with_company, listings)


def test_every_command_that_takes_a_company_example_runs_with_c() -> None:
    """The examples use the short flags the help promises (`-c`, `-n`) or none at all."""
    from qbsync.cli.examples import EXAMPLES

    known = {" ".join(p) for p, _ in COMMANDS}
    assert set(EXAMPLES) == known, known ^ set(EXAMPLES)
    assert not [e for e in EXAMPLES.values() if "--company" in e]


def test_status_counts_are_written_out_in_plain_words(sample_ledger: SampleLedger) -> None:
    [company] = run_json("status", code=1)["data"]["companies"]  # never connected: red
    problems = company["problems"]
    queued = company["ops"]["queued"]
    assert queued > 1
    assert f"{queued} operations waiting to go to QuickBooks" in problems, problems
    for problem in problems:
        assert not GUESSED_PLURAL.findall(problem) and not INTERNAL.findall(problem), problem
