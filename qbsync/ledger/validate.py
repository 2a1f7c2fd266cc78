"""Validating records as read: each one against its model, and ids unique within an import.

Every problem names the file, the line (or CSV row) and the field; all problems found are
reported together (up to a limit), so a file is fixed in one pass. Checks against the store
(references, transitions) are the plan's (plan.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from qbsync.errors import InputError
from qbsync.ledger.models import KINDS, LINE_TAGS, RECORD_MODELS
from qbsync.ledger.readers import RawRecord

MAX_REPORTED = 10


class Problems:
    """Problems found so far, each as `where: what`; raised together as one InputError. Only
    the first MAX_REPORTED are kept (a file of 100,000 bad rows is not held twice over)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, where: str, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_REPORTED:
            self.items.append(f"{where}: {message}")

    def raise_if_any(self, hint: str | None = None) -> None:
        if not self.count:
            return
        more = self.count - len(self.items)
        message = "; ".join(self.items) + (f" (and {more} more)" if more else "")
        raise InputError(message, hint or "fix the file and import again; nothing was written")


_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "field required",
    "string_type": "expected text",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "list_type": "expected a list",
    "model_type": "expected a mapping of fields",
    "dict_type": "expected a mapping of fields",
}


def _message(err: Any) -> str:
    kind = err["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("string_too_short", "too_short") and (err.get("ctx") or {}).get("min_length") == 1:
        return "cannot be empty"
    return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse_record(record: RawRecord, problems: Problems) -> BaseModel | None:
    model = RECORD_MODELS[record.kind]
    try:
        return model.model_validate(record.data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.add(record.where(_place(err["loc"])), _message(err))
        return None


def _place(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The place in the file: without the tag pydantic adds for the kind of an invoice line
    (`lines.0.item.quantity` is the file's `lines[0].quantity`)."""
    out: list[Any] = []
    for index, part in enumerate(loc):
        if part in LINE_TAGS and index >= 2 and loc[index - 2] == "lines":
            continue
        out.append(part)
    return tuple(out)


def parse_records(
    records: list[RawRecord],
    problems: Problems,
    first_seen: dict[tuple[str, str], RawRecord] | None = None,
) -> dict[str, list[tuple[RawRecord, Any]]]:
    """Each record parsed into its model, by kind; an id seen twice for a kind is a problem
    (`first_seen` carries the ids already read, when an import is read in chunks)."""
    parsed: dict[str, list[tuple[RawRecord, Any]]] = {k: [] for k in KINDS}
    if first_seen is None:
        first_seen = {}
    for record in records:
        item = parse_record(record, problems)
        if item is None:
            continue
        key = (record.kind, item.id)  # type: ignore[attr-defined]
        if key in first_seen:
            problems.add(
                record.where(("id",)),
                f"duplicate id {key[1]!r} (also at {first_seen[key].where(('id',))})",
            )
            continue
        first_seen[key] = record
        parsed[record.kind].append((record, item))
    return parsed
