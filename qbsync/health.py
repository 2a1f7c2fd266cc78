"""Sync health for one company: what `qbsync status` shows, as plain data.

Everything here is read from the store with indexed counts (no API call, no secrets read), so a
status on a large ledger stays well under a second: each table through its owner, the exports
held back by go-live through a view. The level is green when nothing waits
(no pending or errored ops, the last cycle succeeded, connected), red when sync cannot proceed
or ops have given up, yellow for anything else; `next` is always the one command to run next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from qbsync import outbox
from qbsync.companies.records import get_row
from qbsync.config import CompanySettings, Config
from qbsync.store.database import Database
from qbsync.sync import cycles, links
from qbsync.sync import exceptions as exc_mod
from qbsync.timeutil import parse_iso, utc_now
from qbsync.views.golive import held_exports


def _count(n: int, noun: str) -> str:
    """`1 invoice`, `2 invoices`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


Level = Literal["green", "yellow", "red"]

EXPIRY_WARNING = dt.timedelta(days=14)


@dataclass
class NextStep:
    why: str
    command: str


def op_counts(db: Database, company: str, go_live: dt.date | None) -> dict[str, int]:
    """Ops by state; pending exports dated before go-live counted apart as `held`."""
    waiting = ("pending", "in_progress", "failed", "errored")
    by_state = outbox.count_by_state(db, company, waiting)
    counts = {s: by_state.get(s, 0) for s in waiting}
    held = held_exports(db, company, go_live) if go_live is not None else 0
    # Waiting to go out: pending or failed-and-retrying, not held back by go-live.
    queued = counts["pending"] + counts["failed"] + counts["in_progress"] - held
    return {
        "queued": max(queued, 0),
        "retrying": counts["failed"],
        "errored": counts["errored"],
        "held_before_go_live": held,
    }


def _company_row(db: Database, company: str) -> dict[str, Any] | None:
    return get_row(db, company)


def _until(value: str | None, now: dt.datetime) -> dict[str, Any] | None:
    if not value:
        return None
    at = parse_iso(value)
    return {"at": at.isoformat(), "seconds_left": int((at - now).total_seconds())}


