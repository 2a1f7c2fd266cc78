"""Masking of secrets in anything that leaves the process as text (logs, errors, tracebacks).

Two layers: patterns for the shapes tokens travel in (headers, form and JSON fields, JWTs), and
the exact values of every secret this process has read or written, registered by secrets.py.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "[REDACTED]"

# Keys whose values are secret wherever they appear (JSON, YAML, form, query).
_SECRET_KEYS = (
    "access_token|refresh_token|id_token|client_secret|password|secret|token|"
    "x_refresh_token|admin_key|authorization"
)
# Keys that are secret only as OAuth query or form parameters (a JSON "code" is a QBO fault code).
_OAUTH_PARAMS = f"{_SECRET_KEYS}|code|state"
_PATTERNS = [
    # Authorization: Bearer xyz / Basic xyz
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # "access_token": "xyz"  or  'refresh_token': 'xyz'
    re.compile(rf"(?i)([\"']?(?:{_SECRET_KEYS})[\"']?\s*[:=]\s*[\"'])[^\"']+([\"'])"),
    # access_token=xyz in a form body or query string
    re.compile(rf"(?i)(?<![A-Za-z_])((?:{_OAUTH_PARAMS})=)[^&\s\"']+"),
    # JWTs
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    # client_secret: xyz  (YAML, or text with the value unquoted)
    re.compile(
        rf"(?i)((?<![A-Za-z_])(?:{_SECRET_KEYS})\s*:\s+)(?![\"'\[]|{re.escape(MASK)})[^\s,}}]+"
    ),
]

_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is masked wherever it shows up later."""
    if value and len(value) >= 6:
        with _known_lock:
            _known.add(value)


def redact(text: str) -> str:
    if not text:
        return text
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _PATTERNS[3].sub(MASK, text)
    text = _PATTERNS[4].sub(lambda m: f"{m.group(1)}{MASK}", text)
    return text


class RedactingFilter(logging.Filter):
    """Renders each record once, masks it, and keeps it on one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            message = f"{message} | {record.exc_text}"
            record.exc_text = None
            record.exc_info = None
        record.msg = redact(message).replace("\r", "\\r").replace("\n", "\\n")
        record.args = None
        return True
