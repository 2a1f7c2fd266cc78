"""QBO's own fault shape (QBOError), the injectable faults, and the throttles. What the gateway
and proxies answer before QBO lives in gateway.py."""

from __future__ import annotations

import fnmatch
import random
import threading
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from qbsync.sim.gateway import GATEWAY_STATUSES

# Message and Detail texts as QBO writes them, keyed by code.
MESSAGES: dict[str, tuple[str, str]] = {
    "610": (
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",  # noqa: E501
    ),
    "2010": (
        "Request has invalid or unsupported property",
        "Property Name:{element} specified is unsupported or invalid",
    ),
    "2020": (
        "Required param missing, need to supply the required value for the API",
        "Required parameter {element} is missing in the request",
    ),
    "2050": (
        "String length is either shorter or longer than supported by specification",
        "String length specified does not match the supported length. Min:0 Max:{max} supplied length:{length}",  # noqa: E501
    ),
    "2500": ("Invalid Reference Id", "Invalid Reference Id : {detail}"),
    "4000": ("Error parsing query", "QueryParserError: {detail}"),
    "4001": ("Invalid query", "QueryValidationError: {detail}"),
    "5010": (
        "Stale Object Error",
        "Stale Object Error : You and another user were working on the same thing. Another user has saved changes before you did, so your work was not saved.",  # noqa: E501
    ),
    "6000": (
        "A business validation error has occurred while processing your request",
        "Business Validation Error: {detail}",
    ),
    "6070": (
        "Amount is not equal to UnitPrice * Qty",
        "Amount is not equal to UnitPrice * Qty. Supplied value:{detail}",
    ),
    "6140": (
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already been used. {detail}",  # noqa: E501
    ),
    "6240": ("Duplicate Name Exists Error", "The name supplied already exists. : {detail}"),
    "6540": (
        "Deposited Transaction cannot be changed",
        "This transaction has been deposited. If you want to change or delete it, you must edit the deposit it appears on and remove it first.",  # noqa: E501
    ),
    "10000": (
        "An application error has occurred while processing your request",
        "System Failure Error: {detail}",
    ),
    "3100": (
        "ApplicationAuthorizationFailed",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
    ),
    "120": ("Authorization Failure", "AuthorizationFault: {detail}"),
}


class QBOError(Exception):
    """A fault the company API answers with, in Intuit's JSON shape."""

    def __init__(
        self,
        code: str,
        *,
        status: int = 400,
        type: str = "ValidationFault",
        element: str = "",
        message: str | None = None,
        detail: str | None = None,
        **fmt: Any,
    ) -> None:
        base_msg, template = MESSAGES.get(code, ("Error", "{detail}"))
        values = {"element": element, "detail": detail or "", **fmt}
        try:
            text = template.format(**values)
        except KeyError:
            text = detail or template
        self.code = str(code)
        self.status = status
        self.type = type
        self.element = element
        self.message = message or base_msg
        self.detail = text
        super().__init__(f"{self.code}: {self.detail}")

    def fault(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }
        return {"Error": [err], "type": self.type}


def fault_body(err: QBOError, time: str) -> dict[str, Any]:
    return {"Fault": err.fault(), "time": time}


# ---------------------------------------------------------------- injection


