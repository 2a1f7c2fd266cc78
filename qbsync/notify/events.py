"""The JSON events alerts carry, built from plain data and scrubbed of secrets.

Every string in an event goes through `redact` (the token shapes, and every secret value this
process has read), so that no alert carries a token, a client secret or a password.
"""

from __future__ import annotations

from typing import Any

from qbsync import __version__
from qbsync.redact import redact
from qbsync.timeutil import utc_now_iso

CYCLE_FAILED = "cycle_failed"
EXCEPTIONS_OPENED = "exceptions_opened"
RECONNECT_NEEDED = "reconnect_needed"
TOKEN_EXPIRING = "token_expiring"
TEST = "test"
# Exceptions with an event of their own, left out of the digest.
AUTH_FAILED_KIND = "connection_auth_failed"
OWN_EVENT_KINDS = (AUTH_FAILED_KIND, "connection_expiring")
DIGEST_LIMIT = 50  # exceptions listed in one digest; the rest are counted


def scrub(value: Any) -> Any:
    """`value` with every string redacted, dicts and lists walked."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _event(kind: str, company: str | None, title: str, text: str, **extra: Any) -> dict[str, Any]:
    return scrub(
        {
            "source": "qbsync",
            "version": __version__,
            "event": kind,
            "events": extra.pop("events", [kind]),
            "company": company,
            "at": utc_now_iso(),
            "title": title,
            "text": text,
            **extra,
        }
    )


def _exception_line(e: dict[str, Any]) -> str:
    subject = e.get("subject_label") or f"{e.get('subject_type')} {e.get('subject_id')}"
    return f"- #{e.get('id')} {e.get('kind')}: {subject}: {e.get('message')}"


def cycle_event(outcome: dict[str, Any], opened: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one event of a finished cycle, or None when there is nothing to tell.

    `outcome`: the cycle's result (CycleResult.as_dict()); `opened`: the exceptions it opened.
    A cycle that needs a reconnect (first found: it opened the auth exception), failed, or
    opened exceptions gives one event whose `events` lists every reason; `event` is the most
    pressing one."""
    company = str(outcome.get("company") or "")
    result = str(outcome.get("result") or "")
    digest = [e for e in opened if e.get("kind") not in OWN_EVENT_KINDS]
    reasons = []
    if result == "aborted":
        # Told once per outage: when the cycle opened the auth exception, not on every run
        # that finds it still open.
        if any(e.get("kind") == AUTH_FAILED_KIND for e in opened):
            reasons.append(RECONNECT_NEEDED)
    elif result == "failed":
        reasons.append(CYCLE_FAILED)
    if digest:
        reasons.append(EXCEPTIONS_OPENED)
    if not reasons:
        return None
    cycle_id = outcome.get("cycle_id")
    lines = [str(outcome.get("summary") or f"{company}: {result}")]
    if reasons[0] == RECONNECT_NEEDED:
        title = f"{company}: QuickBooks needs reconnecting (cycle {cycle_id} aborted)"
        hint = f"reconnect: qbsync connect --company {company}"
    elif reasons[0] == CYCLE_FAILED:
        title = f"{company}: sync cycle {cycle_id} failed"
        hint = f"see: qbsync sync status {cycle_id}; qbsync status -c {company}"
    else:
        title = (
            f"{company}: {len(digest)} new exception{'s' * (len(digest) != 1)} in cycle {cycle_id}"
        )
        hint = f"see: qbsync exceptions list --open -c {company}"
    if outcome.get("error") and reasons[0] != EXCEPTIONS_OPENED:
        lines.append(f"error: {outcome['error']}")
    if digest:
        lines.append(f"{len(digest)} new exception(s):")
        lines += [_exception_line(e) for e in digest[:DIGEST_LIMIT]]
        if len(digest) > DIGEST_LIMIT:
            lines.append(f"... and {len(digest) - DIGEST_LIMIT} more")
    lines.append(hint)
    return _event(
        reasons[0],
        company,
        title,
        "\n".join(lines),
        events=reasons,
        hint=hint,
        cycle={
            k: outcome.get(k)
            for k in (
                "cycle_id",
                "result",
                "exit_code",
                "summary",
                "error",
                "started_at",
                "finished_at",
            )
        },
        exceptions=[
            {
                k: e.get(k)
                for k in ("id", "kind", "title", "subject_type", "subject_id", "message", "hint")
            }
            for e in digest[:DIGEST_LIMIT]
        ],
        exceptions_total=len(digest),
    )


def expiry_event(
    company: str, which: str, ends_at: str, days_left: float, threshold: int
) -> dict[str, Any]:
    """The refresh token (or its hard cap, `which`) of `company` ends at `ends_at`."""
    days = max(int(days_left), 0)
    what = "refresh token" if which == "refresh" else "refresh token's five-year cap"
    left = f"{days} day{'s' * (days != 1)}"
    title = f"{company}: the QuickBooks connection expires in {left}"
    hint = f"reconnect before then: qbsync connect --company {company}"
    return _event(
        TOKEN_EXPIRING,
        company,
        title,
        f"The {what} of {company} ends at {ends_at} ({left} left; warned at "
        f"{threshold} days).\n{hint}",
        hint=hint,
        expiry={
            "which": which,
            "ends_at": ends_at,
            "days_left": days,
            "threshold_days": threshold,
        },
    )


def sample_event(company: str | None) -> dict[str, Any]:
    """A sample, sent by `qbsync notify test`."""
    return _event(
        TEST,
        company,
        "qbsync: test alert",
        "This is a test alert from `qbsync notify test`: this target is set up right.",
        events=[TEST],
        hint="nothing to do",
    )
