"""The wizard at a terminal: rich tables and prompts. Every decision is saved the moment it is
made, so a session cut short (q, Ctrl-C, a lost connection) resumes where it stopped: mapped
clients and linked invoices are done, skipped ones are not asked again (unless --revisit)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO, cast

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from qbsync.errors import InputError
from qbsync.store.tx import transaction
from qbsync.wizard import decisions, golive, service
from qbsync.wizard.history import DocProposal, record_skip
from qbsync.wizard.matching import Candidate, CustomerIndex, Proposal, counts
from qbsync.workspace import Workspace

SOURCE = "interactive"
ORDER = {"exact": -1, "fuzzy": 0, "review": 1, "inactive": 2, "unmatched": 3}
SHOW_ROWS = 25


class Quit(Exception):
    """The person asked to stop; what was decided is saved."""


def _row(*values: Any) -> list[Text]:
    """Table cells as plain Text: names, numbers and reasons are shown, never read as markup."""
    return [Text("" if v is None else str(v)) for v in values]


def _candidates_table(title: str, cands: list[Candidate], numbered: bool) -> Table:
    table = Table(title=Text(title) if title else None, title_justify="left")
    if numbered:
        table.add_column("#", justify="right")
    for col in ("customer", "id", "score", "reason"):
        table.add_column(col)
    for i, c in enumerate(cands, start=1):
        row = [c.name, c.qbo_id, str(c.score), c.reason]
        table.add_row(*_row(*([str(i), *row] if numbered else row)))
    return table


class _Lines:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def readline(self) -> str:
        return self.stream.readline().rstrip("\r\n")


class Wizard:
    def __init__(
        self,
        ws: Workspace,
        key: str,
        out: Console,
        *,
        revisit: bool = False,
        stream: TextIO | None = None,
    ):
        self.ws, self.key, self.out, self.revisit = ws, key, out, revisit
        # Where answers are read from (None: the terminal), a line at a time without its end,
        # as a terminal gives it (so that an empty answer takes the default).
        self.stream = cast(TextIO, _Lines(stream)) if stream is not None else None

    def ask(self, question: str, *, default: str, choices: list[str] | None = None) -> str:
        """One prompt; `q` quits the wizard from any of them."""
        answer = Prompt.ask(
            question,
            default=default,
            choices=[*choices, "q"] if choices else None,
            console=self.out,
            stream=self.stream,
        ).strip()
        if answer == "q":
            raise Quit
        return answer

    def yes_no(self, question: str, *, default: bool) -> bool:
        """A y/n question where `q` quits too."""
        question = f"{question} " + escape("[y/n/q]")
        answer = self.ask(question, default="y" if default else "n").lower()
        while answer not in ("y", "yes", "n", "no"):
            self.out.print("answer y, n or q", markup=False)
            answer = self.ask(question, default="y" if default else "n").lower()
        return answer in ("y", "yes")

    # --- customers ---------------------------------------------------------------------------

    def customers(self) -> None:
        out = self.out
        out.rule(f"Customers of {escape(self.key)}")
        out.print("Reading QuickBooks customers (active and inactive)...", markup=False)
        step = service.customer_step(self.ws, self.key)
        self.customer_list = step.customers
        self.index = CustomerIndex(step.customers)
        tally = counts(step.proposals)
        summary = Table(title="Clients", title_justify="left")
        for name in tally:
            summary.add_column(name)
        summary.add_row(*_row(*tally.values()))
        out.print(summary)
        exact = [
            p
            for p in step.proposals
            if p.status == "exact" and (self.revisit or p.client_id not in step.skipped)
        ]
        if exact:
            table = Table(title=f"{len(exact)} exact matches", title_justify="left")
            for col in ("client", "name", "customer", "id", "why"):
                table.add_column(col)
            for p in exact[:SHOW_ROWS]:
                t = p.target
                assert t is not None
                table.add_row(*_row(p.client_id, p.client_name, t.name, t.qbo_id, p.why))
            out.print(table)
            if len(exact) > SHOW_ROWS:
                out.print(f"... and {len(exact) - SHOW_ROWS} more", markup=False)
            if self.yes_no(f"Accept all {len(exact)} exact matches?", default=True):
                from qbsync.wizard.customers import accept_exact

                done = accept_exact(
                    self.ws.store, step, source=SOURCE, include_skipped=self.revisit
                )
                out.print(f"[green]mapped {len(done)} clients[/]")
                exact = []
            else:
                out.print("then one at a time", markup=False)
        asked = {p.client_id for p in exact}
        pending = [
            p
            for p in step.proposals
            if ((p.status in ORDER and p.status != "exact") or p.client_id in asked)
            and (self.revisit or p.client_id not in step.skipped)
        ]
        pending.sort(key=lambda p: (ORDER[p.status], p.client_id))
        if step.skipped and not self.revisit:
            out.print(
                f"{len(step.skipped)} client(s) skipped earlier (see them again with --revisit)"
            )
        for number, p in enumerate(pending, start=1):
            out.print()
            out.rule(f"{number}/{len(pending)}", style="dim")
            self.decide_customer(p)
        out.print("[green]customers: done[/]")

    def decide_customer(self, p: Proposal) -> None:
        out = self.out
        email = f" <{p.client_email}>" if p.client_email else ""
        out.print(
            f"[bold]{escape(p.client_id)}[/] {escape(p.client_name + email)}", highlight=False
        )
        out.print(f"{p.status}: {p.why}", markup=False)
        cands = list(p.candidates)
        if cands:
            out.print(_candidates_table("candidates", cands, True))
        if p.inactive:
            out.print(
                "inactive customers (make one active in QuickBooks to link it):", markup=False
            )
            out.print(_candidates_table("", p.inactive, False))
        default = "y" if p.status in ("exact", "fuzzy") else "s"
        while True:
            hint = "y = link to 1, " if cands else ""
            answer = self.ask(
                f"{hint}number = link, c = create in QuickBooks, /text = search, s = skip, q = quit",
                default=default,
            )
            if answer == "s":
                with transaction(self.ws.store):
                    decisions.record(
                        self.ws.store, self.key, "customers", p.client_id, "skip", source=SOURCE
                    )
                out.print("skipped")
                return
            if answer == "y" and cands:
                answer = "1"
            if answer.isdigit() and 1 <= int(answer) <= len(cands):
                chosen = cands[int(answer) - 1]
                if not chosen.active:
                    out.print("that customer is inactive; make it active in QuickBooks first")
                    continue
                others = [
                    c
                    for c, q in decisions.customer_mappings(self.ws.store, self.key).items()
                    if q == chosen.qbo_id and c != p.client_id
                ]
                if others and not self.yes_no(
                    escape(
                        f"{chosen.name} is mapped to client {', '.join(others)} already; "
                        "map this client to it as well?"
                    ),
                    default=False,
                ):
                    continue
                with transaction(self.ws.store):
                    decisions.map_customer(
                        self.ws.store,
                        self.key,
                        p.client_id,
                        chosen.qbo_id,
                        chosen.name,
                        source=SOURCE,
                    )
                out.print(Text(f"linked to {chosen.name} ({chosen.qbo_id})", style="green"))
                return
            if answer.startswith("/"):
                found = self.index.search(answer[1:])
                cands = [c for c in found if c.active]
                gone = [c for c in found if not c.active]
                if cands:
                    out.print(_candidates_table(f"search: {answer[1:]}", cands, True))
                if gone:
                    out.print("inactive (not linkable until made active):", markup=False)
                    out.print(_candidates_table("", gone, False))
                if not found:
                    out.print("nothing found")
                default = "s"
                continue
            if answer == "c":
                name = self.ask("Customer name (q = quit)", default=p.client_name)
                try:
                    created = service.create_and_map(
                        self.ws,
                        self.key,
                        p.client_id,
                        name,
                        p.client_email,
                        self.customer_list,
                        source=SOURCE,
                    )
                except InputError as err:
                    out.print(Text(err.message, style="red"))
                    if err.hint:
                        out.print(Text(err.hint, style="dim"))
                    continue
                self.index = CustomerIndex(self.customer_list)
                out.print(
                    Text(f"created {created.name} ({created.qbo_id}) and linked", style="green")
                )
                return
            out.print("not understood")

    # --- history -----------------------------------------------------------------------------

    def history(self) -> None:
        out = self.out
        out.rule(f"Invoice history of {escape(self.key)}")
        out.print("Reading QuickBooks invoices and credit memos...", markup=False)
        proposals = service.history_proposals(self.ws, self.key)
        done = decisions.decided(self.ws.store, self.key, "history")
        confident = [p for p in proposals if p.status == "confident"]
        review = [
            p
            for p in proposals
            if p.status == "review" and (self.revisit or p.invoice_id not in done)
        ]
        missing = sum(1 for p in proposals if p.status == "missing")
        out.print(
            f"{len(confident)} confident, {len(review)} to review, {missing} not in QuickBooks "
            "(exported by the sync when dated on or after go-live)",
            markup=False,
        )
        if confident:
            table = Table(title="confident", title_justify="left")
            for col in ("invoice", "number", "total", "QuickBooks id", "why"):
                table.add_column(col)
            for p in confident[:SHOW_ROWS]:
                total = p.total if p.total is not None else p.subtotal
                table.add_row(*_row(p.invoice_id, p.number, total, p.qbo_id or "-", p.why))
            out.print(table)
            if len(confident) > SHOW_ROWS:
                out.print(f"... and {len(confident) - SHOW_ROWS} more", markup=False)
            if self.yes_no(f"Link all {len(confident)}?", default=True):
                result = self._link([p for p in confident])
                out.print(
                    f"[green]linked {result['linked']}; {result['payments_applied']} QuickBooks "
                    f"payment(s) read back[/]"
                )
        for p in review:
            out.print()
            out.print(
                f"[bold]{escape(p.invoice_id)}[/] "
                + escape(
                    f"number {p.number}, total {p.total if p.total is not None else p.subtotal}"
                ),
                highlight=False,
            )
            out.print(f"review: {p.why}", markup=False)
            if p.qbo_id is None or p.doc is None:
                answer = self.ask("s = skip, q = quit", choices=["s"], default="s")
            else:
                answer = self.ask(
                    escape(
                        f"l = link to QuickBooks {p.entity} {p.qbo_id} anyway, s = skip, q = quit"
                    ),
                    choices=["l", "s"],
                    default="s",
                )
            if answer == "l":
                self._link([p])
                out.print("[green]linked[/]")
            else:
                with transaction(self.ws.store):
                    record_skip(self.ws.store, self.key, p.invoice_id, source=SOURCE)
        out.print("[green]history: done[/]")

    def _link(self, chosen: list[DocProposal]) -> dict[str, Any]:
        items = [(p.invoice_id, p.entity, p.doc) for p in chosen if p.doc is not None]
        return service.link_history(self.ws, self.key, items, source=SOURCE)

    # --- go-live -----------------------------------------------------------------------------

    def go_live(self) -> None:
        """Propose the date from the ledger, show the preview, and save only when confirmed:
        `q` at any prompt leaves the go-live date as it was."""
        out = self.out
        out.rule(f"Go-live of {escape(self.key)}")
        _, settings = self.ws.company(self.key)
        current = settings.go_live
        proposed = golive.proposed_go_live(self.ws.store, self.key)
        if proposed is not None:
            out.print(
                f"The earliest document not yet in QuickBooks is dated {proposed}: a go-live "
                "on that date exports every one of them; a later one holds back those before it.",
                markup=False,
            )
        else:
            out.print("No document is waiting to be exported.", markup=False)
        if current is not None:
            out.print(f"The go-live date now: {current}.", markup=False)
        default = current or proposed or dt.date.today()
        while True:
            raw = self.ask(
                "Go-live date (documents dated before it are never exported; q = quit)",
                default=default.isoformat(),
            )
            try:
                date = dt.date.fromisoformat(raw.strip())
            except ValueError:
                out.print("use YYYY-MM-DD", markup=False)
                continue
            render_go_live(out, golive.preview(self.ws.store, self.key, date))
            if self.yes_no(f"Save go-live {date}? (n = choose another date)", default=True):
                golive.set_go_live(self.ws, self.key, date)
                out.print(Text(f"go-live saved: {date}", style="green"))
                return
            default = date

    def run_all(self) -> None:
        try:
            self.customers()
            self.history()
            self.go_live()
        except Quit:
            self.out.print("stopped; every decision so far is saved. Run `qbsync wizard` to go on.")


def render_go_live(out: Console, data: dict[str, Any]) -> None:
    out.print(
        f"go-live: {data['go_live'] or 'not set (every queued document is exported)'}", markup=False
    )
    if data.get("proposed") and data["proposed"] != data["go_live"]:
        out.print(
            f"proposed from the ledger: {data['proposed']} (the earliest document not yet in "
            "QuickBooks)",
            markup=False,
        )
    rows = data["will_export"]
    totals = ", ".join(
        f"{amount} {'' if currency == 'home' else currency}".strip()
        for currency, amount in data["total_to_export"].items()
    )
    out.print(
        f"the first cycle will export {len(rows)} document(s), {totals or '0.00'} with tax, net of credit notes; "
        f"{data['held_back']} held back (dated before go-live); "
        f"{data['linked_by_wizard']} linked to QuickBooks by the wizard",
        markup=False,
    )
    if rows:
        table = Table()
        for col in ("invoice", "number", "type", "date", "client", "total"):
            table.add_column(col, justify="right" if col == "total" else "left")
        for r in rows[:50]:
            total = f"{r['total']} {r['currency'] or ''}".strip()
            table.add_row(
                *_row(r["invoice"], r["number"], r["type"], r["date"], r["client"], total)
            )
        out.print(table)
        if len(rows) > 50:
            out.print(f"... and {len(rows) - 50} more", markup=False)
