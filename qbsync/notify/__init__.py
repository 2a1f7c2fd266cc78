"""Alerts that reach a person: the `notify:` targets of config.yaml, told when a cycle fails,
when a cycle opens exceptions (one digest per cycle), when a reconnect is needed and when the
refresh token is about to expire (14, 7 and 2 days before, once each per token).

Delivery never changes what a sync decided: a target that fails is logged and skipped. Events
are plain JSON, scrubbed of secrets before they leave the process (events.py); the targets
(command, webhook, e-mail, apprise) are in targets.py; what a cycle sends is decided in
dispatch.py; expiry warnings already sent are remembered in the store (sent.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qbsync.config import CompanySettings, Config, NotifyTarget


def targets_for(config: Config, settings: CompanySettings | None) -> list[NotifyTarget]:
    """A company's own `notify:` replaces the global one; else the global targets. Here, not in
    dispatch.py: a cycle with nobody to tell (most) loads no delivery code."""
    if settings is not None and settings.notify is not None:
        return list(settings.notify.targets)
    return list(config.notify.targets)
