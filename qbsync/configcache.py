"""config.yaml as last parsed, kept in the state directory as JSON: reading it back costs a
fraction of loading PyYAML and parsing the file again (15 ms of every command, cron's
`sync run` included).

The copy is used only for the very text it was parsed from, at the same path, by the same version
of qbsync: the file is read every time (a small read), and compared whole, so no edit however
quick goes unseen. Anything else, or a copy that cannot be read, and the text is parsed again.
Only a config that passed validation is kept. Dates (a go-live date) are not JSON: they are kept
as text, with the places they go back to.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from qbsync import __version__, paths

CACHE_NAME = "config-cache.json"
MISSING = object()
Place = list[str | int]


def _stamp(path: Path, text: str) -> list[str]:
    return [__version__, str(path), text]


def read(path: Path, text: str) -> Any:
    """The document kept for this text of this file, or MISSING."""
    try:
        kept = json.loads((paths.state_dir() / CACHE_NAME).read_text(encoding="utf-8"))
        if kept["stamp"] != _stamp(path, text):
            return MISSING
        data = kept["data"]
        for place, kind, iso in kept["dates"]:
            when = dt.date.fromisoformat if kind == "date" else dt.datetime.fromisoformat
            _put(data, place, when(iso))
        return data
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return MISSING


def write(path: Path, text: str, data: Any) -> None:
    """Keep `data`, what this text of this file parsed to (and passed validation). Nothing is
    kept for a document holding what JSON cannot say, nor when the state directory is not
    writable: the copy only saves time."""
    dates: list[tuple[Place, str, str]] = []
    try:
        plain = _plain(data, [], dates)
        kept = json.dumps({"stamp": _stamp(path, text), "data": plain, "dates": dates})
        paths.write_private(paths.state_dir() / CACHE_NAME, kept)
    except (OSError, TypeError, ValueError):
        return


def _plain(value: Any, place: Place, dates: list[tuple[Place, str, str]]) -> Any:
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a key that is not text")
        return {k: _plain(v, [*place, k], dates) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, [*place, i], dates) for i, v in enumerate(value)]
    if isinstance(value, dt.datetime):  # before date: a datetime is a date too
        dates.append((place, "datetime", value.isoformat()))
        return None
    if isinstance(value, dt.date):
        dates.append((place, "date", value.isoformat()))
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON")


def _put(data: Any, place: Place, value: Any) -> None:
    for part in place[:-1]:
        data = data[part]
    data[place[-1]] = value
