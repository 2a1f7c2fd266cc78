"""Typed settings records: fields checked when built, when assigned and when read from a file,
every problem named by its dotted key (`sync.attempt_cap`, `companies.acme.go_live`).

config.yaml's models are built on this rather than on pydantic: every command reads the config,
and pydantic costs about 60 ms to load on each start against 2 ms here. The ledger's import
models, which validate thousands of records, stay on pydantic.

A record declares its fields as annotated class attributes:

    class Sync(Record):
        interval: Duration = field(900.0, description="time between cycles")
        attempt_cap: int = field(5, ge=1, le=100)

Understood types: str, int, float, bool, datetime.date, Literal[...], X | None, list[X],
dict[K, V], other records, and Annotated[T, Check(...)] for a parse step or a pattern.
"""

from __future__ import annotations

import datetime as dt
import inspect
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from qbsync.record_values import (
    INVALID,
    SCALARS,
    Converter,
    Loc,
    Problem,
    bounded,
    checked,
    dict_of,
    list_of,
    literal,
    optional,
)
from qbsync.record_values import Check as Check  # records are declared with it


class RecordError(ValueError):
    """One or more problems, each at its key."""

    def __init__(self, problems: list[Problem]):
        from qbsync.yamlfile import dotted  # a problem is rare: every start reads a config

        self.problems = problems
        super().__init__(
            "; ".join(f"{dotted(p.loc) or '(top level)'}: {p.message}" for p in problems)
        )


_MISSING: Any = object()


class FieldInfo:
    def __init__(
        self,
        default: Any = _MISSING,
        *,
        factory: Callable[[], Any] | None = None,
        ge: int | None = None,
        le: int | None = None,
        description: str = "",
    ):
        self.default, self.factory = default, factory
        self.ge, self.le, self.description = ge, le, description
        self.annotation: Any = None  # the resolved type, set with the class's spec
        self.convert: Converter = _no_converter  # the type's converter, then ge and le

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is None

    def make_default(self) -> Any:
        return self.factory() if self.factory is not None else self.default


def field(default: Any = _MISSING, **options: Any) -> Any:
    """A field's default and constraints: `factory`, `ge`, `le`, `description`."""
    return FieldInfo(default, **options)


def _no_converter(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
    raise TypeError("the record's types are not resolved")


def _record(cls: type[Record]) -> Converter:
    def convert(value: Any, loc: Loc, written: bool, problems: list[Problem]) -> Any:
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            problems.append(Problem(loc, "expected a mapping of settings"))
            return INVALID
        return cls._build(value, loc, written, problems)

    return convert


def converter(annotation: Any) -> Converter:
    """The converter for a resolved type annotation."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        checks = [m for m in annotation.__metadata__ if isinstance(m, Check)]
        return checked(converter(args[0]), checks)
    if origin is typing.Literal:
        return literal(args)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1 or len(rest) == len(args):
            raise TypeError(f"unsupported union {annotation!r}")
        return optional(converter(rest[0]))
    if origin is list:
        return list_of(converter(args[0]))
    if origin is dict:
        return dict_of(converter(args[0]), converter(args[1]))
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return _record(annotation)
    if annotation in SCALARS:
        return SCALARS[annotation]
    raise TypeError(f"unsupported field type {annotation!r}")


class Record:
    """A settings record: see the module's docstring. Unknown keys are refused."""

    _fields: ClassVar[dict[str, FieldInfo] | None] = None
    _set: set[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = None  # resolved on first use, once every record of the module exists

    @classmethod
    def record_fields(cls) -> dict[str, FieldInfo]:
        """The fields, in declaration order, their types resolved."""
        if cls.__dict__.get("_fields") is None:
            hints = typing.get_type_hints(cls, include_extras=True)
            fields: dict[str, FieldInfo] = {}
            for klass in reversed(cls.__mro__):
                for name in inspect.get_annotations(klass):
                    if name.startswith("_"):
                        continue
                    raw = klass.__dict__.get(name, _MISSING)
                    info = raw if isinstance(raw, FieldInfo) else FieldInfo(raw)
                    info.annotation = hints[name]
                    info.convert = bounded(converter(hints[name]), info.ge, info.le)
                    fields[name] = info
            cls._fields = fields
        assert cls._fields is not None
        return cls._fields

    def check(self) -> None:
        """Checks across fields, run after the fields are valid: raise ValueError to refuse."""

    @classmethod
    def _build(cls, data: dict[Any, Any], loc: Loc, written: bool, problems: list[Problem]) -> Any:
        fields = cls.record_fields()
        before = len(problems)
        for key in data:
            if key not in fields:
                problems.append(Problem((*loc, key), "unknown key"))
        values: dict[str, Any] = {}
        for name, info in fields.items():
            if name in data:
                values[name] = info.convert(data[name], (*loc, name), written, problems)
            elif info.required:
                problems.append(Problem((*loc, name), "required"))
            else:
                values[name] = info.make_default()
        if len(problems) != before:
            return INVALID
        record = cls.__new__(cls)
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(record, "_set", {k for k in data if k in fields})
        try:
            record.check()
        except ValueError as exc:
            problems.append(Problem(loc, str(exc)))
            return INVALID
        return record

    @classmethod
    def model_validate(cls, data: Any, *, written: bool = False) -> Any:
        """A record from plain data (a YAML mapping); RecordError names every problem."""
        if isinstance(data, cls):
            return data
        problems: list[Problem] = []
        record = _record(cls)(data, (), written, problems)
        if problems:
            raise RecordError(problems)
        return record

    def __init__(self, **values: Any):
        built = type(self).model_validate(values)
        object.__setattr__(self, "__dict__", built.__dict__)  # its set keys come with it

    def __setattr__(self, name: str, value: Any) -> None:
        fields = type(self).record_fields()
        if name not in fields:
            raise RecordError([Problem((name,), "unknown key")])
        problems: list[Problem] = []
        value = fields[name].convert(value, (name,), False, problems)
        if problems:
            raise RecordError(problems)
        old = self.__dict__.get(name, _MISSING)
        self.__dict__[name] = value
        try:
            self.check()
        except ValueError as exc:
            self.__dict__[name] = old
            raise RecordError([Problem((), str(exc))]) from None
        self._set.add(name)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A shallow copy; `update`'s values are checked and count as set."""
        copy = type(self).__new__(type(self))
        object.__setattr__(copy, "__dict__", dict(self.__dict__))
        object.__setattr__(copy, "_set", set(self._set))
        for name, value in (update or {}).items():
            setattr(copy, name, value)
        return copy

    def model_dump(
        self, *, mode: str = "python", exclude_none: bool = False, exclude_unset: bool = False
    ) -> dict[str, Any]:
        """Plain data. mode="json": dates as ISO text. `exclude_unset`: only what was given
        (in the file, a constructor or an assignment), at every level."""

        def plain(value: Any) -> Any:
            if isinstance(value, Record):
                return value.model_dump(
                    mode=mode, exclude_none=exclude_none, exclude_unset=exclude_unset
                )
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if mode == "json" and isinstance(value, dt.date):
                return value.isoformat()
            return value

        return {
            name: plain(value)
            for name, value in self._items()
            if not (exclude_unset and name not in self._set)
            and not (exclude_none and value is None)
        }

    def _items(self) -> Iterator[tuple[str, Any]]:
        for name in type(self).record_fields():
            yield name, self.__dict__[name]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and dict(self._items()) == dict(other._items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self._items())
        return f"{type(self).__name__}({inner})"
