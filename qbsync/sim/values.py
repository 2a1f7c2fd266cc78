"""Money and JSON: Decimal inside, JSON numbers outside."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def to_decimal(value: Any) -> Decimal | None:
    """Accept numbers and numeric strings (some clients send Decimal as text)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class RawJSON:
    """A public view already written as JSON text (a stored object's view): `dumps` puts the
    text into its answer as it is, without parsing it and writing it again."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self) -> Any:
        return json.loads(self.text)


def _number(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, RawJSON):
        return obj.value()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def render(obj: Any) -> Any:
    """Public view of an internal object: no private (underscore) keys at the top level, which
    is the only place they live, and Decimals as JSON numbers. A float's repr of a two-place
    amount is exact text. The JSON round trip runs in C, which matters for big CDC answers."""
    if isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if not k.startswith("_")}
    return json.loads(json.dumps(obj, default=_number))


def public_text(obj: dict[str, Any]) -> str:
    """The JSON text of an object's public view: what `dumps(render(obj))` writes."""
    public = {k: v for k, v in obj.items() if not k.startswith("_")}
    return json.dumps(public, separators=(",", ":"), default=_number)


_RAW = re.compile(r'"\\u0000raw:(\d+)"')


def dumps(obj: Any) -> bytes:
    """JSON bytes of an already public object (views, faults): Decimals become numbers, and
    views held as JSON text go in as they are."""
    raws: list[str] = []

    def default(o: Any) -> Any:
        if isinstance(o, RawJSON):
            raws.append(o.text)
            return f"\x00raw:{len(raws) - 1}"
        return _number(o)

    text = json.dumps(obj, separators=(",", ":"), default=default)
    if raws:
        text, n = _RAW.subn(lambda m: raws[int(m.group(1))], text)
        if n != len(raws):  # a string of the caller's looked like a marker: the plain way
            text = json.dumps(obj, separators=(",", ":"), default=_number)
    return text.encode()


def loads(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


def _encode_state(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return {"$d": str(obj)}
    if isinstance(obj, dict):
        return {k: _encode_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode_state(v) for v in obj]
    return obj


def _decode_state(obj: Any) -> Any:
    if isinstance(obj, dict):
        if len(obj) == 1 and "$d" in obj:
            return Decimal(obj["$d"])
        return {k: _decode_state(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_state(v) for v in obj]
    return obj


def state_dumps(obj: Any) -> str:
    """Lossless JSON for --state files (Decimals kept exact, private keys kept)."""
    return json.dumps(_encode_state(obj), indent=1, sort_keys=True)


def state_loads(text: str) -> Any:
    return _decode_state(json.loads(text))