def company_health(
    db: Database,
    cfg: Config,
    company: str,
    settings: CompanySettings,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    now = now or utc_now()
    row = _company_row(db, company)
    connected = bool(row and row["connected"])
    needs_reconnect = bool(row and row["needs_reconnect"])
    ops = op_counts(db, company, settings.go_live)
    drift = links.count_in_state(db, company, "drift")
    open_by_kind = exc_mod.count_open_by_kind(db, company)
    single_exception = None
    if sum(open_by_kind.values()) == 1:
        single_exception = exc_mod.first_open_id(db, company)
    last = cycles.latest(db, company)
    finished = last if last is None or last["result"] != "running" else None
    finished = finished or cycles.latest_finished(db, company)
    running = last if last is not None and last["result"] == "running" else None
    interrupted = None
    if running is not None:
        from qbsync.sync.lock import holder

        info = holder(company)
        if not (info and info.get("held")):
            # The row says running but no process holds the company's lock: the run died.
            interrupted, running = running["id"], None

    tokens = {
        "access_expires": _until(row["access_expires_at"], now) if row else None,
        "refresh_expires": _until(row["refresh_expires_at"], now) if row else None,
        "refresh_hard_expires": _until(row["refresh_hard_expires_at"], now) if row else None,
    }
    refresh_left = [
        t["seconds_left"]
        for t in (tokens["refresh_expires"], tokens["refresh_hard_expires"])
        if t is not None
    ]
    soonest_refresh = min(refresh_left) if refresh_left else None

    next_cycle = None
    if settings.auto_sync and finished is not None:
        due = parse_iso(finished["started_at"]) + dt.timedelta(seconds=cfg.sync.interval)
        next_cycle = {"at": due.isoformat(), "overdue": due < now}

    data: dict[str, Any] = {
        "company": company,
        "name": row["name"] if row else None,
        "realm_id": row["realm_id"] if row else None,
        "environment": settings.environment,
        "connected": connected and not needs_reconnect,
        "needs_reconnect": needs_reconnect,
        "last_cycle": finished,
        "running_cycle": running["id"] if running else None,
        "interrupted_cycle": interrupted,
        "ops": ops,
        "drift": drift or 0,
        "open_exceptions": sum(open_by_kind.values()),
        "open_exceptions_by_kind": open_by_kind,
        "tokens": tokens,
        "auto_sync": settings.auto_sync,
        "interval_seconds": cfg.sync.interval,
        "go_live": settings.go_live.isoformat() if settings.go_live else None,
        "next_cycle": next_cycle,
    }
    level, problems, step = assess(data, soonest_refresh, single_exception)
    data["level"] = level
    data["problems"] = problems
    data["next"] = {"why": step.why, "command": step.command}
    return data


def assess(
    data: dict[str, Any], soonest_refresh: int | None, single_exception: int | None
) -> tuple[Level, list[str], NextStep]:
    """The level, what is wrong (worst first), and the one next step."""
    key = data["company"]
    c = f" --company {key}"
    ops = data["ops"]
    last = data["last_cycle"]
    red: list[str] = []
    yellow: list[str] = []
    steps: list[NextStep] = []

    reconnect = NextStep("reconnect to QuickBooks", f"qbsync connect{c}")
    if data["needs_reconnect"]:
        red.append("the connection needs attention (authorization failed or was revoked)")
        steps.append(reconnect)
    elif not data["connected"]:
        red.append("not connected to QuickBooks")
        steps.append(NextStep("connect the company", f"qbsync connect{c}"))
    elif soonest_refresh is not None and soonest_refresh <= 0:
        red.append("the refresh token expired")
        steps.append(reconnect)
    if last is not None and last["result"] in ("failed", "aborted"):
        red.append(f"the last cycle {last['result']}: {last['error'] or last['summary'] or ''}")
        steps.append(NextStep("see why the last cycle failed", f"qbsync sync status {last['id']}"))
    if ops["errored"]:
        red.append(f"{_count(ops['errored'], 'operation')} gave up after repeated failures")
    if data["open_exceptions"]:
        yellow.append(_count(data["open_exceptions"], "open exception"))
        if single_exception is not None:
            steps.append(
                NextStep("resolve the open exception", f"qbsync exceptions show {single_exception}")
            )
        else:
            steps.append(
                NextStep("work through the open exceptions", f"qbsync exceptions list --open{c}")
            )
    if ops["errored"]:
        steps.append(
            NextStep(
                "retry the errored operations once their cause is fixed",
                f"qbsync sync retry --errored{c}",
            )
        )
    if data["drift"]:
        yellow.append(f"{_count(data['drift'], 'invoice')} drifted in QuickBooks")
        steps.append(NextStep("review the drift", f"qbsync invoices list --state drift{c}"))
    if data.get("interrupted_cycle"):
        yellow.append(f"cycle #{data['interrupted_cycle']} was interrupted (its process is gone)")
        steps.append(
            NextStep("run a cycle; it picks up where that one stopped", f"qbsync sync run{c}")
        )
    if last is None:
        if not data.get("interrupted_cycle"):
            yellow.append("never synced")
        steps.append(NextStep("run the first cycle", f"qbsync sync run{c}"))
    elif last["result"] in ("cancelled", "interrupted"):
        yellow.append(f"the last cycle was {last['result']}")
        steps.append(NextStep("run a cycle", f"qbsync sync run{c}"))
    if ops["queued"]:
        yellow.append(f"{_count(ops['queued'], 'operation')} waiting to go to QuickBooks")
        steps.append(NextStep("send what is queued", f"qbsync sync run{c}"))
    if (
        data["connected"]
        and soonest_refresh is not None
        and 0 < soonest_refresh < EXPIRY_WARNING.total_seconds()
    ):
        yellow.append(f"the connection expires in {_count(soonest_refresh // 86400, 'day')}")
        steps.append(NextStep("reconnect before the connection lapses", f"qbsync connect{c}"))

    level: Level = "red" if red else "yellow" if yellow else "green"
    if steps:
        return level, red + yellow, steps[0]
    if data["auto_sync"]:
        return level, [], NextStep("nothing to do; watch it", f"qbsync status --watch{c}")
    return (
        level,
        [],
        NextStep("auto-sync is off: sync when you are ready", f"qbsync sync run{c}"),
    )


def workspace_health(
    db: Database, cfg: Config, company: str | None, all_: bool
) -> list[dict[str, Any]]:
    keys = sorted(cfg.companies) if all_ else [cfg.company(company)[0]]
    now = utc_now()
    return [company_health(db, cfg, k, cfg.companies[k], now) for k in keys]
