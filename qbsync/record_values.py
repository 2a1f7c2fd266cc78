"""Converting one value of a settings file to its typed value (records.py builds records of
them): text, numbers and flags read as a hand-written file means them, dates, choices, optional
values, lists, mappings, parse steps and patterns, bounds. Each converter returns the value, or
records its problems (at their key) and returns INVALID.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

Loc = tuple[str | int, ...]


class Problem(NamedTuple):
    loc: Loc
    message: str


@dataclass(frozen=True)
class Check:
    """Annotated metadata. `parse(value, written)` runs first (`written`: the value comes from
    the user's file or `config set`, not from code); `pattern` is checked on the result, and
    `rule` is what a mismatch says."""

    parse: Callable[[Any, bool], Any] | None = None
    pattern: str | None = None
    rule: str | None = None


class _Invalid:
    pass


INVALID: Any = _Invalid()
# A converter turns an input into the field's value, or records its problems and gives INVALID.
Converter = Callable[[Any, Loc, bool, list[Problem]], Any]


def _str(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        return value
    problems.append(Problem(loc, "expected text"))
    return INVALID


# What a hand-edited file may say for a number or a flag, as pydantic's lax mode (which checked
# config.yaml before) took it: quoted numbers, a whole float, yes/no words. A bool is no number.
_WHOLE = re.compile(r"\s*[+-]?\d+\s*\Z")


def _int(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.match(value):
        return int(value)  # exactly, however long
    number = _number(value)
    if number is not None and number.is_integer():
        return int(number)
    problems.append(Problem(loc, "expected a whole number"))
    return INVALID


def _float(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
    number = _number(value)
    if number is not None:
        return number
    problems.append(Problem(loc, "expected a number"))
    return INVALID


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None  # no nan, no inf


_FLAGS = {"true": True, "t": True, "yes": True, "y": True, "on": True, "1": True}
_FLAGS |= {"false": False, "f": False, "no": False, "n": False, "off": False, "0": False}


def _bool(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    problems.append(Problem(loc, "expected true or false"))
    return INVALID


def _date(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem(loc, "expected a date (YYYY-MM-DD)"))
    return INVALID


def literal(allowed: tuple[Any, ...]) -> Converter:
    words = [repr(a) if isinstance(a, str) else str(a) for a in allowed]
    expected = "expected " + (
        words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    )

    def convert(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        for option in allowed:
            if value == option and type(value) is type(option):
                return option
        problems.append(Problem(loc, expected))
        return INVALID

    return convert


def optional(inner: Converter) -> Converter:
    def convert(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        return None if value is None else inner(value, loc, written, problems)

    return convert


def list_of(item: Converter) -> Converter:
    def convert(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        if not isinstance(value, list | tuple):
            problems.append(Problem(loc, "expected a list"))
            return INVALID
        before = len(problems)
        out = [item(v, (*loc, i), written, problems) for i, v in enumerate(value)]
        return out if len(problems) == before else INVALID

    return convert


def dict_of(key: Converter, item: Converter) -> Converter:
    def convert(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append(Problem(loc, "expected a mapping"))
            return INVALID
        before = len(problems)
        out = {}
        for k, v in value.items():
            out[key(k, (*loc, k), written, problems)] = item(v, (*loc, k), written, problems)
        return out if len(problems) == before else INVALID

    return convert


def checked(inner: Converter, checks: list[Check]) -> Converter:
    def convert(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        for check in checks:
            if check.parse is not None:
                try:
                    value = check.parse(value, written)
                except ValueError as exc:
                    problems.append(Problem(loc, str(exc)))
                    return INVALID
        value = inner(value, loc, written, problems)
        if value is INVALID or value is None:
            return value
        for check in checks:
            if check.pattern is not None and not re.match(check.pattern, value):
                problems.append(Problem(loc, check.rule or f"does not match {check.pattern}"))
                return INVALID
        return value

    return convert


def bounded(convert: Converter, ge: int | None, le: int | None) -> Converter:
    if ge is None and le is None:
        return convert

    def within(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        value = convert(value, loc, written, problems)
        if value is INVALID or value is None:
            return value
        if ge is not None and value < ge:
            problems.append(Problem(loc, f"must be at least {ge}"))
            return INVALID
        if le is not None and value > le:
            problems.append(Problem(loc, f"must be at most {le}"))
            return INVALID
        return value

    return within


# The plain types a field may have, and their converters.
SCALARS: dict[Any, Converter] = {str: _str, int: _int, bool: _bool, float: _float, dt.date: _date}
