"""Typed QuickBooks Online errors, parsed from every fault shape QBO and its gateway send.

Shapes: JSON `{"Fault": {"Error": [...], "type"}}`, the gateway's lower-case
`{"fault": {"error": [...], "type"}}`, XML `<Fault type=...><Error code=...>` (throttle 3001,
authentication 100), and OAuth's `{"error": "invalid_grant"}`. Messages stay on one line and
carry the `intuit_tid`, never a token.
"""

from __future__ import annotations

import json
import re
from typing import Any

from qbsync.errors import ErrorCode, QbsyncError
from qbsync.redact import redact


class QboError(QbsyncError):
    code = ErrorCode.QBO_ERROR

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        fault_type: str | None = None,
        qbo_code: str | None = None,
        detail: str | None = None,
        element: str | None = None,
        intuit_tid: str | None = None,
    ):
        self.status = status
        self.fault_type = fault_type
        self.qbo_code = qbo_code
        self.detail = detail
        self.element = element
        self.intuit_tid = intuit_tid
        text = _one_line(message)
        if intuit_tid:
            text = f"{text} (intuit_tid {intuit_tid})"
        super().__init__(redact(text), hint)


class AuthenticationError(QboError):
    """401 even after one refresh and one retry."""

    code = ErrorCode.RECONNECT_REQUIRED


class AuthorizationError(QboError):
    """403 / 3100 / 120: the app or the connecting user lost access to the company."""

    code = ErrorCode.RECONNECT_REQUIRED


class InvalidGrant(QboError):
    """The refresh token is dead (revoked, expired, or rotated away): reconnect."""

    code = ErrorCode.RECONNECT_REQUIRED


class StaleObjectError(QboError):
    """5010: the SyncToken sent is not the latest. Re-read by Id, then update."""


class ObjectNotFound(QboError):
    """610: deleted, or an inactive reference."""


class DuplicateNameError(QboError):
    """6240: the name is taken (inactive records included)."""


class DuplicateDocNumber(QboError):
    """6140: the document number is already used."""


class InvalidReference(QboError):
    """2500: a reference to an id QBO does not accept (often an inactive record)."""


class ThrottledError(QboError):
    """429 / 3001 after the retries ran out."""


class QboValidationError(QboError):
    """Any other 4xx validation or business fault."""


class ServerError(QboError):
    """5xx / 10000 after the retries ran out."""


class QboNetworkError(QboError):
    """QuickBooks could not be reached (after retries)."""

    code = ErrorCode.NETWORK


class UnknownOutcome(QboError):
    """A write whose answer was lost and that could not be safely retried: the caller must look
    for its own earlier write before writing again."""


_BY_CODE: dict[str, type[QboError]] = {
    "100": AuthenticationError,
    "3200": AuthenticationError,
    "120": AuthorizationError,
    "3100": AuthorizationError,
    "5010": StaleObjectError,
    "610": ObjectNotFound,
    "6240": DuplicateNameError,
    "6140": DuplicateDocNumber,
    "2500": InvalidReference,
    "3001": ThrottledError,
    "10000": ServerError,
}

