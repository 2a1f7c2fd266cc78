"""`qbsync sim`: the embedded QuickBooks Online simulator."""

from __future__ import annotations

import json
import signal
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from qbsync.cli.command import PolishedGroup, QuietAwareCommand
from qbsync.sim.faults import Latency

app = typer.Typer(
    help="The embedded QuickBooks Online simulator: try qbsync offline, run tests and demos.",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=PolishedGroup,
)


class Seed(StrEnum):
    demo = "demo"
    empty = "empty"
    us_tax = "us-tax"
    us_ast = "us-ast"
    uk_vat = "uk-vat"
    ca_gst = "ca-gst"
    multi_currency = "multi-currency"


class LimitMode(StrEnum):
    intuit = "intuit"
    off = "off"


@app.callback()
def sim() -> None:
    """The embedded QuickBooks Online simulator: OAuth, the v3 API, CDC, batch, throttles."""


def _latency(value: str) -> str:
    try:
        Latency.parse(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    return value


@app.command(cls=QuietAwareCommand)
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 4010,
    seed: Annotated[
        Seed,
        typer.Option(
            help="demo: a small US company with lists; empty: the bare minimum; us-tax, us-ast, "
            "uk-vat, ca-gst, multi-currency: tax and currency profiles (docs/qbo-tax.md)."
        ),
    ] = Seed.demo,
    auto_consent: Annotated[
        bool,
        typer.Option(
            "--auto-consent", help="Skip the consent page: authorize redirects at once (scripts)."
        ),
    ] = False,
    latency: Annotated[
        str,
        typer.Option(
            callback=_latency,
            help="Added delay. 'none', 'intuit' (about a real sandbox: 250 ms per request plus "
            "60 ms per batch item) or REQ_MS[+ITEM_MS], e.g. '150+100' is 150 ms per request "
            "plus 100 ms per batch item.",
        ),
    ] = "none",
    limits: Annotated[
        LimitMode,
        typer.Option(
            help="intuit: 500/min and 10/s per company, 40 batches/min, answered with HTTP 429; "
            "off: no throttling."
        ),
    ] = LimitMode.intuit,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Keep the simulator's state (companies, app, tokens) in this SQLite file across "
            "restarts. It holds secrets: it is written with mode 0600."
        ),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON line {url, realm_id, client_id, client_secret, admin_key}, "
            "then serve.",
        ),
    ] = False,
) -> None:
    """Serve the simulator until interrupted (Ctrl-C or SIGTERM)."""
    from qbsync.sim.server import SimServer

    try:
        server = SimServer(
            seed=seed.value,
            auto_consent=auto_consent,
            limits=limits.value,
            latency=latency,
            state_file=state,
            host=host,
            port=port,
        ).start()
    except OSError as err:
        typer.echo(f"error: cannot listen on {host}:{port}: {err.strerror or err}", err=True)
        raise typer.Exit(1) from None
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if json_out:
            typer.echo(json.dumps(server.info()))
        else:
            typer.echo(
                "QuickBooks Online simulator\n"
                f"  url            {server.url}\n"
                f"  discovery      {server.discovery_url}\n"
                f"  company        {server.sim.company().name} (realm {server.realm_id})\n"
                f"  client id      {server.client_id}\n"
                f"  client secret  {server.client_secret}\n"
                f"  admin key      {server.admin_key}\n"
                f"  limits {limits.value}, latency {latency}"
                + (f", state {state}" if state else "")
                + "\nPress Ctrl-C to stop."
            )
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
