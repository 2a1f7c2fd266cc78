"""`qbsync notify list|test|secret`: the alert targets of config.yaml (`notify:`), a sample
alert to check them, and the secrets they name (kept in the secrets store, never in config)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.output import Outcome, Page, can_prompt
from qbsync.config import NotifyTarget
from qbsync.errors import ExitCode, NotFoundError, UsageError
from qbsync.redact import MASK, redact
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

app = group("Alerts: the targets in config.yaml's notify: section, tested and listed.")


def _mask_url(url: str | None) -> str | None:
    """Scheme, host and path; a query or user part is masked, whatever it holds."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{MASK}@" if parts.username or parts.password else ""
    query = f"?{MASK}" if parts.query else ""
    return redact(f"{parts.scheme}://{user}{host}{parts.path}{query}")


def _secret_state(ws: Workspace, name: str | None) -> str | None:
    from qbsync.notify.dispatch import secret_name

    if not name:
        return None
    try:
        return f"{name} (stored)" if ws.secrets.get(secret_name(name)) else f"{name} (missing)"
    except Exception:  # the secrets store does not answer: say so, list the rest
        return f"{name} (unknown: secrets store unavailable)"


def _describe(ws: Workspace, target: NotifyTarget, scope: str) -> dict[str, Any]:
    where = {
        "command": " ".join(target.command or []),
        "webhook": _mask_url(target.url) or "(url in the secrets store)",
        "email": f"{', '.join(target.to)} via {target.smtp_host} ({target.security})",
        "apprise": _mask_url(target.url) or "(url in the secrets store)",
    }[target.type]
    return {
        "name": target.name,
        "scope": scope,
        "type": target.type,
        "events": list(target.events),
        "destination": redact(where),
        "secret": _secret_state(ws, target.url_secret or target.password_secret),
        "timeout": target.timeout,
    }


def _render_list(out: Console, data: list[dict[str, Any]]) -> None:
    from qbsync.cli.render import rows_table

    if not data:
        out.print("no alert targets: add a notify: section to config.yaml (docs/alerts.md)")
        return
    rows = [{**t, "events": ", ".join(t["events"])} for t in data]
    for row in rows:
        row.pop("timeout")
    out.print(rows_table(rows, title="alert targets"))


@command(app, "list", render=_render_list)
def list_(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 1000,
) -> Page:
    """Every alert target, global and per company, with the events it gets. Secrets are never
    shown: a URL's query or user part is masked, a stored secret is named, not printed."""
    with Workspace() as ws:
        found = [_describe(ws, t, "global") for t in ws.config.notify.targets]
        for key, settings in sorted(ws.config.companies.items()):
            if settings.notify is not None:
                found += [_describe(ws, t, f"company {key}") for t in settings.notify.targets]
        return Page.of(found, limit)


def _render_test(out: Console, data: dict[str, Any]) -> None:
    for d in data["deliveries"]:
        said = "sent" if d["ok"] else f"FAILED: {d['error']}"
        out.print(f"{d['target']}: {said} ({d['seconds']:.1f}s)")


@command(app, "test", render=_render_test)
def test(
    company: CompanyOption = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", metavar="NAME", help="Only this target.")
    ] = None,
) -> Outcome:
    """Send a sample alert to every target (the company's own, when it has a notify: section).

    Exit 1 when a target could not be reached; its error says why.
    """
    from qbsync.notify import targets_for
    from qbsync.notify.dispatch import send_now
    from qbsync.notify.events import sample_event

    with Workspace() as ws:
        key = company or ws.config.default_company
        if key is not None and key not in ws.config.companies:
            ws.company(key)  # names the known companies
        settings = ws.config.companies.get(key) if key else None
        targets = targets_for(ws.config, settings)
        if not targets:
            raise NotFoundError(
                "no alert targets in config.yaml", "add a notify: section (see docs/alerts.md)"
            )
        if target is not None:
            chosen = [t for t in targets if t.name == target]
            if not chosen:
                known = ", ".join(t.name for t in targets)
                raise NotFoundError(f"no alert target named {target!r} (known: {known})")
            targets = chosen
        deliveries = send_now(ws, targets, sample_event(key))
        data = {"company": key, "deliveries": [vars(d) for d in deliveries]}
        failed = any(not d.ok for d in deliveries)
        return Outcome(data, ExitCode.FAILED if failed else ExitCode.OK)


def _read_secret() -> str:
    if sys.stdin.isatty():
        if not can_prompt():
            raise UsageError("the secret is read from stdin; pipe it in")
        return str(typer.prompt("Secret", hide_input=True))
    return sys.stdin.readline().strip()


@command(app, "secret")
def secret(
    name: Annotated[
        str, typer.Argument(help="The name a target gives in url_secret or password_secret.")
    ],
) -> dict[str, Any]:
    """Store a target's secret (an SMTP password, a webhook or apprise URL holding a token) in
    the secrets store. Read from stdin (or a hidden prompt), never from an argument."""
    from qbsync.notify.dispatch import secret_name

    with Workspace() as ws:
        value = _read_secret()
        if not value:
            raise UsageError("no secret on stdin", f"pipe it in: ... | qbsync notify secret {name}")
        ws.secrets.set(secret_name(name), value)
        return {"name": name, "secret": "stored"}