_HINTS: dict[type[QboError], str] = {
    AuthenticationError: "reconnect with `qbsync connect`",
    AuthorizationError: "the app or the connecting user lost access; reconnect with an admin",
    StaleObjectError: "re-read the object and try again",
    ThrottledError: "QuickBooks throttled this company; wait a minute and try again",
}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _code_of(raw: Any) -> str | None:
    """'003001' -> '3001'; QBO pads some codes with zeros inside messages."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    return text.lstrip("0") or "0" if text.isdigit() else text


def error_for(
    *,
    status: int | None,
    fault_type: str | None,
    qbo_code: str | None,
    message: str | None,
    detail: str | None,
    element: str | None = None,
    intuit_tid: str | None = None,
) -> QboError:
    """The most specific error for one fault."""
    cls = _BY_CODE.get(qbo_code or "")
    if cls is None:
        if status == 401:
            cls = AuthenticationError
        elif status == 403:
            cls = AuthorizationError
        elif status == 429:
            cls = ThrottledError
        elif (status or 0) >= 500 or (fault_type or "").lower() in ("systemfault", "system"):
            cls = ServerError
        else:
            cls = QboValidationError
    parts = [p for p in (message, detail) if p]
    text = ": ".join(dict.fromkeys(parts)) or "QuickBooks Online answered with an error"
    prefix = f"QuickBooks error {qbo_code}" if qbo_code else "QuickBooks error"
    if status:
        prefix += f" (HTTP {status})"
    if element:
        text += f" [{element}]"
    return cls(
        f"{prefix}: {text}",
        _HINTS.get(cls),
        status=status,
        fault_type=fault_type,
        qbo_code=qbo_code,
        detail=detail,
        element=element,
        intuit_tid=intuit_tid,
    )


def fault_from_dict(
    fault: dict[str, Any], *, status: int | None, intuit_tid: str | None
) -> QboError:
    """`Fault` (QBO) or `fault` (gateway) object -> error, from its first Error."""
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, dict):
        first = {}

    def pick(*keys: str) -> str | None:
        for key in keys:
            if first.get(key) not in (None, ""):
                return str(first[key])
        return None

    return error_for(
        status=status,
        fault_type=fault.get("type"),
        qbo_code=_code_of(pick("code")),
        message=pick("Message", "message"),
        detail=pick("Detail", "detail"),
        element=pick("element"),
        intuit_tid=intuit_tid,
    )


def _xml_fault(text: str, status: int | None, intuit_tid: str | None) -> QboError | None:
    import xml.etree.ElementTree as ET  # here: QuickBooks rarely answers in XML

    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    fault = next((e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Fault"), None)
    if fault is None:
        return None
    error = next((e for e in fault.iter() if e.tag.rsplit("}", 1)[-1] == "Error"), None)

    def child(name: str) -> str | None:
        if error is None:
            return None
        for e in error:
            if e.tag.rsplit("}", 1)[-1] == name and e.text:
                return e.text.strip()
        return None

    return error_for(
        status=status,
        fault_type=fault.get("type"),
        qbo_code=_code_of(error.get("code") if error is not None else None),
        message=child("Message"),
        detail=child("Detail"),
        element=error.get("element") if error is not None else None,
        intuit_tid=intuit_tid,
    )


_ERROR_CODE_IN_TEXT = re.compile(r"errorCode=0*(\d+)")


def parse_fault(status: int | None, text: str, intuit_tid: str | None = None) -> QboError:
    """An error answer's body, in whichever shape it came, as a typed error."""
    stripped = (text or "").strip()
    if stripped.startswith("<"):
        err = _xml_fault(stripped, status, intuit_tid)
        if err is not None:
            return err
    try:
        data = json.loads(stripped) if stripped else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        fault = data.get("Fault") or data.get("fault")
        if isinstance(fault, dict):
            return fault_from_dict(fault, status=status, intuit_tid=intuit_tid)
        if isinstance(data.get("error"), str):
            return oauth_error(status, data, intuit_tid)
    # An unknown body (an HTML error page from a proxy): classify by status, keep it short.
    match = _ERROR_CODE_IN_TEXT.search(stripped)
    return error_for(
        status=status,
        fault_type=None,
        qbo_code=match.group(1) if match else None,
        message=f"unexpected answer: {stripped[:120]}" if stripped else "empty answer",
        detail=None,
        intuit_tid=intuit_tid,
    )


def oauth_error(status: int | None, data: dict[str, Any], intuit_tid: str | None) -> QboError:
    """The token endpoint's `{"error": ..., "error_description": ...}`."""
    error = str(data.get("error"))
    description = data.get("error_description")
    text = f"Intuit's token endpoint refused: {error}"
    if description:
        text += f" ({description})"
    cls: type[QboError] = InvalidGrant if error == "invalid_grant" else QboError
    return cls(text, status=status, fault_type="OAuth", qbo_code=error, intuit_tid=intuit_tid)
