"""qbsync.records: the typed records config.yaml is checked with."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import pytest

from qbsync.records import Check, Record, RecordError, field


def _seconds(value: Any, written: bool) -> float:
    if written and isinstance(value, int):
        raise ValueError(f"{value} has no unit")
    return float(str(value).removesuffix("s"))


Seconds = Annotated[float, Check(parse=_seconds)]
Key = Annotated[str, Check(pattern=r"^[a-z]+$", rule="a key is lowercase letters")]


class Inner(Record):
    wait: Seconds = field(5.0)
    tries: int = field(3, ge=1, le=10)


class Target(Record):
    name: str
    kind: Literal["a", "b"] = "a"
    url: str | None = None

    def check(self) -> None:
        if self.kind == "b" and not self.url:
            raise ValueError("a b target needs url")


class Outer(Record):
    flag: bool = True
    day: dt.date | None = None
    inner: Inner = field(factory=Inner)
    targets: list[Target] = field(factory=list)
    by_key: dict[Key, Inner] = field(factory=dict)


def problems(data: Any, *, written: bool = True) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(RecordError) as err:
        Outer.model_validate(data, written=written)
    return [(p.loc, p.message) for p in err.value.problems]


def test_defaults_and_plain_values() -> None:
    outer = Outer.model_validate(
        {"day": "2026-01-31", "inner": {"wait": "2s"}, "by_key": {"acme": {}}}, written=True
    )
    assert outer.day == dt.date(2026, 1, 31)
    assert outer.inner == Inner(wait=2.0, tries=3)
    assert outer.by_key["acme"].tries == 3
    assert outer.flag is True and outer.targets == []
    assert Outer().inner is not Outer().inner  # a factory per record


def test_every_problem_is_named_by_its_key() -> None:
    found = problems(
        {
            "flag": "maybe",
            "nope": 1,
            "inner": {"tries": 0, "wait": 5},
            "targets": [{"kind": "c"}, {"name": "x", "kind": "b"}],
            "by_key": {"Bad": {}},
            "day": "31/01/2026",
        }
    )
    assert sorted(found, key=str) == sorted(
        [
            (("nope",), "unknown key"),
            (("flag",), "expected true or false"),
            (("day",), "expected a date (YYYY-MM-DD)"),
            (("inner", "wait"), "5 has no unit"),
            (("inner", "tries"), "must be at least 1"),
            (("targets", 0, "kind"), "expected 'a' or 'b'"),
            (("targets", 0, "name"), "required"),
            (("targets", 1), "a b target needs url"),
            (("by_key", "Bad"), "a key is lowercase letters"),
        ],
        key=str,
    )
    assert str(RecordError([])) == ""


def test_hand_written_numbers_and_flags_are_read_as_before() -> None:
    # pydantic's lax mode checked config.yaml before: a file it took is still taken.
    outer = Outer.model_validate(
        {"flag": "no", "inner": {"tries": "7", "wait": "2s"}, "by_key": {"a": {"tries": 4.0}}}
    )
    assert outer.flag is False and outer.inner.tries == 7 and outer.by_key["a"].tries == 4
    assert Outer.model_validate({"flag": 1}).flag is True
    assert Outer.model_validate({"flag": " Off "}).flag is False


def test_what_is_not_a_value_of_the_type_is_refused() -> None:
    assert problems({"inner": {"tries": True}}) == [(("inner", "tries"), "expected a whole number")]
    assert problems({"inner": {"tries": 2.5}}) == [(("inner", "tries"), "expected a whole number")]
    assert problems({"inner": {"tries": "x"}}) == [(("inner", "tries"), "expected a whole number")]
    assert problems({"inner": {"tries": "--5"}}) == [
        (("inner", "tries"), "expected a whole number")
    ]
    assert problems({"inner": {"wait": float("nan")}}) == [(("inner", "wait"), "expected a number")]
    assert problems({"flag": "maybe"}) == [(("flag",), "expected true or false")]
    assert problems({"flag": 2}) == [(("flag",), "expected true or false")]
    assert problems({"targets": [{"name": 5}]}) == [(("targets", 0, "name"), "expected text")]
    assert problems({"targets": {"name": "x"}}) == [(("targets",), "expected a list")]
    assert problems({"inner": 3}) == [(("inner",), "expected a mapping of settings")]
    assert problems([]) == [((), "expected a mapping of settings")]
    # From code, a number of seconds is fine; from the user's file, it needs its unit.
    assert Outer.model_validate({"inner": {"wait": 7}}).inner.wait == 7.0


def test_assignment_is_checked_and_a_refused_value_changes_nothing() -> None:
    target = Target(name="x")
    with pytest.raises(RecordError, match="kind: expected 'a' or 'b'"):
        target.kind = "c"  # type: ignore[assignment]
    with pytest.raises(RecordError, match="a b target needs url"):
        target.kind = "b"
    assert target.kind == "a"
    with pytest.raises(RecordError, match="colour: unknown key"):
        target.colour = "red"
    target.url = "https://example.com"
    target.kind = "b"
    assert target.model_dump() == {"name": "x", "kind": "b", "url": "https://example.com"}


def test_dump_of_what_was_set_at_every_level() -> None:
    outer = Outer.model_validate({"inner": {"tries": 4}, "day": dt.date(2026, 2, 1)})
    assert outer.model_dump(mode="json", exclude_unset=True) == {
        "day": "2026-02-01",
        "inner": {"tries": 4},
    }
    assert outer.model_dump()["day"] == dt.date(2026, 2, 1)
    assert "day" not in Outer().model_dump(exclude_none=True)
    copy = outer.model_copy(update={"flag": False})
    assert copy.model_dump(exclude_unset=True)["flag"] is False
    assert outer.flag is True and "flag" not in outer.model_dump(exclude_unset=True)
    with pytest.raises(RecordError, match="flag: expected true or false"):
        outer.model_copy(update={"flag": "perhaps"})


def test_a_record_is_taken_as_it_is_where_one_is_expected() -> None:
    inner = Inner(tries=9)
    outer = Outer(by_key={"acme": inner})
    assert outer.by_key["acme"] is inner
    assert Outer.model_validate(outer) is outer
    assert repr(inner) == "Inner(wait=5.0, tries=9)"
    assert Inner() != Inner(tries=9) and Inner() == Inner()
