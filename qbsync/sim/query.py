"""The QBO query language subset: parse to a Query, evaluate against entity dicts."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from qbsync.sim.clock import parse_datetime
from qbsync.sim.faults import QBOError

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.|'')*')
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass
class Condition:
    field: str
    op: str  # = < > <= >= IN LIKE
    value: Any  # str | Decimal | bool | list


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QBOError(
                "4000", detail=f'Encountered "{text[pos : pos + 10].strip()}" at column {pos + 1}.'
            )
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise QBOError("4000", detail='Encountered "<EOF>". Query is incomplete.')
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].upper() in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            tok = self.peek()
            got = tok[1] if tok else "<EOF>"
            raise QBOError("4000", detail=f'Encountered "{got}". Was expecting "{word}".')

    def expect(self, kind: str, text: str | None = None) -> str:
        tok = self.take()
        if tok[0] != kind or (text is not None and tok[1] != text):
            raise QBOError("4000", detail=f'Encountered "{tok[1]}".')
        return tok[1]

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("\\'", "'").replace("''", "'")
        if kind == "num":
            return Decimal(text)
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise QBOError("4000", detail=f'Encountered "{text}". Was expecting a value.')

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        count = False
        if self.keyword("COUNT"):
            self.expect("punct", "(")
            self.expect("punct", "*")
            self.expect("punct", ")")
            count = True
        else:
            self.expect("punct", "*")
            # Clients ask for extra columns ("SELECT *, Sku"): the whole object comes anyway.
            while self.peek() == ("punct", ","):
                self.i += 1
                self.expect("word")
        self.expect_keyword("FROM")
        entity = self.expect("word")
        q = Query(entity=entity, count=count)
        if self.keyword("WHERE"):
            q.where.append(self.condition())
            while True:
                if self.keyword("AND"):
                    q.where.append(self.condition())
                elif self.keyword("OR"):
                    raise QBOError("4000", detail='Encountered "OR". OR is not supported.')
                else:
                    break
        if self.keyword("ORDERBY") or (self.keyword("ORDER") and self._by()):
            while True:
                fld = self.expect("word")
                desc = False
                if self.keyword("DESC"):
                    desc = True
                else:
                    self.keyword("ASC")
                q.order.append((fld, desc))
                if self.peek() == ("punct", ","):
                    self.i += 1
                    continue
                break
        while self.peek() is not None:
            if self.keyword("STARTPOSITION"):
                q.start = self._int()
            elif self.keyword("MAXRESULTS"):
                q.max_results = self._int()
            else:
                raise QBOError("4000", detail=f'Encountered "{self.take()[1]}".')
        # QBO takes STARTPOSITION 0 as 1, but refuses a page size outside 1..1000 (4001).
        q.start = max(q.start, 1)
        if q.max_results < 1:
            raise QBOError(
                "4001", detail=f"value {q.max_results} is too small. Min allowed value is 1"
            )
        if q.max_results > MAX_RESULTS:
            raise QBOError(
                "4001",
                detail=f"value {q.max_results} is too large. Max allowed value is {MAX_RESULTS}",
            )
        return q

    def _by(self) -> bool:
        self.expect_keyword("BY")
        return True

    def _int(self) -> int:
        v = self.value()
        if not isinstance(v, Decimal) or v != v.to_integral_value():
            raise QBOError("4000", detail="Expecting an integer")
        return int(v)

    def condition(self) -> Condition:
        fld = self.expect("word")
        if self.keyword("IN"):
            self.expect("punct", "(")
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.i += 1
                values.append(self.value())
            self.expect("punct", ")")
            return Condition(fld, "IN", values)
        if self.keyword("LIKE"):
            v = self.value()
            if not isinstance(v, str):
                raise QBOError("4000", detail="LIKE needs a string")
            return Condition(fld, "LIKE", v)
        kind, op = self.take()
        if kind != "op" or op in ("!=", "<>"):
            raise QBOError("4000", detail=f'Encountered "{op}". Was expecting an operator.')
        return Condition(fld, op, self.value())


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise QBOError("4000", detail="Query is empty")
    return _Parser(text).parse()


# ---------------------------------------------------------------- evaluation


def lookup(obj: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Case-insensitive dotted lookup; a reference compares by its value."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return False, None
        if part in cur:
            cur = cur[part]
            continue
        low = part.lower()
        key = next((k for k in cur if k.lower() == low), None)
        if key is None:
            return False, None
        cur = cur[key]
    if isinstance(cur, dict) and "value" in cur:
        cur = cur["value"]
    return True, cur


def _coerce(actual: Any, wanted: Any) -> tuple[Any, Any]:
    if isinstance(actual, bool) or isinstance(wanted, bool):
        if isinstance(wanted, str):
            wanted = wanted.lower() == "true"
        return bool(actual), wanted
    if isinstance(actual, (Decimal, int, float)) and not isinstance(actual, bool):
        try:
            a_num = actual if isinstance(actual, Decimal) else Decimal(str(actual))
            w_num = wanted if isinstance(wanted, Decimal) else _decimal(str(wanted))
            return a_num, w_num
        except Exception:
            return str(actual), str(wanted)
    a, w = str(actual), str(wanted)
    if len(a) > 10 and "T" in a and len(w) >= 10 and w[:4].isdigit():
        # A time compared with a date or time: compare as instants.
        try:
            da: datetime = parse_datetime(a)
            dw: datetime = parse_datetime(w)
            return da, dw
        except ValueError:
            pass
    if a.isdigit() and w.isdigit():
        return int(a), int(w)
    return a.casefold(), w.casefold()


@functools.lru_cache(maxsize=1024)
def _decimal(text: str) -> Decimal:
    return Decimal(text)


def _like(actual: Any, pattern: str) -> bool:
    rx = "^" + ".*".join(re.escape(p) for p in pattern.casefold().split("%")) + "$"
    return re.match(rx, str(actual).casefold(), re.DOTALL) is not None


def matches(obj: dict[str, Any], cond: Condition) -> bool:
    found, actual = lookup(obj, cond.field)
    if not found or actual is None:
        return False
    if cond.op == "LIKE":
        return _like(actual, str(cond.value))
    if cond.op == "IN":
        return any(_compare(actual, "=", v) for v in cond.value)
    return _compare(actual, cond.op, cond.value)


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    try:
        a, w = _coerce(actual, wanted)
        if op == "=":
            return bool(a == w)
        if op == "<":
            return bool(a < w)
        if op == ">":
            return bool(a > w)
        if op == "<=":
            return bool(a <= w)
        if op == ">=":
            return bool(a >= w)
    except TypeError:
        return False
    return False


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float, Decimal)):
        return (1, Decimal(str(value)))
    s = str(value)
    if s.isdigit():
        return (1, Decimal(s))
    if len(s) > 10 and "T" in s and s[:4].isdigit():
        try:
            return (2, parse_datetime(s).timestamp())
        except ValueError:
            pass
    return (3, s.casefold())
