"""The root `qbsync --help`, written from a static table without importing Typer or any command.

The text is laid out the way Click lays out a group's help (same width rule, same wrapping, same
two-column lists), so `qbsync --help` reads the same whether this module or the built command
line prints it; a test holds the two to the same text, and each summary to its command's help.
"""

from __future__ import annotations

import os
import sys
import textwrap

PROG = "qbsync"
HELP = "Keep a billing ledger and QuickBooks Online in two-way sync."

# (command, first paragraph of its help), in the order the help lists them: the top-level
# commands, then the groups (qbsync/cli/app.py registers the same names).
SUMMARIES: list[tuple[str, str]] = [
    (
        "doctor",
        "Diagnose config, store, secrets and clock (and the QuickBooks side once connected).",
    ),
    ("connect", "Connect (or reconnect) a QuickBooks company through Intuit's consent page."),
    (
        "disconnect",
        "Revoke and delete a company's tokens. App credentials, mappings and history stay.",
    ),
    ("token", "Print a valid access token, refreshed first when it expires within 5 minutes."),
    ("daemon", "Sync every connected company with auto-sync on, each on its own schedule."),
    (
        "status",
        "Sync health: last cycle, queue, exceptions, drift, tokens, schedule, and the one next "
        "thing to do. Green when nothing waits, yellow or red otherwise. Reads only the local "
        "store (no QuickBooks call).",
    ),
    ("demo", "The whole story on the embedded QuickBooks Online simulator, offline, in seconds."),
    (
        "reconcile",
        "Hold every linked invoice, credit memo and payment against QuickBooks, to the cent.",
    ),
    ("config", "Show and change settings in config.yaml."),
    (
        "app",
        "The Intuit app's client id and secret, per company (the secret goes to the keyring).",
    ),
    ("companies", "Connected QuickBooks companies and the default one."),
    ("qbo", "Live QuickBooks reference lists (active records unless --all)."),
    ("sync", "Run the sync and look after its queue."),
    ("exceptions", "What the sync could not reconcile on its own, and its resolution."),
    ("invoices", "Ledger invoices and credit notes, with their QuickBooks sync state."),
    (
        "payments",
        "Payments: recorded locally (pushed to QuickBooks) or read back from QuickBooks.",
    ),
    ("ledger", "Import the billing system's ledger; export what came back from QuickBooks."),
    (
        "mappings",
        "Map services, tax regions, terms, clients, payment methods, the deposit and discount "
        "accounts and the default class and department to QuickBooks.",
    ),
    ("sim", "The embedded QuickBooks Online simulator: try qbsync offline, run tests and demos."),
    (
        "wizard",
        "Reconcile before go-live: match customers, link invoice history, set the cutover.",
    ),
    ("notify", "Alerts: the targets in config.yaml's notify: section, tested and listed."),
]

OPTIONS: list[tuple[str, str]] = [
    ("--version", "Show the version."),
    ("--install-completion", "Install completion for the current shell."),
    (
        "--show-completion",
        "Show completion for the current shell, to copy it or customize the installation.",
    ),
    ("-h, --help", "Show this message and exit."),
]


def help_width() -> int:
    """Click's rule: the terminal's width (COLUMNS first), at most 80, minus 2, at least 50."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(min(columns, 80) - 2, 50)


def short_help(text: str, limit: int) -> str:
    """A summary cut to `limit` characters: whole words, at a sentence end when one fits, else
    with "..." (Click's rule for a command's one line)."""
    words = text.split()
    total = 0
    for i, word in enumerate(words):
        total += len(word) + (i > 0)
        if total > limit:
            break
        if word.endswith("."):
            return " ".join(words[: i + 1])
        if total == limit and i != len(words) - 1:
            break
    else:
        return " ".join(words)
    total += 3
    while i > 0:
        total -= len(words[i]) + (i > 0)
        if total <= limit:
            break
        i -= 1
    return " ".join(words[:i]) + "..."


def _wrap(text: str, width: int, indent: str = "") -> str:
    return textwrap.fill(
        text, width, initial_indent=indent, subsequent_indent=indent, replace_whitespace=False
    )


def _definitions(rows: list[tuple[str, str]], width: int, indent: int = 2) -> list[str]:
    first_col = min(max(len(first) for first, _ in rows), 30) + 2
    text_width = max(width - first_col - 2, 10)
    out: list[str] = []
    for first, second in rows:
        head = " " * indent + first
        if len(first) <= first_col - 2:
            head += " " * (first_col - len(first))
        else:
            out.append(head)
            head = " " * (first_col + indent)
        lines = _wrap(second, text_width).splitlines()
        out.append(head + lines[0])
        out += [" " * (first_col + indent) + line for line in lines[1:]]
    return out


def render(width: int | None = None) -> str:
    """The root help, as `qbsync --help` prints it."""
    from qbsync.cli.examples import EXAMPLES, ROOT_EPILOG

    width = width or help_width()
    usage_prefix = f"Usage: {PROG} "
    out = [
        textwrap.fill(
            "[OPTIONS] COMMAND [ARGS]...",
            width,
            initial_indent=usage_prefix,
            subsequent_indent=" " * len(usage_prefix),
            replace_whitespace=False,
        ),
        "",
        _wrap(HELP, width, "  "),
        "",
        "Options:",
        *_definitions(OPTIONS, width),
        "",
        "Commands:",
    ]
    limit = width - 6 - max(len(name) for name, _ in SUMMARIES)
    out += _definitions([(name, short_help(text, limit)) for name, text in SUMMARIES], width)
    sections = [*ROOT_EPILOG, ("Example", [EXAMPLES[""]])]
    for title, lines in sections:
        out += ["", f"{title}:", *(f"  {line}" for line in lines)]
    return "\n".join(out) + "\n"
