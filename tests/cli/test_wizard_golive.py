"""The wizard's go-live step: it proposes the date of the earliest document not yet in
QuickBooks, shows what the first cycle will export before anything is saved, and `q` at any of
its prompts leaves config.yaml as it was."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console

from qbsync import config, paths
from qbsync.views.golive import queued_exports
from qbsync.wizard.interactive import Quit, Wizard
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SampleLedger
from tests.support import run_json

PROMPT = "Go-live date (documents dated before it are never exported; q = quit)"


def _go_live(answers: str) -> str:
    out = Console(file=io.StringIO(), width=200, no_color=True)
    with Workspace() as ws:
        try:
            Wizard(ws, "acme", out, stream=io.StringIO(answers)).go_live()
        finally:
            screen = out.file.getvalue()  # type: ignore[attr-defined]
    return screen


def _queued() -> list[dict]:
    with Workspace() as ws:
        return queued_exports(ws.store, "acme")


def test_it_proposes_the_earliest_document_and_previews_before_saving(
    sample_ledger: SampleLedger,
) -> None:
    queued = _queued()
    earliest = queued[0]["date"]
    assert earliest < dt.date.today().isoformat()  # today would have held documents back
    screen = _go_live("\ny\n")  # the proposed date, then save
    assert f"The earliest document not yet in QuickBooks is dated {earliest}" in screen
    assert f"{PROMPT} ({earliest}):" in screen
    preview = screen.index(f"the first cycle will export {len(queued)} document(s)")
    assert preview < screen.index(f"Save go-live {earliest}? (n = choose another date) [y/n/q]")
    assert "0 held back" in screen
    assert f"go-live saved: {earliest}" in screen
    assert "use YYYY-MM-DD" not in screen and screen.count(PROMPT) == 1
    assert config.load().companies["acme"].go_live == dt.date.fromisoformat(earliest)


def test_no_goes_back_to_the_date_and_keeps_nothing(sample_ledger: SampleLedger) -> None:
    later = _queued()[-1]["date"]
    screen = _go_live(f"{later}\nn\n\ny\n")
    assert screen.count("the first cycle will export") == 2
    assert f"{PROMPT} ({later}):" in screen  # asked again, the last date as the default
    assert config.load().companies["acme"].go_live == dt.date.fromisoformat(later)


@pytest.mark.parametrize("answers", ["q\n", "2026-10-04\nq\n", "2026-13-01\nq\n"])
def test_q_quits_at_every_prompt_and_writes_nothing(
    sample_ledger: SampleLedger, answers: str
) -> None:
    before = paths.config_file().read_text()
    with pytest.raises(Quit):
        _go_live(answers)
    assert paths.config_file().read_text() == before
    assert config.load().companies["acme"].go_live is None


def test_go_live_command_shows_the_proposal(sample_ledger: SampleLedger) -> None:
    shown = run_json("wizard", "go-live")["data"]
    assert shown["go_live"] is None and shown["proposed"] == _queued()[0]["date"]


def test_every_kind_of_prompt_takes_q(ledger_company: str) -> None:
    out = Console(file=io.StringIO(), width=200, no_color=True)
    with Workspace() as ws:

        def wizard(answers: str) -> Wizard:
            return Wizard(ws, "acme", out, stream=io.StringIO(answers))

        with pytest.raises(Quit):
            wizard("q\n").yes_no("Accept all 4 exact matches?", default=True)
        with pytest.raises(Quit):
            wizard("q\n").ask("s = skip, q = quit", choices=["s"], default="s")
        with pytest.raises(Quit):
            wizard("q\n").ask("Customer name (q = quit)", default="Harbor Marine [old account]")
        assert wizard("maybe\nn\n").yes_no("Link all 3?", default=True) is False
        assert wizard("\n").ask("Customer name", default="Harbor Marine [old]") == (
            "Harbor Marine [old]"
        )
    screen = out.file.getvalue()  # type: ignore[attr-defined]
    assert "Accept all 4 exact matches? [y/n/q] (y):" in screen
    assert "answer y, n or q" in screen
