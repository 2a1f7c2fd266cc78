"""config.yaml: companies, the default company, sync settings and QBO limits.

Checked by qbsync.records, so that every error names the key (and the line, when read from the
file). Secrets never live here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from qbsync import configcache, paths
from qbsync.errors import ConfigError, InputError, NotFoundError
from qbsync.records import Check, Record, RecordError, field
from qbsync.yamlfile import LocatedYaml, dotted, load_located, read_text, round_trip_update

EXAMPLE_HINT = "`qbsync config example` shows every key, annotated"
YAML_HINT = "fix the YAML at that line and run again; `qbsync config example` shows every key"
DURATION_KEYS = ("interval", "overlap", "backoff", "request_timeout", "keyring_timeout")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> float:
    """'15m' -> 900.0. Text needs a unit (ms, s, m, h, d): '10' is refused, because a bare
    number once meant seconds and read as minutes by people. Numbers from code are seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 1h)")
        if match.group(2) is None:
            raise ValueError(_NO_UNIT.format(value=match.group(1)))
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


_NO_UNIT = (
    "{value} has no unit: a duration needs one (90s, 15m, 1h); write {value}s if seconds were meant"
)


def _written_duration(value: Any, written: bool) -> float:
    """A duration as the user wrote it (config.yaml, `config set`): a bare number is refused,
    naming the fix, on every run until the file says what it means."""
    if written and isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(_NO_UNIT.format(value=f"{value:g}"))
    return parse_duration(value)


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[float, Check(parse=_written_duration)]
COMPANY_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
COMPANY_KEY_RULE = (
    "a company key is 1 to 40 lowercase letters, digits, '-' or '_', "
    "starting with a letter or digit"
)
CompanyKey = Annotated[str, Check(pattern=COMPANY_KEY_PATTERN, rule=COMPANY_KEY_RULE)]


class SyncSettings(Record):
    interval: Duration = field(900.0, description="time between daemon cycles")
    overlap: Duration = field(300.0, description="re-read this much before the inbound cursor")
    attempt_cap: int = field(5, ge=1, le=100, description="attempts before an op is errored")
    backoff: Duration = field(60.0, description="first retry delay; doubles per attempt")
    batch_size: int = field(30, ge=1, le=30, description="documents per QBO batch request")
    request_timeout: Duration = field(120.0, description="QBO request timeout")


class QboLimits(Record):
    requests_per_minute: int = field(500, ge=1)
    requests_per_second: int = field(10, ge=1)
    batch_requests_per_minute: int = field(40, ge=1)
    batch_items: int = field(30, ge=1, le=30)
    minor_version: int = field(75, ge=75)


class TaxSettings(Record):
    source: Literal["ledger", "quickbooks"] = field(
        "ledger",
        description="whose tax wins: the ledger's (a difference is a tax_mismatch exception) "
        "or QuickBooks' (written into the ledger after each export)",
    )