@dataclass
class FaultRule:
    """One injected fault. `path_pattern` is a glob over the path (and path?query)."""

    path_pattern: str
    method: str | None = None
    status: int = 500
    code: str | None = None
    kind: str = "http"  # http | timeout | drop | auth401 | xml401 | throttle | gateway
    probability: float | None = None
    count: int | None = None  # remaining firings; None = unlimited
    realm: str | None = None
    when: str = "before"  # before: nothing runs; after: the operation runs, the answer is lost
    hang_seconds: float = 130.0
    id: int = 0
    fired: int = 0

    def matches(self, method: str, path: str, query: str, realm: str | None) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.realm and self.realm != realm:
            return False
        full = f"{path}?{query}" if query else path
        return fnmatch.fnmatchcase(path, self.path_pattern) or fnmatch.fnmatchcase(
            full, self.path_pattern
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


KINDS = {"http", "timeout", "drop", "auth401", "xml401", "throttle", "gateway"}


class FaultInjector:
    def __init__(self, seed: int | None = None) -> None:
        self._rules: list[FaultRule] = []
        self._next = 1
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        if rule.kind not in KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}")
        if rule.when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        if rule.kind == "gateway" and rule.status not in GATEWAY_STATUSES:
            raise ValueError("a gateway fault's status is 502, 503 or 504")
        with self._lock:
            rule.id = self._next
            self._next += 1
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str, query: str, realm: str | None) -> FaultRule | None:
        """Decide once per request whether a rule fires (count and probability consumed here)."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, query, realm):
                    continue
                if rule.count is not None and rule.count <= 0:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return rule
        return None


# ---------------------------------------------------------------- throttles


@dataclass
class Limits:
    per_minute: int = 500
    per_second: int = 10
    batch_per_minute: int = 40  # per realm and app
    batch_per_minute_realm: int = 120  # per realm, all apps together


class RateLimiter:
    """Sliding windows per realm (and per realm and app for batch), on the simulator clock."""

    def __init__(self, limits: Limits | None) -> None:
        self.limits = limits
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._batch: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._batch_realm: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def admit(self, realm: str, app: str, now: float, *, batch: bool) -> bool:
        if self.limits is None:
            return True
        lim = self.limits
        with self._lock:
            hits = self._hits[realm]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            last_second = sum(1 for t in hits if t > now - 1)
            if len(hits) >= lim.per_minute or last_second >= lim.per_second:
                return False
            if batch:
                b = self._batch[(realm, app)]
                br = self._batch_realm[realm]
                for window in (b, br):
                    while window and window[0] <= now - 60:
                        window.popleft()
                if len(b) >= lim.batch_per_minute or len(br) >= lim.batch_per_minute_realm:
                    return False
                b.append(now)
                br.append(now)
            hits.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._batch.clear()
            self._batch_realm.clear()


@dataclass
class Latency:
    per_request_ms: float = 0.0
    per_batch_item_ms: float = 0.0

    @classmethod
    def parse(cls, profile: str | None) -> Latency:
        """`none`, `intuit` (about what a real sandbox feels like) or `REQ_MS[+ITEM_MS]`."""
        if profile is None or profile.strip().lower() in ("", "none", "0"):
            return cls()
        p = profile.strip().lower()
        if p == "intuit":
            return cls(250.0, 60.0)
        req, _, item = p.partition("+")
        try:
            return cls(float(req), float(item) if item else 0.0)
        except ValueError:
            raise ValueError(
                f"bad latency profile {profile!r}: use none, intuit or REQ_MS[+ITEM_MS]"
            ) from None


@dataclass
class RequestLog:
    """Every API call, and counts per realm and endpoint (429s counted apart)."""

    max_entries: int = 20000
    entries: deque[dict[str, Any]] = field(default_factory=deque)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        realm = entry.get("realm") or "-"
        with self._lock:
            self.entries.append(entry)
            while len(self.entries) > self.max_entries:
                self.entries.popleft()
            per = self.counts.setdefault(realm, {})
            per[entry["endpoint"]] = per.get(entry["endpoint"], 0) + 1
            if entry.get("status") == 429:
                self.throttled[realm] = self.throttled.get(realm, 0) + 1

    def snapshot(self, realm: str | None = None) -> dict[str, Any]:
        with self._lock:
            if realm is not None:
                per = dict(self.counts.get(realm, {}))
                return {
                    "realm": realm,
                    "total": sum(per.values()),
                    "endpoints": per,
                    "throttled": self.throttled.get(realm, 0),
                }
            return {
                "realms": {
                    r: {
                        "total": sum(c.values()),
                        "endpoints": dict(c),
                        "throttled": self.throttled.get(r, 0),
                    }
                    for r, c in self.counts.items()
                }
            }

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.entries)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.counts.clear()
            self.throttled.clear()
