"""What to send, to whom, after a cycle: the one event of the cycle (failure, reconnect, the
digest of exceptions it opened) and the token expiry warning that is due, to each target that
wants it. Nothing here raises into the sync: a target that fails is logged and skipped.

A target that is down misses that event (after the webhook's retries): events are not queued,
because the next failing cycle sends its own and `qbsync status` keeps the whole picture. An
expiry warning is the exception: it is remembered only once delivered, so a target that was
down gets it from the next cycle.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from qbsync.config import CompanySettings, NotifyTarget
from qbsync.logs import get_logger
from qbsync.notify import events, sent, targets_for
from qbsync.notify.targets import DeliveryError, Resolved, deliver
from qbsync.redact import redact
from qbsync.timeutil import parse_iso, utc_now
from qbsync.workspace import Workspace

log = get_logger("notify")
EXPIRY_THRESHOLDS = (14, 7, 2)  # days before the refresh token (or its hard cap) runs out
SECRET_PREFIX = "notify/"


def secret_name(name: str) -> str:
    """Where a target's secret (SMTP password, URL with a token) is kept in the secrets store."""
    return SECRET_PREFIX + name


@dataclass
class Delivery:
    target: str
    event: str
    ok: bool
    seconds: float
    error: str | None = None


def wants(target: NotifyTarget, event: dict[str, Any]) -> bool:
    if event.get("event") == events.TEST:
        return True
    return any(kind in target.events for kind in event.get("events") or [])


def resolve(ws: Workspace, target: NotifyTarget) -> Resolved:
    """The target with its secrets read; a secret that is named but missing is an error."""
    resolved = Resolved(target)
    if target.url_secret:
        resolved.url = ws.secrets.get(secret_name(target.url_secret))
        if not resolved.url:
            raise DeliveryError(
                f"no URL in the secrets store under {target.url_secret!r}: "
                f"qbsync notify secret {target.url_secret}"
            )
    if target.password_secret:
        resolved.password = ws.secrets.get(secret_name(target.password_secret))
    return resolved


def _deliver_all(jobs: list[tuple[Resolved | DeliveryError, dict[str, Any]]]) -> list[Delivery]:
    """Send each event to its target, one after another; never raises."""
    done = []
    for resolved, event in jobs:
        name = resolved.target.name if isinstance(resolved, Resolved) else "?"
        started = time.monotonic()
        try:
            if isinstance(resolved, DeliveryError):
                raise resolved
            deliver(resolved, event)
        except Exception as err:  # a target's trouble never reaches the sync
            message = (
                err.message if isinstance(err, DeliveryError) else f"{type(err).__name__}: {err}"
            )
            seconds = time.monotonic() - started
            done.append(Delivery(name, event["event"], False, seconds, redact(message)))
        else:
            done.append(Delivery(name, event["event"], True, time.monotonic() - started))
    return done


def _jobs(
    ws: Workspace, pairs: list[tuple[NotifyTarget, dict[str, Any]]]
) -> list[tuple[Resolved | DeliveryError, dict[str, Any]]]:
    jobs: list[tuple[Resolved | DeliveryError, dict[str, Any]]] = []
    for target, event in pairs:
        try:
            jobs.append((resolve(ws, target), event))
        except Exception as err:  # the secrets store refused: this target fails, not the cycle
            failure = err if isinstance(err, DeliveryError) else DeliveryError(str(err))
            jobs.append((failure, event))
    return jobs


def _log(deliveries: list[Delivery], company: str | None) -> None:
    for d in deliveries:
        if d.ok:
            log.info("alert %s for %s sent to %s in %.1fs", d.event, company, d.target, d.seconds)
        else:
            log.warning("alert %s for %s to %s failed: %s", d.event, company, d.target, d.error)


def send_now(ws: Workspace, targets: list[NotifyTarget], event: dict[str, Any]) -> list[Delivery]:
    """Send `event` to each of `targets` that wants it, now (`qbsync notify test`)."""
    chosen = [(t, event) for t in targets if wants(t, event)]
    deliveries = _deliver_all(_jobs(ws, chosen))
    _name_failed_lookups(deliveries, chosen)
    _log(deliveries, event.get("company"))
    return deliveries


def _name_failed_lookups(
    deliveries: list[Delivery], pairs: list[tuple[NotifyTarget, dict[str, Any]]]
) -> None:
    for delivery, (target, _) in zip(deliveries, pairs, strict=True):
        delivery.target = target.name


def expiry_due(row: dict[str, Any] | None) -> tuple[str, str, float, int] | None:
    """(which, ends_at, days_left, threshold) when the company's token ends within a threshold:
    the nearer of the refresh token's end and its hard cap."""
    if not row:
        return None
    ends = [
        (parse_iso(row[key]), which, row[key])
        for key, which in (("refresh_expires_at", "refresh"), ("refresh_hard_expires_at", "hard"))
        if row.get(key)
    ]
    if not ends:
        return None
    end, which, text = min(ends)
    days = (end - utc_now()).total_seconds() / 86400
    threshold = next((d for d in reversed(EXPIRY_THRESHOLDS) if days <= d), None)
    return None if threshold is None else (which, text, days, threshold)


async def after_cycle(
    ws: Workspace,
    company: str,
    settings: CompanySettings | None,
    outcome: dict[str, Any],
    opened: list[dict[str, Any]],
    company_row: dict[str, Any] | None,
) -> list[Delivery]:
    """Tell the company's targets about the cycle that ended (`outcome`, the exceptions it
    `opened`) and about a token expiry that is due (`company_row`). Never raises."""
    try:
        targets = targets_for(ws.config, settings)
        if not targets:
            return []
        pairs: list[tuple[NotifyTarget, dict[str, Any]]] = []
        cycle_event = events.cycle_event(outcome, opened)
        if cycle_event is not None:
            pairs += [(t, cycle_event) for t in targets if wants(t, cycle_event)]
        due = expiry_due(company_row)
        if due is not None:
            which, ends_at, days, threshold = due
            warning = events.expiry_event(company, which, ends_at, days, threshold)
            for t in targets:
                if wants(t, warning) and not sent.already_sent(
                    ws.store, company, t.name, threshold, ends_at
                ):
                    pairs.append((t, warning))
        if not pairs:
            return []
        jobs = _jobs(ws, pairs)
        deliveries = await asyncio.to_thread(_deliver_all, jobs)
        _name_failed_lookups(deliveries, pairs)
        _log(deliveries, company)
        for delivery, (target, event) in zip(deliveries, pairs, strict=True):
            if delivery.ok and event["event"] == events.TOKEN_EXPIRING and due is not None:
                sent.remember(ws.store, company, target.name, due[3], due[1])
        return deliveries
    except Exception:  # alerts never break a sync
        log.warning("alerts for %s could not be sent", company, exc_info=True)
        return []