NotifyEvent = Literal["cycle_failed", "exceptions_opened", "reconnect_needed", "token_expiring"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = (
    "cycle_failed",
    "exceptions_opened",
    "reconnect_needed",
    "token_expiring",
)


class NotifyTarget(Record):
    """Where an alert goes: a command, a webhook, SMTP e-mail or apprise URLs (qbsync[apprise]).
    Secrets (an SMTP password, a webhook or apprise URL with a token in it) are named here and
    kept in the secrets store (`qbsync notify secret NAME`), never written in this file."""

    name: Annotated[str, Check(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
    type: Literal["command", "webhook", "email", "apprise"]
    events: list[NotifyEvent] = field(factory=lambda: list(NOTIFY_EVENTS))
    timeout: Duration = field(10.0, description="one delivery attempt")
    command: list[str] | None = None
    url: str | None = None
    url_secret: str | None = None
    retries: int = field(3, ge=0, le=10, description="webhook: attempts after the first")
    backoff: Duration = field(1.0, description="webhook: first retry delay; doubles each time")
    smtp_host: str | None = None
    smtp_port: int | None = field(None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_secret: str | None = None
    sender: str | None = None
    to: list[str] = field(factory=list)

    def check(self) -> None:
        needs = {
            "command": ("command",),
            "webhook": ("url|url_secret",),
            "email": ("smtp_host", "sender", "to"),
            "apprise": ("url|url_secret",),
        }[self.type]
        for need in needs:
            if not any(getattr(self, key) for key in need.split("|")):
                raise ValueError(f"a {self.type} target needs {need.replace('|', ' or ')}")
        if self.url and re.search(
            r"(?i)(token|secret|key|password|sig)=|//[^/@]+:[^/@]+@", self.url
        ):
            raise ValueError(
                "this url carries a secret; keep it in the secrets store and name it in "
                "url_secret (qbsync notify secret NAME)"
            )


class NotifySettings(Record):
    targets: list[NotifyTarget] = field(factory=list)


def _qbo_id_text(value: object, written: bool) -> object:
    # `config set ... 42` reads 42 as a number; a QuickBooks id is text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


QboIdText = Annotated[str | None, Check(parse=_qbo_id_text)]


class CustomerSettings(Record):
    create: Literal["auto", "ask", "never"] = field(
        "ask",
        description="a finalized invoice of a client with no QuickBooks customer. auto: qbsync "
        "finds the customer by name and e-mail, or creates it; ask: a customer_missing "
        "exception until someone maps it; never: the same, and qbsync never offers to create",
    )
    update: bool = field(
        False, description="push a client's changes to its QuickBooks customer (sparse update)"
    )


class CompanySettings(Record):
    environment: Literal["production", "sandbox", "sim"] = "production"
    sim_url: str | None = None
    redirect_uri: str | None = None
    go_live: dt.date | None = None
    auto_sync: bool = True
    numbering: Literal["ledger", "quickbooks"] = "ledger"
    send_bill_address: bool = False
    post_quantities: bool = True
    round_payments: bool = True
    on_cancel: Literal["void", "delete"] = "void"
    tax: TaxSettings = field(factory=TaxSettings)
    notify: NotifySettings | None = None  # replaces the global notify targets for this company

    customers: CustomerSettings = field(factory=CustomerSettings)
    payment_push: bool = field(True, description="push ledger payments to QuickBooks")
    payment_pull: bool = field(True, description="take payments recorded in QuickBooks")
    credit_memos: bool = field(
        True, description="export credit notes as credit memos and apply them"
    )
    customer_sync: bool = field(
        True, description="find, create, update customers and report their drift"
    )
    fallback_item: QboIdText = field(
        None, description="QuickBooks item id for a service with no mapping (a warning each use)"
    )
    fallback_tax_code: QboIdText = field(
        None, description="QuickBooks tax code for a tax region with no mapping (a warning)"
    )
    online_card_payment: bool = field(
        False, description="invoices allow online credit card payment"
    )
    online_ach_payment: bool = field(False, description="invoices allow online bank (ACH) payment")


class Config(Record):
    version: Literal[1] = 1
    default_company: CompanyKey | None = None
    secrets: Literal["keyring", "file"] = "keyring"
    keyring_timeout: Duration = 10.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    fuzzy_threshold: int = field(85, ge=0, le=100)
    sync: SyncSettings = field(factory=SyncSettings)
    qbo: QboLimits = field(factory=QboLimits)
    companies: dict[CompanyKey, CompanySettings] = field(factory=dict)
    notify: NotifySettings = field(factory=NotifySettings)

    def company(self, key: str | None) -> tuple[str, CompanySettings]:
        """The named company, else the default, else the only one."""
        if key is None:
            key = self.default_company
            if key is None and len(self.companies) == 1:
                key = next(iter(self.companies))
        if key is None and not self.companies:
            raise NotFoundError(
                "no QuickBooks company is set up yet",
                "set one up: qbsync app set --company KEY --client-id ID, then qbsync connect "
                "--company KEY; or try everything offline first: qbsync demo",
            )
        if key is None:
            raise NotFoundError(
                "no company given and no default company set",
                "pass --company KEY, or set one with `qbsync companies use KEY`",
            )
        if key not in self.companies:
            known = ", ".join(sorted(self.companies)) or "none yet"
            raise NotFoundError(
                f"unknown company {key!r} (known: {known})",
                "connect it with `qbsync connect --company KEY`",
            )
        return key, self.companies[key]


SECRETS_ENV = "QBSYNC_SECRETS"


def secrets_backend(config: Config) -> str:
    """Where secrets are kept: QBSYNC_SECRETS (keyring or file) over the config's `secrets`."""
    chosen = os.environ.get(SECRETS_ENV, "").strip()
    if not chosen:
        return config.secrets
    if chosen not in ("keyring", "file"):
        raise ConfigError(f"{SECRETS_ENV}={chosen!r}: expected keyring or file")
    return chosen


def _describe(exc: RecordError, located: LocatedYaml | None, source: str) -> str:
    problems = []
    for loc, message in exc.problems:
        line = located.line_of(loc) if located else None
        where = f"{source}:{line}" if line else source
        problems.append(f"{where}: {dotted(loc) or '(top level)'}: {message}")
    return "; ".join(problems)


def validate(data: Any, located: LocatedYaml | None = None, source: str = "config") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return Config.model_validate(data, written=True)
    except RecordError as exc:
        raise ConfigError(_describe(exc, located, source), EXAMPLE_HINT) from None


EMPTY_HINT = "restore it from a backup, or remove it to start over"


def _read(path: Path) -> str:
    """config.yaml's text; one that cannot be read or is not UTF-8 is a ConfigError (exit 2)
    naming the file (and the line of the first byte that is not UTF-8)."""
    try:
        return read_text(path, "utf-8")
    except InputError as exc:
        raise ConfigError(exc.message, exc.hint) from None


def _read_settings(path: Path) -> str:
    """config.yaml's text to read settings from. A file that is there but empty (or only
    blanks) was cut short, by a full disk or a failed copy, never written so by qbsync: it is
    a ConfigError naming it, not a workspace where nothing is set up yet (no file is that)."""
    text = _read(path)
    if not text.strip():
        raise ConfigError(f"{path} is empty", EMPTY_HINT)
    return text


def _parse(text: str, path: Path) -> LocatedYaml:
    try:
        return load_located(text, str(path), YAML_HINT)
    except InputError as exc:  # the YAML parser's: same message, the config's exit code
        raise ConfigError(exc.message, exc.hint) from None


def load(path: Path | None = None) -> Config:
    path = path or paths.config_file()
    if not path.exists():
        return Config()
    text = _read_settings(path)
    kept = configcache.read(path, text)
    if kept is not configcache.MISSING:
        with contextlib.suppress(ConfigError):  # the rules changed since: parse, for the lines
            return validate(kept, None, str(path))
    located = _parse(text, path)
    config = validate(located.data, located, str(path))
    configcache.write(path, text, located.data)
    return config


def to_yaml_data(
    config: Config, *, only_set: bool = False, keep_none: bool = False
) -> dict[str, Any]:
    """The config as plain data, durations written back as text. `only_set` leaves defaults
    out, so that config.yaml holds what the user chose and later defaults still apply."""
    data = config.model_dump(mode="json", exclude_none=not keep_none, exclude_unset=only_set)
    sync = data.get("sync", {})
    for key in DURATION_KEYS:
        if sync.get(key) is not None:
            sync[key] = format_duration(sync[key])
    if data.get("keyring_timeout") is not None:
        data["keyring_timeout"] = format_duration(data["keyring_timeout"])
    _format_notify_durations(data)
    return data


def _format_notify_durations(data: dict[str, Any]) -> None:
    """Notify targets' durations written back as text (`10s`), global and per company."""
    sections = [data.get("notify")] + [c.get("notify") for c in data.get("companies", {}).values()]
    for section in sections:
        for target in (section or {}).get("targets") or []:
            for key in ("timeout", "backoff"):
                if isinstance(target.get(key), int | float):
                    target[key] = format_duration(target[key])


def _same_value(path: tuple[str, ...], old: Any, new: Any) -> bool:
    """Whether the file's value already says `new` (then it is kept as the user wrote it:
    `900s` stays `900s`)."""
    if path and path[-1] in DURATION_KEYS:
        try:
            return parse_duration(str(old)) == parse_duration(str(new))
        except ValueError:
            return False
    return bool(old == new) and isinstance(old, str) == isinstance(new, str)


def save(config: Config, path: Path | None = None) -> Path:
    """Write what the user set (never the defaults) into config.yaml, editing the file in place:
    its comments, key order and the values left alone stay as written."""
    path = path or paths.config_file()
    data = to_yaml_data(config, only_set=True)
    for settings in data.get("companies", {}).values():
        if isinstance(settings.get("go_live"), str):
            settings["go_live"] = dt.date.fromisoformat(settings["go_live"])
    before = _read(path) if path.exists() else ""
    paths.write_private(path, round_trip_update(before, data, _same_value))
    return path


def set_in_file(dotted_key: str, raw: str, path: Path | None = None) -> Config:
    """`config set`: set one key in config.yaml, from the file as it is, so that a file that no
    longer validates (a duration without its unit) can be fixed key by key."""
    path = path or paths.config_file()
    data: Any = {}
    if path.exists():
        data = _parse(_read_settings(path), path).data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    updated = set_value(Config(), dotted_key, raw, data=data)
    save(updated, path)
    return updated


def get_value(config: Config, dotted_key: str) -> Any:
    """The effective value of `a.b.c` (defaults filled in), as config.yaml would spell it."""
    parts = [p for p in dotted_key.split(".") if p]
    if not parts:
        raise ConfigError("empty key", EXAMPLE_HINT)
    node: Any = to_yaml_data(config, keep_none=True)
    for depth, part in enumerate(parts):
        where = ".".join(parts[: depth + 1])
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(parts[:depth])}: not a section", EXAMPLE_HINT)
        if part not in node:
            if depth == 1 and parts[0] == "companies":
                known = ", ".join(sorted(node)) or "none yet"
                raise ConfigError(f"{where}: no such company (known: {known})")
            raise ConfigError(f"{where}: unknown key", EXAMPLE_HINT)
        node = node[part]
    return node


def example_text() -> str:
    """The annotated config.example.yaml shipped inside the package."""
    from importlib.resources import files

    return files("qbsync").joinpath("config.example.yaml").read_text(encoding="utf-8")


def set_value(
    config: Config, dotted_key: str, raw: str, *, data: dict[str, Any] | None = None
) -> Config:
    """Set `a.b.c` to a YAML scalar (so `true`, `30` and `2026-01-01` keep their types).
    `data`: the file's own data instead of `config`'s (to fix a file that does not validate)."""
    parts = [p for p in dotted_key.split(".") if p]
    if not parts:
        raise ConfigError("empty key")
    import yaml

    try:
        value = yaml.safe_load(raw) if raw != "" else None
    except (yaml.YAMLError, ValueError):  # ValueError: a date that is no date (2026-13-01)
        value = raw
    if data is None:
        data = to_yaml_data(config, only_set=True)
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(parts[: depth + 1])}: not a section")
        if part not in node:
            known, path = Config().model_dump(mode="json"), parts[:depth]
            if parts[0] == "companies" and depth >= 2:  # a company's section: its own model
                known, path = CompanySettings().model_dump(mode="json"), parts[2:depth]
            for earlier in path:
                known = known.get(earlier, {}) if isinstance(known, dict) else {}
            if (depth == 1 and parts[0] == "companies") or part in known:
                node[part] = {}
            else:
                raise ConfigError(f"{'.'.join(parts[: depth + 1])}: unknown key")
        node = node[part]
    if not isinstance(node, dict):
        raise ConfigError(f"{dotted_key}: not a section")
    node[parts[-1]] = value  # an unknown leaf is reported by the model, with its dotted path
    return validate(data, None, "config set")
