"""The interactive wizard driven through a pseudo-terminal: a real `qbsync wizard` process
(the simulator on a socket, tokens in the file secrets store that both processes read)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run_json
from tests.sync.helpers import sim_docs
from tests.wizard.helpers import add_reconcile_customers, customer_mappings

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    """A child process on a pseudo-terminal: send lines, wait for text."""

    def __init__(self, *args: str):
        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm", "COLUMNS": "160", "LINES": "50", "NO_COLOR": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from qbsync.cli.app import main; main()", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.seen = ""
        self.pos = 0

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                chunk = b""
            self.seen += ANSI.sub("", chunk.decode("utf-8", "replace"))

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait for `text` after what was matched before; returns what came before it."""
        end = time.monotonic() + timeout
        while True:
            found = self.seen.find(text, self.pos)
            if found >= 0:
                before = self.seen[self.pos : found]
                self.pos = found + len(text)
                return before
            if time.monotonic() > end:
                raise AssertionError(
                    f"did not see {text!r}; the screen shows:\n{self.seen[self.pos :]}"
                )
            self._read(0.2)

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._read(0.2)
        self._read(0.2)
        os.close(self.master)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError(f"the wizard did not finish:\n{self.seen[self.pos :]}")
        return self.proc.returncode


def test_interactive_wizard_decides_saves_each_decision_and_resumes(
    file_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    company = file_company
    ids = add_reconcile_customers(company, tmp_path)

    term = Terminal("wizard", "--company", company.key)
    term.expect("Customers of acme")
    term.expect("Accept all 4 exact matches?")
    term.send("y")
    term.expect("mapped 4 clients")
    # fuzzy first: CL-6, confirmed with the default (link to the best candidate)
    term.expect("CL-6")
    term.expect("Fjord Analytics")
    term.expect("quit")
    term.send("")
    term.expect(f"linked to Fjord Analytics ({ids['Fjord Analytics']})")
    # two clients on one customer: both asked; link one by number, skip the other
    term.expect("CL-7")
    term.expect("2 clients match customer Granite Works")
    term.expect("quit")
    term.send("1")
    term.expect("linked to Granite Works")
    term.expect("CL-8")
    term.expect("quit")
    term.send("s")
    term.expect("skipped")
    # inactive shown apart; creating the name clashes with the inactive customer
    term.expect("CL-5")
    term.expect("inactive customers (make one active in QuickBooks to link it)")
    term.expect("quit")
    term.send("c")
    term.expect("Customer name")
    term.send("")
    term.expect("QuickBooks refused the name 'Evergreen Realty': inactive customer")
    term.expect("quit")
    term.send("/harbor")
    term.expect("Harbor Vendors Co-op")
    term.expect("quit")
    term.send("s")
    # the last one: stop here
    term.expect("CL-9")
    term.expect("quit")
    term.send("q")
    term.expect("every decision so far is saved")
    assert term.finish() == 0
    mapped = customer_mappings(company.key)
    assert mapped["CL-6"] == ids["Fjord Analytics"] and mapped["CL-7"] == ids["Granite Works"]
    assert set(mapped) == {"CL-1", "CL-2", "CL-3", "CL-4", "CL-6", "CL-7"}

    # Resume: only CL-9 is asked (CL-5 and CL-8 were skipped); create it; then history and
    # go-live.
    term = Terminal("wizard", "--company", company.key)
    term.expect("2 client(s) skipped earlier")
    term.expect("CL-9")
    term.expect("quit")
    term.send("c")
    term.expect("Customer name")
    term.send("")
    term.expect("created Nobody Matches Here")
    term.expect("Invoice history of acme")
    term.expect("0 confident, 0 to review, 4 not in QuickBooks")
    term.expect("Go-live date")
    term.send("2026-10-04")
    term.expect("the first cycle will export 2 document(s)")
    term.expect("Save go-live 2026-10-04?")
    term.send("y")
    assert term.finish() == 0
    created = [
        c for c in sim_docs(company.server, "Customer") if c["DisplayName"] == "Nobody Matches Here"
    ]
    assert len(created) == 1
    assert customer_mappings(company.key)["CL-9"] == str(created[0]["Id"])
    assert run_json("config", "show")["data"]["companies"]["acme"]["go_live"] == "2026-10-04"
