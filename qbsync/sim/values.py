"""Money and JSON: Decimal inside, JSON numbers outside."""

from __future__ import annotations

import json
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


def _number(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return float(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def render(obj: Any) -> Any:
    """Public view of an internal object: no private (underscore) keys at the top level, which
    is the only place they live, and Decimals as JSON numbers. A float's repr of a two-place
    amount is exact text. The JSON round trip runs in C, which matters for big CDC answers."""
    if isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if not k.startswith("_")}
    return json.loads(json.dumps(obj, default=_number))


def dumps(obj: Any) -> bytes:
    """JSON bytes of an already public object (views, faults): Decimals become numbers."""
    return json.dumps(obj, separators=(",", ":"), default=_number).encode()


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
